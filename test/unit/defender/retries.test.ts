import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GatewayError } from '../../../src/errors.js';
import { retryAfterMs } from '../../../src/defender/fetch.js';
import { MACHINE, codeOf, fakeDefender } from './fake-defender.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('retries after 5xx, timeouts and network errors', () => {
  it('waits a jittered, doubling backoff before each retry', async () => {
    // random 0.5: half of min(cap, base·2^n), i.e. 100 ms, then 200 ms.
    const { sent, get } = fakeDefender((_, n) => (n < 2 ? 503 : 200), {
      maxRetries: 2,
      backoffBaseMs: 100,
      backoffCapMs: 10_000,
      random: () => 0.5,
    });
    const answer = get('a');
    await vi.advanceTimersByTimeAsync(99);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await expect(answer).resolves.toEqual({ status: 200, body: { id: 'a', n: 2 } });
    expect(sent).toHaveLength(3);
  });

  it('never waits longer than the cap', async () => {
    const { sent, get } = fakeDefender(() => 500, {
      maxRetries: 3,
      backoffBaseMs: 100,
      backoffCapMs: 150,
      random: () => 0.999,
    });
    const failed = codeOf(get('a'));
    for (const expected of [2, 3, 4]) {
      await vi.advanceTimersByTimeAsync(150);
      expect(sent).toHaveLength(expected);
    }
    expect(await failed).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('stops at once, with no further request, when the caller aborts during the backoff', async () => {
    const { sent, get, scope } = fakeDefender(() => 503, {
      maxRetries: 5,
      backoffBaseMs: 1_000,
      backoffCapMs: 10_000,
      random: () => 1,
    });
    const abort = new AbortController();
    const call = get('a', scope({ signal: abort.signal })).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error('client disconnected');
    abort.abort(reason);
    expect(await call).toBe(reason);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toHaveLength(1);
  });

  it('counts every attempt in the operation’s calls', async () => {
    const { get, scope } = fakeDefender((_, n) => (n === 0 ? 502 : 200), { maxRetries: 1 });
    const s = scope();
    const answer = get('a', s);
    await vi.advanceTimersByTimeAsync(0);
    await answer;
    expect(s.stats.calls).toBe(2);
    expect(s.stats.byApi[MACHINE]).toEqual({ calls: 2, cacheHits: 0 });
  });
});

describe('429s', () => {
  it('pause the API in the limiter for Retry-After, and fail RATE_LIMITED after the throttle retries', async () => {
    const throttled = () => new Response(null, { status: 429, headers: { 'retry-after': '7' } });
    const { limiter, sent, get } = fakeDefender(throttled, { maxThrottleRetries: 2 });
    const error = (await get('a').catch((e: unknown) => e)) as GatewayError;
    expect([error.code, error.extensions]).toEqual(['RATE_LIMITED', { retryAfterSeconds: 7 }]);
    expect(sent).toHaveLength(3);
    expect(limiter.paused).toEqual([
      [MACHINE, 7_000],
      [MACHINE, 7_000],
      [MACHINE, 7_000],
    ]);
    // Each retry waited its turn in the limiter, which is where the pause applies.
    expect(limiter.acquired).toHaveLength(3);
  });

  it('answer once Defender stops throttling, without a backoff of their own', async () => {
    const { sent, get } = fakeDefender((_, n) => (n === 0 ? 429 : 200), { maxThrottleRetries: 1 });
    await expect(get('a')).resolves.toEqual({ status: 200, body: { id: 'a', n: 1 } });
    expect(sent).toHaveLength(2);
  });

  it('read a Retry-After date against the injected clock', async () => {
    const { clock, limiter, get } = fakeDefender(() => {
      const at = new Date(clock.now() + 5_000).toUTCString();
      return new Response(null, { status: 429, headers: { 'retry-after': at } });
    });
    await codeOf(get('a'));
    expect(limiter.paused).toEqual([[MACHINE, 5_000]]);
    expect(retryAfterMs(null, clock.now())).toBe(1_000);
    expect(retryAfterMs('soon', clock.now())).toBe(1_000);
    expect(retryAfterMs(new Date(clock.now() - 9_000).toUTCString(), clock.now())).toBe(0);
  });
});
