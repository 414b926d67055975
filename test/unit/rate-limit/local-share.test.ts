import { describe, expect, it } from 'vitest';
import { reservedCalls, shareOf } from '../../../src/rate-limit/local-share.js';
import { SlidingWindowLog } from '../../../src/rate-limit/sliding-window.js';
import { parseRateLimits } from '../../../src/rate-limit/windows.js';

const T = 1_000_000;

describe('a replica’s local share', () => {
  it('is every limit divided by the replicas, rounded down, and never less than one call', () => {
    expect(shareOf(parseRateLimits('100/60s,1500/3600s'), 3)).toEqual([
      { limit: 33, windowSeconds: 60 },
      { limit: 500, windowSeconds: 3_600 },
    ]);
    expect(shareOf(parseRateLimits('2/1s'), 5)).toEqual([{ limit: 1, windowSeconds: 1 }]);
    // Nonsense replica counts fall back to one replica: the whole budget.
    expect(shareOf(parseRateLimits('10/1s'), 0)).toEqual([{ limit: 10, windowSeconds: 1 }]);
  });

  it('starts with its part of what Redis last counted, each call dated as late as it can have been made', () => {
    const specs = [
      { limit: 10, windowMs: 1_000 },
      { limit: 20, windowMs: 10_000 },
    ];
    const state = {
      at: T,
      waitMs: 0,
      windows: [
        { count: 5, resetAt: T + 500 },
        { count: 9, resetAt: T + 4_000 },
      ],
    };
    // Half of 5 (rounded up) still in the short window; half of 9 in the long one, the rest just before the short.
    const times = reservedCalls(state, specs, 2);
    expect(times).toEqual([T, T, T, T - 1_000, T - 1_000]);
    // Counted in a log of the same windows, they make up exactly that part in each window.
    const log = new SlidingWindowLog(specs);
    log.add('api', times, T);
    expect(log.usage('api', T)).toEqual([3, 5]);
  });

  it('reserves the same calls whatever order the windows come in', () => {
    const specs = [
      { limit: 20, windowMs: 10_000 },
      { limit: 10, windowMs: 1_000 },
    ];
    const state = {
      at: T,
      waitMs: 0,
      windows: [
        { count: 9, resetAt: T + 4_000 },
        { count: 5, resetAt: T + 500 },
      ],
    };
    expect(reservedCalls(state, specs, 2)).toEqual([T, T, T, T - 1_000, T - 1_000]);
  });
});
