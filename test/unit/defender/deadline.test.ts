import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TokenProvider } from '../../../src/auth/tokens.js';
import { GatewayError } from '../../../src/errors.js';
import type { Respond } from './fake-defender.js';
import { fakeDefender } from './fake-defender.js';

/**
 * One deadline for everything: the scope's deadline bounds the token wait, every attempt and every backoff of a
 * client's call. The client reads the time through a clock on the faked `Date`, so the deadline and the timers
 * move together.
 */

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const fakedClock = { now: () => Date.now() };

/** How a call failed: its code and message, or `ok`. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof GatewayError ? `${e.code}: ${e.message}` : String(e)),
  );

const PAST_DEADLINE =
  "UPSTREAM_UNAVAILABLE: Defender did not answer machines/{id} before the request's deadline.";

/** Defender that never answers: each request waits until its signal aborts. */
function hanging(sent: () => readonly { signal: AbortSignal | undefined }[]): Respond {
  return () =>
    new Promise<number>((_, reject) => {
      const { signal } = sent().at(-1)!;
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
}

describe('the request deadline bounds every attempt and every retry', () => {
  it('cuts a hung attempt short at the deadline when less is left than the per-call timeout', async () => {
    let sentRef: () => readonly { signal: AbortSignal | undefined }[] = () => [];
    const fd = fakeDefender(
      hanging(() => sentRef()),
      {
        clock: fakedClock,
        timeoutMs: 10_000,
        maxRetries: 2,
      },
    );
    sentRef = () => fd.sent;
    const call = outcome(fd.get('a', fd.scope({ deadline: Date.now() + 1_500 })));
    await vi.advanceTimersByTimeAsync(1_499);
    expect(fd.sent).toHaveLength(1);
    expect(fd.sent[0]!.signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fd.sent[0]!.signal?.aborted).toBe(true);
    expect(await call).toBe(PAST_DEADLINE);
    // No retry starts once the deadline has passed, however many are left.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fd.sent).toHaveLength(1);
  });

  it('starts no retry whose backoff would end past the deadline, and fails then', async () => {
    const started: number[] = [];
    const fd = fakeDefender(
      () => {
        started.push(Date.now());
        return 503;
      },
      { clock: fakedClock, maxRetries: 10, backoffBaseMs: 400, backoffCapMs: 400, random: () => 1 },
    );
    const t0 = Date.now();
    const call = outcome(fd.get('a', fd.scope({ deadline: t0 + 1_000 })));
    await vi.advanceTimersByTimeAsync(800);
    // Attempts at 0, 400 and 800 ms; a fourth after 400 ms more would start at the deadline.
    expect(await call).toBe(PAST_DEADLINE);
    expect(started.map((t) => t - t0)).toEqual([0, 400, 800]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fd.sent).toHaveLength(3);
  });

  it('keeps the last failure as the cause, so a Defender that kept failing still counts for the breaker', async () => {
    const fd = fakeDefender(() => 503, {
      clock: fakedClock,
      maxRetries: 10,
      backoffBaseMs: 400,
      backoffCapMs: 400,
      random: () => 1,
    });
    const call = fd.get('a', fd.scope({ deadline: Date.now() + 500 })).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    const error = (await call) as GatewayError;
    expect(error.message).toBe("Defender did not answer machines/{id} before the request's deadline.");
    expect(String(error.cause)).toContain('status 503');
  });

  it('bounds the wait for a token by the deadline: no request is sent', async () => {
    const stuck: TokenProvider = {
      identity: 'stuck',
      getToken: (signal) =>
        new Promise((_, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        }),
    };
    const fd = fakeDefender(() => 200, { clock: fakedClock, tokens: stuck, maxRetries: 2 });
    const call = outcome(fd.get('a', fd.scope({ deadline: Date.now() + 2_000 })));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await call).toBe(PAST_DEADLINE);
    expect(fd.sent).toHaveLength(0);
  });

  it('answers as before when Defender answers in time', async () => {
    const fd = fakeDefender((_, n) => (n === 0 ? 503 : 200), {
      clock: fakedClock,
      maxRetries: 1,
      backoffBaseMs: 100,
      backoffCapMs: 100,
      random: () => 1,
    });
    const answer = fd.get('a', fd.scope({ deadline: Date.now() + 1_000 }));
    await vi.advanceTimersByTimeAsync(100);
    await expect(answer).resolves.toEqual({ status: 200, body: { id: 'a', n: 1 } });
  });
});

describe('background refreshes have no caller deadline', () => {
  it('a refresh is bounded by its per-call timeout only, though its scope’s deadline is its start', async () => {
    // The client's scope for a refresh has `deadline: now`; the refresh must still be sent and answered.
    const fd = fakeDefender(() => 200, { clock: fakedClock, ttlMs: () => 1_000 });
    const inFiveSeconds = () => fd.scope({ deadline: Date.now() + 5_000 });
    await fd.get('a', inFiveSeconds());
    await vi.advanceTimersByTimeAsync(1_500);
    const refreshed = fd.nextRefresh();
    await fd.get('a', inFiveSeconds());
    await vi.advanceTimersByTimeAsync(0);
    await refreshed;
    expect(fd.sent).toHaveLength(2);
    expect(fd.refreshes).toEqual(['refreshed']);
  });
});
