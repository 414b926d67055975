import type { DefenderApi } from '../defender/apis.js';
import { DEFENDER_RATE_LIMITED_APIS } from '../defender/apis.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { RateLimitWindow } from './windows.js';
import type { WindowSpec } from './sliding-window.js';
import { SlidingWindowLog } from './sliding-window.js';
import { rateLimited } from '../errors.js';
import { ANONYMOUS, ApiQueues, lateTurn, queuedPermit } from './fair-queue.js';

/** What a caller of the limiter learns when its call may go. */
export interface Permit {
  /** Time spent queued, in ms. */
  readonly waitedMs: number;
  /**
   * Says that the call this permit let go is over (answered, failed or given up), so that the limiter counts it
   * from now on instead of from when it let it go. Defender counts a call when it arrives, somewhere between the
   * two; counted from its end, a call can never be counted earlier than Defender counted it, however long it was
   * held up on the way (a busy event loop, a new TLS connection, the network), so calls let go one window apart
   * arrive at least one window apart. Called once; a limiter that needs nothing of it leaves it out.
   */
  readonly done?: () => void;
}

export interface AcquireOptions {
  /** Epoch ms after which the call is no longer wanted: the caller gets RATE_LIMITED instead of a permit. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  /** Whose call it is: callers share the budget in turn, so one heavy caller cannot starve the others. */
  readonly caller?: string;
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

/** One window's budget from the calls counted in it and when it regains a slot (epoch ms). */
export function windowBudget(
  api: DefenderApi,
  window: RateLimitWindow,
  used: number,
  resetAt: number,
): ApiBudget {
  return {
    api,
    limit: window.limit,
    remaining: Math.max(0, window.limit - used),
    windowSeconds: window.windowSeconds,
    resetAt: new Date(resetAt).toISOString(),
  };
}

/** The gateway's side of Defender's throttling; one per process, shared by every request. */
export interface UpstreamLimiter {
  /** Waits for a slot for an interactive call (a client is waiting for it). */
  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit>;
  /** Takes a slot for background work (a cache refresh) only if one is free now and nobody is waiting. */
  tryAcquire(api: DefenderApi): Permit | undefined;
  /** When `calls` more calls of `api` could have gone, behind everyone queued now (epoch ms). */
  whenAvailable(api: DefenderApi, calls: number): number;
  /** Defender answered 429 with Retry-After: no caller may call `api` for `ms`. */
  pause(api: DefenderApi, ms: number): void;
  budget(): ApiBudget[];
  /** Rejects every queued caller, and every later `acquire` at once (shutdown). */
  close(): void;
}

export interface LimiterOptions {
  /** Where the limiter reads the time (windows, pauses, deadlines). Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Extra length given to every window. A call counts from when it is over (see Permit.done), so what holds one
   * call up more than another on its way to Defender (a busy event loop, a new TLS connection, the network)
   * cannot bring two calls let go a window apart closer at Defender; the margin is for what that does not cover:
   * Defender's clock and how it cuts its windows, which are not documented. Default: 2% of the window, at least
   * 250 ms and at most 1 s (1 s for Defender's 60 s and 3,600 s windows).
   */
  readonly marginMs?: (windowMs: number) => number;
  /** The APIs these windows apply to, as `budget()` lists them. Default: the REST routes on `DEFENDER_RATE_LIMITS` (`DEFENDER_RATE_LIMITED_APIS`). */
  readonly apis?: readonly DefenderApi[];
}

export const defaultMargin = (windowMs: number) => Math.min(1_000, Math.max(250, windowMs * 0.02));

/** The windows as the limiters count them: each made longer by its margin, in whole ms. */
export function windowSpecs(
  windows: readonly RateLimitWindow[],
  margin: (windowMs: number) => number = defaultMargin,
): WindowSpec[] {
  return windows.map((w) => ({
    limit: w.limit,
    windowMs: Math.ceil(w.windowSeconds * 1000 + margin(w.windowSeconds * 1000)),
  }));
}

/**
 * Every window of `DEFENDER_RATE_LIMITS` at once, per Defender API, in this process. Callers queue until
 * their call fits every window (and any Retry-After pause is over), served in turn per caller; background
 * refreshes only take slots nobody is waiting for. A caller whose turn cannot come before its deadline is
 * refused at once with RATE_LIMITED and `retryAfterSeconds`, so the gateway itself never sends the call that
 * would earn a 429.
 */
export class LocalRateLimiter implements UpstreamLimiter {
  readonly #log: SlidingWindowLog;
  readonly #clock: Clock;
  readonly #queues = new ApiQueues();
  readonly #pausedUntil = new Map<DefenderApi, number>();
  readonly #timers = new Map<DefenderApi, NodeJS.Timeout>();
  readonly #apis: readonly DefenderApi[];
  #closed = false;

