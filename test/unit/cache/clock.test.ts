import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoredAnswer } from '../../../src/cache/entity-cache.js';
import { createMemoryCache } from '../../../src/cache/entity-cache.js';
import { ResponseCache } from '../../../src/cache/response-cache.js';
import { ManualClock } from '../defender/fake-defender.js';

/**
 * The caches read time only through their clock: a test moves it by hand and sees entries expire, with no
 * real time passing (the system clock stays where it is).
 */

const answer = (id: string, storedAt: number): StoredAnswer => ({ status: 200, body: { id }, storedAt });

afterEach(() => {
  vi.useRealTimers();
});

describe('the memory cache of answers', () => {
  it('keeps an answer for its TTL on the injected clock', async () => {
    const clock = new ManualClock();
    const cache = createMemoryCache({ clock });
    await cache.set('k', answer('a', clock.now()), 60_000);
    clock.t += 60_000;
    expect(await cache.get('k')).toEqual(answer('a', clock.now() - 60_000));
    clock.t += 1;
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getMany(['k'])).toEqual([undefined]);
  });

  it('sweeps expired answers on its timer, without a read', async () => {
    vi.useFakeTimers();
    const clock = new ManualClock();
    const cache = createMemoryCache({ clock, sweepEveryMs: 100 });
    await cache.set('short', answer('a', clock.now()), 1_000);
    await cache.set('long', answer('b', clock.now()), 60_000);
    const both = cache.bytes!;
    clock.t += 1_001;
    // Expired on the clock, but only the sweep frees its bytes.
    expect(cache.bytes).toBe(both);
    await vi.advanceTimersByTimeAsync(100);
    expect(cache.bytes).toBeGreaterThan(0);
    expect(cache.bytes).toBeLessThan(both);
    clock.t += 59_000;
    await vi.advanceTimersByTimeAsync(100);
    expect(cache.bytes).toBe(0);
  });
});

describe('the response cache', () => {
  const result = (validUntil: number) => ({ data: { machine: { id: 'a' } }, validUntil, answers: 1 });

  it('serves a result until its validUntil on the injected clock, then drops it', () => {
    const clock = new ManualClock();
    const cache = new ResponseCache({ maxBytes: 1_000_000, clock });
    cache.set('k', result(clock.now() + 500));
    clock.t += 499;
    expect(cache.get('k')).toEqual(result(clock.now() + 1));
    clock.t += 1;
    expect(cache.get('k')).toBeUndefined();
    // Gone for good: moving the clock back does not bring it back.
    clock.t -= 100;
    expect(cache.get('k')).toBeUndefined();
  });

  it('does not keep a result that is no longer valid', () => {
    const clock = new ManualClock();
    const cache = new ResponseCache({ maxBytes: 1_000_000, clock });
    cache.set('k', result(clock.now()));
    expect(cache.get('k', clock.now() - 1)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('frees expired results on its sweep', async () => {
    vi.useFakeTimers();
    const clock = new ManualClock();
    const cache = new ResponseCache({ maxBytes: 1_000_000, clock, sweepEveryMs: 100 });
    cache.set('k', result(clock.now() + 500));
    expect(cache.bytes).toBeGreaterThan(0);
    clock.t += 501;
    await vi.advanceTimersByTimeAsync(100);
    expect(cache.bytes).toBe(0);
  });
});
