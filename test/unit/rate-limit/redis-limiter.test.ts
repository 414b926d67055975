import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RedisConnection } from '../../../src/cache/redis.js';
import { RedisRateLimiter } from '../../../src/rate-limit/redis-limiter.js';
import { parseRateLimits } from '../../../src/rate-limit/windows.js';

const API = 'machines' as const;

/** A Redis connection that never answers, or fails every command at once: no socket either way. */
const redisThat = (behaviour: 'stalls' | 'fails') =>
  ({
    sendCommand: vi.fn(() =>
      behaviour === 'stalls' ? new Promise(() => undefined) : Promise.reject(new Error('ECONNREFUSED')),
    ),
  }) as unknown as RedisConnection;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Asks for a permit; the record says when (fake ms) it was granted or refused. */
function ask(limiter: RedisRateLimiter) {
  const seen: { at?: number; code?: string } = {};
  limiter.acquire(API, { deadline: Date.now() + 60_000 }).then(
    () => (seen.at = Date.now()),
    (error: { code: string }) => Object.assign(seen, { at: Date.now(), code: error.code }),
  );
  return seen;
}

describe('RedisRateLimiter without Redis', () => {
  it('counts a Redis that does not answer within its timeout as down, and serves its share of the budget', async () => {
    const modes: string[] = [];
    const limiter = new RedisRateLimiter(parseRateLimits('4/1s'), {
      client: redisThat('stalls'),
      replicas: 2,
      redisTimeoutMs: 100,
      marginMs: () => 0,
      onModeChange: (mode) => modes.push(mode),
    });
    const calls = [ask(limiter), ask(limiter), ask(limiter)];
    await vi.advanceTimersByTimeAsync(99);
    expect(calls.map((c) => c.at)).toEqual([undefined, undefined, undefined]);
    expect(limiter.shared).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    // Down at 100 ms: the share is 4 / 2 replicas = 2 calls a second.
    expect(limiter.shared).toBe(false);
    expect(modes).toEqual(['local']);
    expect(calls.map((c) => c.at)).toEqual([100, 100, undefined]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls[2]!.at).toBe(1_100);
    limiter.close();
  });

  it('holds a Retry-After pause in its share while Redis fails', async () => {
    const limiter = new RedisRateLimiter(parseRateLimits('100/1s'), {
      client: redisThat('fails'),
      marginMs: () => 0,
    });
    const first = ask(limiter);
    await vi.advanceTimersByTimeAsync(0);
    expect(first.at).toBe(0);
    expect(limiter.shared).toBe(false);
    limiter.pause(API, 2_000);
    const held = ask(limiter);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(held.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(held.at).toBe(2_000);
    limiter.close();
  });

  it('refuses its queued callers with RATE_LIMITED on close', async () => {
    const limiter = new RedisRateLimiter(parseRateLimits('1/1s'), { client: redisThat('fails') });
    ask(limiter);
    await vi.advanceTimersByTimeAsync(0);
    const queued = ask(limiter);
    await vi.advanceTimersByTimeAsync(0);
    limiter.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(queued).toEqual({ at: 0, code: 'RATE_LIMITED' });
  });
});