  constructor(
    readonly windows: readonly RateLimitWindow[],
    options: LimiterOptions = {},
  ) {
    this.#log = new SlidingWindowLog(windowSpecs(windows, options.marginMs));
    this.#clock = options.clock ?? systemClock;
    this.#apis = options.apis ?? DEFENDER_RATE_LIMITED_APIS;
  }

  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit> {
    options.signal?.throwIfAborted();
    if (this.#closed) return Promise.reject(rateLimited(1, api));
    const now = this.#clock.now();
    const queue = this.#queues.of(api);
    if (queue.size === 0 && this.#freeNow(api, now))
      return Promise.resolve({ waitedMs: 0, done: this.#take(api, now) });
    return queuedPermit(
      queue,
      { ...options, api, now, turn: this.#turnAt(api, now, queue.ahead(options.caller ?? ANONYMOUS)) },
      {
        pump: () => this.#pump(api),
        expired: () => {
          const at = this.#clock.now();
          return lateTurn(api, Math.max(this.#turnAt(api, at, queue.size), at + 1_000), at);
        },
      },
    );
  }

  tryAcquire(api: DefenderApi): Permit | undefined {
    const now = this.#clock.now();
    if (this.#closed || this.#queues.of(api).size > 0 || !this.#freeNow(api, now)) return undefined;
    return { waitedMs: 0, done: this.#take(api, now) };
  }

  whenAvailable(api: DefenderApi, calls: number): number {
    const now = this.#clock.now();
    if (calls <= 0) return now;
    return this.#turnAt(api, now, this.#queues.of(api).size + calls - 1);
  }

  pause(api: DefenderApi, ms: number): void {
    const until = this.#clock.now() + ms;
    this.#pausedUntil.set(api, Math.max(until, this.#pausedUntil.get(api) ?? 0));
    this.#pump(api);
  }

  budget(): ApiBudget[] {
    const now = this.#clock.now();
    return this.#apis.flatMap((api) => {
      const used = this.#log.usage(api, now);
      const resets = this.#log.resetAt(api, now);
      return this.windows.map((w, i) => windowBudget(api, w, used[i]!, resets[i]!));
    });
  }

  /**
   * Counts calls made elsewhere at `times` against this limiter's windows (a replica taking over from a
   * shared budget reserves its part of what was already spent).
   */
  seed(api: DefenderApi, times: readonly number[]): void {
    this.#log.add(api, times, this.#clock.now());
  }

  /** Forgets every call on record; Retry-After pauses stay. */
  forget(): void {
    this.#log.reset();
  }

  /** Until when a Retry-After pause holds `api` (epoch ms; 0 when none). */
  pausedUntil(api: DefenderApi): number {
    return this.#pausedUntil.get(api) ?? 0;
  }

  /** The APIs these windows apply to. */
  get apis(): readonly DefenderApi[] {
    return this.#apis;
  }

  /** How many callers wait for each API now (metrics). */
  queueDepths(): Record<DefenderApi, number> {
    return this.#queues.depths();
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queues.refuseAll();
  }

  /** Counts a call let go at `now`; what its permit's `done` does: count it from then on. */
  #take(api: DefenderApi, now: number): () => void {
    this.#log.record(api, now);
    return () => this.#log.move(api, now, this.#clock.now());
  }

  #freeNow(api: DefenderApi, now: number): boolean {
    return this.#log.wait(api, now).ms === 0 && (this.#pausedUntil.get(api) ?? 0) <= now;
  }

  /** When the call `k` places from now (0 = the next) can go, given every window and any pause. */
  #turnAt(api: DefenderApi, now: number, k: number): number {
    return Math.max(this.#log.slotAt(api, now, k), this.#pausedUntil.get(api) ?? 0);
  }

  /** Lets queued callers go in turn while their calls fit, then sleeps until the next slot. */
  #pump(api: DefenderApi): void {
    const queue = this.#queues.of(api);
    clearTimeout(this.#timers.get(api));
    this.#timers.delete(api);
    while (queue.size > 0 && !this.#closed) {
      const now = this.#clock.now();
      const wait = this.#turnAt(api, now, 0) - now;
      if (wait > 0) {
        this.#timers.set(
          api,
          setTimeout(() => this.#pump(api), wait),
        );
        return;
      }
      queue.shift()!.grant(now, this.#take(api, now));
    }
  }
}
