import type { DefenderApi } from './apis.js';
import { DEFENDER_APIS } from './apis.js';
import type { RateLimitWindow } from '../rate-limits.js';
import { SlidingWindowLog } from '../sliding-window.js';
import { rateLimited } from '../errors.js';

/** What a caller of the limiter learns when its call may go. */
export interface Permit {
  /** Time spent queued, in ms. */
  readonly waitedMs: number;
}

export interface AcquireOptions {
  /** Epoch ms after which the call is no longer wanted: the caller gets RATE_LIMITED instead of a permit. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

/** The budget of one API in one window, as `Query.rateLimit` shows it. */
export interface ApiBudget {
  readonly api: DefenderApi;
  readonly limit: number;
  readonly remaining: number;
  readonly windowSeconds: number;
  /** When the window next regains a slot (ISO-8601). */
  readonly resetAt: string;
}

/** The gateway's side of Defender's throttling; one per process, shared by every request. */
export interface UpstreamLimiter {
  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit>;
  /** Defender answered 429 with Retry-After: no caller may call `api` for `ms`. */
  pause(api: DefenderApi, ms: number): void;
  budget(): ApiBudget[];
  /** Rejects every queued caller (shutdown). */
  close(): void;
}

interface Waiter {
  readonly enqueuedAt: number;
  readonly resolve: (permit: Permit) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
  readonly cleanup: () => void;
}

export interface LimiterOptions {
  readonly now?: () => number;
  /**
   * Extra length given to every window, so that calls admitted exactly one window apart here cannot arrive
   * less than one window apart at Defender (network jitter). Default: 2% of the window, 50 ms to 1 s.
   */
  readonly marginMs?: (windowMs: number) => number;
}

const defaultMargin = (windowMs: number) => Math.min(1_000, Math.max(50, windowMs * 0.02));

/**
 * Every window of `DEFENDER_RATE_LIMITS` at once, per Defender API, in this process. Callers queue first in,
 * first out until their call fits every window (and any Retry-After pause is over); a caller whose turn
 * cannot come before its deadline is refused at once with RATE_LIMITED and `retryAfterSeconds`, so the
 * gateway itself never sends the call that would earn a 429.
 */
export class LocalRateLimiter implements UpstreamLimiter {
  readonly #log: SlidingWindowLog;
  readonly #now: () => number;
  readonly #queues = new Map<DefenderApi, Waiter[]>();
  readonly #pausedUntil = new Map<DefenderApi, number>();
  readonly #timers = new Map<DefenderApi, NodeJS.Timeout>();

  constructor(
    readonly windows: readonly RateLimitWindow[],
    options: LimiterOptions = {},
  ) {
    const margin = options.marginMs ?? defaultMargin;
    this.#log = new SlidingWindowLog(
      windows.map((w) => ({
        limit: w.limit,
        windowMs: w.windowSeconds * 1000 + margin(w.windowSeconds * 1000),
      })),
    );
    this.#now = options.now ?? Date.now;
  }

  acquire(api: DefenderApi, { deadline, signal }: AcquireOptions): Promise<Permit> {
    signal?.throwIfAborted();
    const now = this.#now();
    const queue = this.#queue(api);
    const turn = Math.max(this.#log.slotAt(api, now, queue.length), this.#pausedUntil.get(api) ?? 0);
    if (turn <= now && queue.length === 0) {
      this.#log.record(api, now);
      return Promise.resolve({ waitedMs: 0 });
    }
    if (turn > deadline) return Promise.reject(rateLimited(Math.ceil((turn - now) / 1000), api));

    return new Promise<Permit>((resolve, reject) => {
      const onAbort = () => {
        this.#remove(api, waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        enqueuedAt: now,
        resolve,
        reject,
        // Our estimate of the turn can only be late by other callers' aborts, so the deadline is a backstop.
        timer: setTimeout(() => {
          this.#remove(api, waiter);
          const retry = Math.max(this.#log.wait(api, this.#now()).ms, 1_000);
          reject(rateLimited(Math.ceil(retry / 1000), api));
        }, deadline - now),
        cleanup: () => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.#pump(api);
    });
  }

  pause(api: DefenderApi, ms: number): void {
    const until = this.#now() + ms;
    this.#pausedUntil.set(api, Math.max(until, this.#pausedUntil.get(api) ?? 0));
    this.#pump(api);
  }

  budget(): ApiBudget[] {
    const now = this.#now();
    return DEFENDER_APIS.flatMap((api) => {
      const used = this.#log.usage(api, now);
      const resets = this.#log.resetAt(api, now);
      return this.windows.map((w, i) => ({
        api,
        limit: w.limit,
        remaining: Math.max(0, w.limit - used[i]!),
        windowSeconds: w.windowSeconds,
        resetAt: new Date(resets[i]!).toISOString(),
      }));
    });
  }

  close(): void {
    for (const [api, queue] of this.#queues) {
      for (const waiter of [...queue]) {
        this.#remove(api, waiter);
        waiter.reject(rateLimited(1, api));
      }
    }
  }

  /** Lets queued callers go in order while their calls fit, then sleeps until the next slot. */
  #pump(api: DefenderApi): void {
    const queue = this.#queue(api);
    clearTimeout(this.#timers.get(api));
    this.#timers.delete(api);
    for (;;) {
      const head = queue[0];
      if (!head) return;
      const now = this.#now();
      const wait = Math.max(this.#log.wait(api, now).ms, (this.#pausedUntil.get(api) ?? 0) - now);
      if (wait > 0) {
        this.#timers.set(
          api,
          setTimeout(() => this.#pump(api), wait),
        );
        return;
      }
      queue.shift();
      head.cleanup();
      this.#log.record(api, now);
      head.resolve({ waitedMs: now - head.enqueuedAt });
    }
  }

  #remove(api: DefenderApi, waiter: Waiter): void {
    waiter.cleanup();
    const queue = this.#queue(api);
    const index = queue.indexOf(waiter);
    if (index !== -1) queue.splice(index, 1);
    if (index === 0) this.#pump(api);
  }

  #queue(api: DefenderApi): Waiter[] {
    let queue = this.#queues.get(api);
    if (!queue) {
      queue = [];
      this.#queues.set(api, queue);
    }
    return queue;
  }
}
