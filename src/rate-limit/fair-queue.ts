import type { DefenderApi } from '../defender/apis.js';
import { UPSTREAM_APIS } from '../defender/apis.js';
import { rateLimited } from '../errors.js';
import type { AcquireOptions, Permit } from './limiter.js';

/**
 * The queueing both limiters share (LocalRateLimiter and RedisRateLimiter): a caller that cannot go at once
 * waits for a permit in its API's FairQueue, and the limiter grants or refuses it in turn. What decides when a
 * turn comes (local windows or Redis) stays with each limiter.
 */

/** A caller queued for a permit (see queuedPermit). */
export interface Waiter {
  readonly caller: string;
  /** When it was queued (epoch ms, the limiter's clock). */
  readonly enqueuedAt: number;
  /** Epoch ms after which it no longer wants the call. */
  readonly deadline: number;
  /**
   * Lets the call go: the caller's permit says how long it waited until `now` (epoch ms), and carries the
   * limiter's `done` (see Permit).
   */
  grant(now: number, done?: () => void): void;
  /** Refuses the call with `error`. */
  refuse(error: unknown): void;
}

/** What a limiter does for its queue: serve it (after a waiter joins or leaves), and say why a waiter expired. */
export interface QueueHooks {
  /** Lets waiters go while they may; called after a waiter joined or left the queue. */
  readonly pump: () => void;
  /** The error of a waiter whose deadline passed while it was still queued. */
  readonly expired: () => unknown;
}

/** The caller of calls that name none: they share one turn. */
export const ANONYMOUS = '';

/**
 * Queues a caller of `api` in `queue` and returns its permit, which the limiter's `pump` grants in turn; or,
 * when its `turn` (epoch ms, as the limiter foresees it) comes after its deadline, refuses it at once with
 * RATE_LIMITED. On abort the waiter leaves the queue and the promise rejects with the signal's reason; at the
 * deadline it leaves and rejects with `hooks.expired()` (a backstop for turns that came later than foreseen).
 * `now` is the limiter's clock when the caller arrived (epoch ms).
 */
export function queuedPermit(
  queue: FairQueue,
  request: { readonly api: DefenderApi; readonly now: number; readonly turn: number } & AcquireOptions,
  hooks: QueueHooks,
): Promise<Permit> {
  const { api, caller = ANONYMOUS, now, turn, deadline, signal } = request;
  if (turn > deadline) return Promise.reject(lateTurn(api, turn, now));
  return new Promise<Permit>((resolve, reject) => {
    // The error is made once the others have moved up, so that `expired` sees the queue without this waiter.
    const leave = (error: () => unknown) => {
      if (queue.remove(waiter)) hooks.pump();
      waiter.refuse(error());
    };
    const onAbort = () => leave(() => signal?.reason);
    const timer = setTimeout(() => leave(hooks.expired), Math.max(0, deadline - now));
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const waiter: Waiter = {
      caller,
      enqueuedAt: now,
      deadline,
      grant: (at, done) => {
        cleanup();
        resolve(done ? { waitedMs: at - now, done } : { waitedMs: at - now });
      },
      refuse: (error) => {
        cleanup();
        reject(error);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    queue.push(waiter);
    hooks.pump();
  });
}

/**
 * One API's waiters: a first-in-first-out queue per caller, served in turn (round robin), so that when demand
 * exceeds the budget each caller gets an equal share however many calls it queued.
 */
export class FairQueue<W extends { readonly caller: string } = Waiter> {
  readonly #byCaller = new Map<string, W[]>();
  /** Callers with waiters, in the order they are served next. */
  #turns: string[] = [];

  get size(): number {
    let n = 0;
    for (const q of this.#byCaller.values()) n += q.length;
    return n;
  }

  push(waiter: W): void {
    const queue = this.#byCaller.get(waiter.caller);
    if (queue) queue.push(waiter);
    else {
      this.#byCaller.set(waiter.caller, [waiter]);
      this.#turns.push(waiter.caller);
    }
  }

  /** The waiter whose turn it is, moving its caller to the back of the turns. */
  shift(): W | undefined {
    const caller = this.#turns.shift();
    if (caller === undefined) return undefined;
    const queue = this.#byCaller.get(caller)!;
    const waiter = queue.shift()!;
    if (queue.length > 0) this.#turns.push(caller);
    else this.#byCaller.delete(caller);
    return waiter;
  }

  /** Takes `waiter` out; false when it was not queued (already served or removed). */
  remove(waiter: W): boolean {
    const queue = this.#byCaller.get(waiter.caller);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index === -1) return false;
    queue.splice(index, 1);
    if (queue.length === 0) {
      this.#byCaller.delete(waiter.caller);
      this.#turns = this.#turns.filter((c) => c !== waiter.caller);
    }
    return true;
  }

  /** How many waiters go before a new one from `caller` under round robin. */
  ahead(caller: string): number {
    const own = this.#byCaller.get(caller)?.length ?? 0;
    let ahead = own;
    for (const [other, queue] of this.#byCaller)
      if (other !== caller) ahead += Math.min(queue.length, own + 1);
    return ahead;
  }

  all(): W[] {
    return [...this.#byCaller.values()].flat();
  }
}

/** A FairQueue per Defender API, created on first use. */
export class ApiQueues {
  readonly #queues = new Map<DefenderApi, FairQueue>();

  of(api: DefenderApi): FairQueue {
    let queue = this.#queues.get(api);
    if (!queue) {
      queue = new FairQueue();
      this.#queues.set(api, queue);
    }
    return queue;
  }

  /** How many callers wait for each API now (metrics). */
  depths(): Record<DefenderApi, number> {
    return Object.fromEntries(UPSTREAM_APIS.map((api) => [api, this.#queues.get(api)?.size ?? 0])) as Record<
      DefenderApi,
      number
    >;
  }

  /** Refuses every waiter of `api` whose deadline comes before `at` (epoch ms) with `error`. */
  refuseDueBefore(api: DefenderApi, at: number, error: () => unknown): void {
    const queue = this.of(api);
    for (const waiter of queue.all()) {
      if (waiter.deadline < at) {
        queue.remove(waiter);
        waiter.refuse(error());
      }
    }
  }

  /** Refuses every waiter of every API with RATE_LIMITED (shutdown: retry elsewhere, in a second). */
  refuseAll(): void {
    for (const [api, queue] of this.#queues) {
      for (const waiter of queue.all()) {
        queue.remove(waiter);
        waiter.refuse(rateLimited(1, api));
      }
    }
  }
}

/** RATE_LIMITED for a call whose turn at `turn` comes too late, with the whole seconds until then (at least 1). */
export function lateTurn(api: DefenderApi, turn: number, now: number): unknown {
  return rateLimited(Math.max(1, Math.ceil((turn - now) / 1000)), api);
}
