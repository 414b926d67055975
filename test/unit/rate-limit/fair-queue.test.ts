import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UPSTREAM_APIS } from '../../../src/defender/apis.js';
import type { Permit } from '../../../src/rate-limit/limiter.js';
import { ApiQueues, FairQueue, queuedPermit } from '../../../src/rate-limit/fair-queue.js';
import { GatewayError } from '../../../src/errors.js';

const API = 'machines' as const;

/** The callers of the waiters `queue` hands out, in the order it hands them out. */
function drain<W extends { caller: string; n: number }>(queue: FairQueue<W>): string[] {
  const order: string[] = [];
  for (let w = queue.shift(); w; w = queue.shift()) order.push(`${w.caller}${w.n}`);
  return order;
}

/** Queues `n` waiters of each caller, in the given order. */
function queued(...callers: [string, number][]) {
  const queue = new FairQueue<{ caller: string; n: number }>();
  for (const [caller, n] of callers) for (let i = 1; i <= n; i++) queue.push({ caller, n: i });
  return queue;
}

/** How a promise ended so far: pending, or its value or error. */
function watch<T>(promise: Promise<T>) {
  const seen: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = {
    state: 'pending',
  };
  promise.then(
    (value) => Object.assign(seen, { state: 'resolved', value }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error }),
  );
  return seen;
}

