import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LimiterOptions, Permit } from '../../../src/rate-limit/limiter.js';
import { LocalRateLimiter, defaultMargin } from '../../../src/rate-limit/limiter.js';
import { parseRateLimits } from '../../../src/rate-limit/windows.js';
import { GatewayError } from '../../../src/errors.js';

const API = 'machines' as const;
const START = Date.parse('2025-01-01T00:00:00.000Z');

// The limiter reads the system clock (the default) and sleeps with setTimeout: fake timers drive both.
beforeEach(() => {
  vi.useFakeTimers({ now: START });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A limiter over `limits` without the safety margin, unless the test asks for one. */
const limiterOf = (limits: string, options: LimiterOptions = { marginMs: () => 0 }) =>
  new LocalRateLimiter(parseRateLimits(limits), options);

/** Asks for a permit due within `ms`; the returned record says when (fake ms since START) it was granted. */
function ask(limiter: LocalRateLimiter, ms = 60_000, extra: { caller?: string; signal?: AbortSignal } = {}) {
  const seen: { at?: number; permit?: Permit; error?: GatewayError } = {};
  limiter.acquire(API, { deadline: Date.now() + ms, ...extra }).then(
    (permit) => Object.assign(seen, { at: Date.now() - START, permit }),
    (error: GatewayError) => Object.assign(seen, { at: Date.now() - START, error }),
  );
  return seen;
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('LocalRateLimiter', () => {
  it('admits calls at once up to the limit, then the next one when the window slides', async () => {
    const limiter = limiterOf('2/1s');
    const calls = [ask(limiter), ask(limiter), ask(limiter)];
    await settle();
    expect(calls.map((c) => c.at)).toEqual([0, 0, undefined]);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls[2]!.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(calls[2]).toMatchObject({ at: 1_000, permit: { waitedMs: 1_000 } });
  });

  it('lengthens every window by its safety margin (250 ms for a 1 s window, 1 s for 60 s and longer)', async () => {
    expect([1_000, 10_000, 30_000, 60_000, 3_600_000].map(defaultMargin)).toEqual([
      250, 250, 600, 1_000, 1_000,
    ]);
    const limiter = new LocalRateLimiter(parseRateLimits('1/1s'));
    const calls = [ask(limiter), ask(limiter)];
    await vi.advanceTimersByTimeAsync(1_249);
    expect(calls[1]!.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(calls[1]!.at).toBe(1_250);
  });

  it('waits for the slowest of several windows', async () => {
    const limiter = limiterOf('2/1s,3/10s');
    const calls = Array.from({ length: 4 }, () => ask(limiter));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls.map((c) => c.at)).toEqual([0, 0, 1_000, 10_000]);
  });

  it('refuses at once with RATE_LIMITED and the seconds to wait when the turn comes after the deadline', async () => {
    const limiter = limiterOf('1/10s');
    ask(limiter);
    const late = ask(limiter, 5_000);
    await settle();
    expect(late.at).toBe(0);
    expect(late.error).toBeInstanceOf(GatewayError);
    expect(late.error?.code).toBe('RATE_LIMITED');
    expect(late.error?.extensions).toEqual({ retryAfterSeconds: 10 });
    expect(limiter.queueDepths()[API]).toBe(0);
  });

  it('queues only as many callers as can be served before their deadline, and refuses the rest at once', async () => {
    const limiter = limiterOf('2/1s');
    const calls = Array.from({ length: 8 }, () => ask(limiter, 2_500));
    await settle();
    // Two now, two at 1 s, two at 2 s; the last two would go at 3 s, after their deadline.
    expect(limiter.queueDepths()[API]).toBe(4);
    expect(calls.slice(6).map((c) => [c.at, c.error?.code])).toEqual([
      [0, 'RATE_LIMITED'],
      [0, 'RATE_LIMITED'],
    ]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls.slice(0, 6).map((c) => c.at)).toEqual([0, 0, 1_000, 1_000, 2_000, 2_000]);
  });

  it('serves callers in turn, so one caller’s backlog does not hold back another', async () => {
    const limiter = limiterOf('1/1s');
    const heavy = Array.from({ length: 5 }, () => ask(limiter, 60_000, { caller: 'heavy' }));
    const light = ask(limiter, 60_000, { caller: 'light' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(heavy.map((c) => c.at)).toEqual([0, 1_000, 3_000, 4_000, 5_000]);
    expect(light.at).toBe(2_000);
  });

  it('lets an aborted caller leave the queue, and the one behind it moves up', async () => {
    const limiter = limiterOf('1/1s');
    const abort = new AbortController();
    ask(limiter);
    const leaving = ask(limiter, 60_000, { signal: abort.signal });
    const behind = ask(limiter);
    await settle();
    abort.abort(new Error('gone'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(leaving.error?.message).toBe('gone');
    expect(behind.at).toBe(1_000);
  });

  it('throws at once for a caller whose signal is already aborted', () => {
    const limiter = limiterOf('1/1s');
    expect(() =>
      limiter.acquire(API, { deadline: Date.now() + 1_000, signal: AbortSignal.abort() }),
    ).toThrow();
  });

  it('gives background work a slot only when one is free now', async () => {
    const limiter = limiterOf('2/1s');
    expect(limiter.tryAcquire(API)).toBeDefined();
    expect(limiter.tryAcquire(API)).toBeDefined();
    expect(limiter.tryAcquire(API)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(limiter.tryAcquire(API)).toBeDefined();
    // Background slots count against the budget of interactive callers.
    const call = ask(limiter);
    await settle();
    expect(call.at).toBe(1_000);
    const next = ask(limiter);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(next.at).toBe(2_000);
  });

  it('counts a call from when its permit says it is over, so a call held up on the way keeps its slot longer', async () => {
    const limiter = limiterOf('2/1s');
    const [first, second, third] = [ask(limiter), ask(limiter), ask(limiter)];
    await settle();
    // The first call took 400 ms to be answered (it may have reached Defender only then); the second did not.
    await vi.advanceTimersByTimeAsync(400);
    first.permit!.done!();
    second.permit!.done!();
    // Not at 1,000 ms (one window after it was let go) but one window after it was over.
    await vi.advanceTimersByTimeAsync(999);
    expect(third.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(third).toMatchObject({ at: 1_400, permit: { waitedMs: 1_400 } });
    // A queued caller's permit, and background work's, are counted the same way.
    await vi.advanceTimersByTimeAsync(600);
    const background = limiter.tryAcquire(API)!;
    const fourth = ask(limiter);
    await settle();
    expect(fourth.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(300);
    third.permit!.done!();
    background.done!();
    await vi.advanceTimersByTimeAsync(999);
    expect(fourth.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(fourth.at).toBe(3_300);
  });

  it('says when a number of calls could have gone, behind everyone queued now', async () => {
    const limiter = limiterOf('2/1s');
    expect(limiter.whenAvailable(API, 0)).toBe(START);
    expect(limiter.whenAvailable(API, 2)).toBe(START);
    expect(limiter.whenAvailable(API, 3)).toBe(START + 1_000);
    for (let i = 0; i < 3; i++) ask(limiter);
    await settle();
    // Two taken, one queued for 1 s: one more fits at 1 s, a second at 2 s.
    expect(limiter.whenAvailable(API, 1)).toBe(START + 1_000);
    expect(limiter.whenAvailable(API, 2)).toBe(START + 2_000);
  });

  it('holds every caller of a paused API until the Retry-After is over, though slots are free', async () => {
    const limiter = limiterOf('100/1s');
    limiter.pause(API, 3_000);
    expect(limiter.tryAcquire(API)).toBeUndefined();
    expect(limiter.tryAcquire('alerts')).toBeDefined();
    const calls = [ask(limiter), ask(limiter)];
    await vi.advanceTimersByTimeAsync(2_999);
    expect(calls.map((c) => c.at)).toEqual([undefined, undefined]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.at)).toEqual([3_000, 3_000]);
    expect(limiter.pausedUntil(API)).toBe(START + 3_000);
  });

  it('never shortens a pause by a shorter one', async () => {
    const limiter = limiterOf('100/1s');
    limiter.pause(API, 5_000);
    limiter.pause(API, 1_000);
    const call = ask(limiter);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call.at).toBe(5_000);
  });

  it('refuses a queued caller at its deadline when a pause pushed its turn past it', async () => {
    const limiter = limiterOf('1/1s');
    ask(limiter);
    const queued = ask(limiter, 2_000);
    await settle();
    limiter.pause(API, 10_000);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(queued.at).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(queued).toMatchObject({ at: 2_000, error: { code: 'RATE_LIMITED' } });
    expect(queued.error?.extensions).toEqual({ retryAfterSeconds: 8 });
  });

  it('reports the budget of every window: what remains and when it next regains a slot', async () => {
    const limiter = limiterOf('2/1s,5/10s');
    ask(limiter);
    await vi.advanceTimersByTimeAsync(400);
    ask(limiter);
    await settle();
    const machines = () => limiter.budget().filter((b) => b.api === API);
    expect(machines()).toEqual([
      { api: API, limit: 2, remaining: 0, windowSeconds: 1, resetAt: '2025-01-01T00:00:01.000Z' },
      { api: API, limit: 5, remaining: 3, windowSeconds: 10, resetAt: '2025-01-01T00:00:10.000Z' },
    ]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(machines().map((b) => b.remaining)).toEqual([2, 3]);
    expect(machines()[0]!.resetAt).toBe('2025-01-01T00:00:01.400Z');
    // An API nobody called has its whole budget.
    expect(limiter.budget().find((b) => b.api === 'alerts')).toMatchObject({ remaining: 2 });
  });

  it('counts calls seeded from elsewhere, and forgets every call on record but not a pause', async () => {
    const limiter = limiterOf('2/1s');
    limiter.seed(API, [START - 500, START - 100]);
    expect(limiter.tryAcquire(API)).toBeUndefined();
    expect(limiter.whenAvailable(API, 1)).toBe(START + 500);
    limiter.pause(API, 2_000);
    limiter.forget();
    expect(limiter.whenAvailable(API, 1)).toBe(START + 2_000);
  });

  it('on close, refuses every queued caller and every later one at once with RATE_LIMITED, retry after 1 s', async () => {
    const limiter = limiterOf('1/1s');
    ask(limiter);
    const queued = [ask(limiter), ask(limiter, 60_000, { caller: 'other' })];
    await settle();
    limiter.close();
    await settle();
    for (const call of queued) {
      expect(call.at).toBe(0);
      expect(call.error?.code).toBe('RATE_LIMITED');
      expect(call.error?.extensions).toEqual({ retryAfterSeconds: 1 });
    }
    const later = ask(limiter);
    await settle();
    expect(later).toMatchObject({
      at: 0,
      error: { code: 'RATE_LIMITED', extensions: { retryAfterSeconds: 1 } },
    });
    expect(limiter.tryAcquire('alerts')).toBeUndefined();
    expect(limiter.queueDepths()[API]).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads the time from an injected clock', () => {
    let now = Date.parse('2030-06-01T00:00:00.000Z');
    const limiter = new LocalRateLimiter(parseRateLimits('1/60s'), { clock: { now: () => now } });
    expect(limiter.tryAcquire(API)).toBeDefined();
    expect(limiter.budget().find((b) => b.api === API)?.resetAt).toBe('2030-06-01T00:01:01.000Z');
    now += 61_000;
    expect(limiter.tryAcquire(API)).toBeDefined();
  });
});
