import { describe, expect, it } from 'vitest';
import { LocalRateLimiter } from '../../../src/rate-limit/limiter.js';
import { PollBudget } from '../../../src/live/poll-budget.js';

/** Polling is background work: it yields to clients and never spends more than its share of the budget. */

const WINDOWS = [{ limit: 10, windowSeconds: 60 }];

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('PollBudget', () => {
  it('lets polls take at most their share of each window, then skips until the window moves on', async () => {
    const time = clock();
    const limiter = new LocalRateLimiter(WINDOWS, { clock: time });
    const budget = new PollBudget({ limiter, windows: WINDOWS, share: 0.3, now: time.now });
    const admitted = [];
    for (let i = 0; i < 5; i++) admitted.push(await budget.admit(time.now()));
    expect(admitted).toEqual([true, true, true, false, false]);
    time.advance(61_000);
    expect(await budget.admit(time.now())).toBe(true);
  });

  it('waits while clients queue for the alerts API, and gives the tick up when no slot comes before the next', async () => {
    const time = clock();
    const limiter = new LocalRateLimiter([{ limit: 1, windowSeconds: 60 }], { clock: time });
    const budget = new PollBudget({ limiter, windows: WINDOWS, share: 1, now: time.now });
    await limiter.acquire('alerts', { deadline: time.now() + 1_000 }); // a client took the only slot
    expect(await budget.admit(time.now() + 5_000)).toBe(false);
    expect(budget.spent).toBe(0);
  });

  it('refuses a share outside (0, 1]', () => {
    const limiter = new LocalRateLimiter(WINDOWS);
    expect(() => new PollBudget({ limiter, windows: WINDOWS, share: 0 })).toThrow(/share/);
    expect(() => new PollBudget({ limiter, windows: WINDOWS, share: 1.5 })).toThrow(/share/);
  });
});