describe('FairQueue', () => {
  it('serves one caller’s waiters first in, first out', () => {
    expect(drain(queued(['a', 3]))).toEqual(['a1', 'a2', 'a3']);
  });

  it('serves callers in turn, one waiter each, whatever the order they queued in', () => {
    expect(drain(queued(['a', 3], ['b', 2], ['c', 1]))).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('serves a caller who arrives behind a heavy caller’s backlog second, not last', () => {
    const queue = queued(['heavy', 50]);
    queue.push({ caller: 'light', n: 1 });
    expect(drain(queue).slice(0, 3)).toEqual(['heavy1', 'light1', 'heavy2']);
  });

  it('counts the waiters ahead of a new one under round robin', () => {
    const queue = queued(['heavy', 10], ['b', 1]);
    expect(queue.ahead('new')).toBe(2);
    expect(queue.ahead('b')).toBe(3);
    expect(queue.ahead('heavy')).toBe(11);
    expect(queue.size).toBe(11);
  });

  it('takes a removed waiter out of its turn, and says when there was nothing to remove', () => {
    const queue = new FairQueue<{ caller: string; n: number }>();
    const a1 = { caller: 'a', n: 1 };
    queue.push(a1);
    queue.push({ caller: 'b', n: 1 });
    queue.push({ caller: 'a', n: 2 });
    expect(queue.remove(a1)).toBe(true);
    expect(queue.remove(a1)).toBe(false);
    expect(drain(queue)).toEqual(['a2', 'b1']);
    expect(queue.size).toBe(0);
  });
});

describe('queuedPermit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A queue whose pump the test drives by hand, and the permit of one caller in it. */
  function permit(options: { deadline: number; turn?: number; signal?: AbortSignal; caller?: string }) {
    const queue = new FairQueue();
    const pump = vi.fn();
    const expired = vi.fn(() => new Error('expired'));
    const now = Date.now();
    const promise = queuedPermit(
      queue,
      { api: API, now, turn: options.turn ?? now, ...options },
      { pump, expired },
    );
    return { queue, pump, expired, now, seen: watch(promise) };
  }

  it('queues the caller and asks the limiter to pump; a grant resolves with the time waited', async () => {
    const { queue, pump, now, seen } = permit({ deadline: Date.now() + 5_000, caller: 'alice' });
    expect(queue.size).toBe(1);
    expect(pump).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_200);
    queue.shift()!.grant(now + 1_200);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual({ state: 'resolved', value: { waitedMs: 1_200 } satisfies Permit });
  });

  it('refuses at once with RATE_LIMITED when the turn comes after the deadline, queueing nothing', async () => {
    const now = Date.now();
    const { queue, pump, seen } = permit({ deadline: now + 1_000, turn: now + 2_500 });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.state).toBe('rejected');
    expect(seen.error).toBeInstanceOf(GatewayError);
    expect((seen.error as GatewayError).code).toBe('RATE_LIMITED');
    expect((seen.error as GatewayError).extensions).toEqual({ retryAfterSeconds: 3 });
    expect(queue.size).toBe(0);
    expect(pump).not.toHaveBeenCalled();
  });

  it('takes an aborted waiter out of the queue and rejects with the signal’s reason', async () => {
    const abort = new AbortController();
    const { queue, pump, seen } = permit({ deadline: Date.now() + 5_000, signal: abort.signal });
    abort.abort(new Error('client went away'));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.state).toBe('rejected');
    expect((seen.error as Error).message).toBe('client went away');
    expect(queue.size).toBe(0);
    // The limiter looks again: whoever was behind may go now.
    expect(pump).toHaveBeenCalledTimes(2);
  });

  it('takes a waiter out at its deadline and rejects with the limiter’s error, not before', async () => {
    const { queue, expired, seen } = permit({ deadline: Date.now() + 3_000 });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(seen.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.state).toBe('rejected');
    expect((seen.error as Error).message).toBe('expired');
    expect(expired).toHaveBeenCalledTimes(1);
    expect(queue.size).toBe(0);
  });

  it('forgets the deadline and the abort once granted', async () => {
    const abort = new AbortController();
    const { queue, now, seen } = permit({ deadline: Date.now() + 1_000, signal: abort.signal });
    queue.shift()!.grant(now);
    await vi.advanceTimersByTimeAsync(5_000);
    abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual({ state: 'resolved', value: { waitedMs: 0 } });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ApiQueues', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function enqueue(queues: ApiQueues, api: 'machines' | 'alerts', deadlineIn: number) {
    const now = Date.now();
    return watch(
      queuedPermit(
        queues.of(api),
        { api, now, turn: now, deadline: now + deadlineIn },
        { pump: () => undefined, expired: () => new Error('expired') },
      ),
    );
  }

  it('reports how many wait per API, every API named', () => {
    const queues = new ApiQueues();
    enqueue(queues, 'machines', 5_000);
    enqueue(queues, 'machines', 5_000);
    enqueue(queues, 'alerts', 5_000);
    const depths = queues.depths();
    expect(depths.machines).toBe(2);
    expect(depths.alerts).toBe(1);
    expect(depths['machines/{id}']).toBe(0);
    expect(Object.keys(depths).sort()).toEqual([...UPSTREAM_APIS].sort());
  });

  it('refuses only the waiters whose deadline comes before a given time', async () => {
    const queues = new ApiQueues();
    const soon = enqueue(queues, 'machines', 1_000);
    const later = enqueue(queues, 'machines', 9_000);
    queues.refuseDueBefore('machines', Date.now() + 2_000, () => new Error('too late'));
    await vi.advanceTimersByTimeAsync(0);
    expect(soon.state).toBe('rejected');
    expect((soon.error as Error).message).toBe('too late');
    expect(later.state).toBe('pending');
    expect(queues.of('machines').size).toBe(1);
  });

  it('refuses every waiter of every API with RATE_LIMITED, retry after 1 s, on shutdown', async () => {
    const queues = new ApiQueues();
    const waiters = [enqueue(queues, 'machines', 5_000), enqueue(queues, 'alerts', 5_000)];
    queues.refuseAll();
    await vi.advanceTimersByTimeAsync(0);
    for (const seen of waiters) {
      expect(seen.state).toBe('rejected');
      expect((seen.error as GatewayError).code).toBe('RATE_LIMITED');
      expect((seen.error as GatewayError).extensions).toEqual({ retryAfterSeconds: 1 });
    }
    expect(queues.depths().machines + queues.depths().alerts).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
