import type { DefenderApi } from '../defender/apis.js';
import { DEFENDER_APIS } from '../defender/apis.js';
import type { RateLimitWindow } from './windows.js';
import { SlidingWindowLog } from './sliding-window.js';
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

/** The gateway's side of Defender's throttling; one per process, shared by every request. */
export interface UpstreamLimiter {
  /** Waits for a slot for an interactive call (a client is waiting for it). */
  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit>;
  /** Takes a slot for background work (a cache refresh) only if one is free now and nobody is waiting. */
  tryAcquire(api: DefenderApi): boolean;
  /** When `calls` more calls of `api` could have gone, behind everyone queued now (epoch ms). */
  whenAvailable(api: DefenderApi, calls: number): number;
  /** Defender answered 429 with Retry-After: no caller may call `api` for `ms`. */
  pause(api: DefenderApi, ms: number): void;
  budget(): ApiBudget[];
  /** Rejects every queued caller, and every later `acquire` at once (shutdown). */
  close(): void;
}

/** A caller queued for a permit (see queuedPermit). */
export interface Waiter {
  readonly caller: string;
  readonly enqueuedAt: number;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (permit: Permit) => void;
  readonly reject: (error: unknown) => void;
  /** Clears the deadline timer and the abort listener; call it before settling the waiter. */
  readonly cleanup: () => void;
}

/**
 * A permit for a caller that must wait: `enqueue` receives its waiter, which the limiter resolves in turn. On
 * abort the waiter is `remove`d and the promise rejected with the signal's reason; at the deadline it is
 * `remove`d and rejected with `expired()` (a backstop: limiters refuse earlier when they know the turn is late).
 */
export function queuedPermit(
  request: { readonly caller: string; readonly now: number } & AcquireOptions,
  enqueue: (waiter: Waiter) => void,
  remove: (waiter: Waiter) => void,
  expired: () => unknown,
): Promise<Permit> {
  const { caller, now, deadline, signal } = request;
  return new Promise<Permit>((resolve, reject) => {
    const onAbort = () => {
      remove(waiter);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        remove(waiter);
        reject(expired());
      },
      Math.max(0, deadline - now),
    );
    const waiter: Waiter = {
      caller,
      enqueuedAt: now,
      deadline,
      signal,
      resolve,
      reject,
      cleanup: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    enqueue(waiter);
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

export interface LimiterOptions {
  readonly now?: () => number;
  /**
   * Extra length given to every window, so that calls admitted exactly one window apart here cannot arrive
   * less than one window apart at Defender: what delays one call more than another between the limiter and
   * Defender (event-loop lag of a busy process, the network) does not shrink with the window. Default: 2% of
   * the window, at least 250 ms and at most 1 s (1 s for Defender's 60 s and 3,600 s windows).
   */
  readonly marginMs?: (windowMs: number) => number;
}

export const defaultMargin = (windowMs: number) => Math.min(1_000, Math.max(250, windowMs * 0.02));
const ANONYMOUS = '';

/**
 * Every window of `DEFENDER_RATE_LIMITS` at once, per Defender API, in this process. Callers queue until
 * their call fits every window (and any Retry-After pause is over), served in turn per caller; background
 * refreshes only take slots nobody is waiting for. A caller whose turn cannot come before its deadline is
 * refused at once with RATE_LIMITED and `retryAfterSeconds`, so the gateway itself never sends the call that
 * would earn a 429.
 */
export class LocalRateLimiter implements UpstreamLimiter {
  readonly #log: SlidingWindowLog;
  readonly #now: () => number;
  readonly #queues = new Map<DefenderApi, FairQueue>();
  readonly #pausedUntil = new Map<DefenderApi, number>();
  readonly #timers = new Map<DefenderApi, NodeJS.Timeout>();
  #closed = false;

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

  acquire(api: DefenderApi, { deadline, signal, caller = ANONYMOUS }: AcquireOptions): Promise<Permit> {
    signal?.throwIfAborted();
    if (this.#closed) return Promise.reject(rateLimited(1, api));
    const now = this.#now();
    const queue = this.#queue(api);
    if (queue.size === 0 && this.#freeNow(api, now)) {
      this.#log.record(api, now);
      return Promise.resolve({ waitedMs: 0 });
    }
    const turn = this.#turnAt(api, now, queue.ahead(caller));
    if (turn > deadline) return Promise.reject(rateLimited(Math.ceil((turn - now) / 1000), api));

    return queuedPermit(
      { caller, now, deadline, signal },
      (waiter) => {
        queue.push(waiter);
        this.#pump(api);
      },
      (waiter) => this.#remove(api, waiter),
      () => {
        const retry = Math.max(this.#turnAt(api, this.#now(), this.#queue(api).size) - this.#now(), 1_000);
        return rateLimited(Math.ceil(retry / 1000), api);
      },
    );
  }

  tryAcquire(api: DefenderApi): boolean {
    const now = this.#now();
    if (this.#closed || this.#queue(api).size > 0 || !this.#freeNow(api, now)) return false;
    this.#log.record(api, now);
    return true;
  }

  whenAvailable(api: DefenderApi, calls: number): number {
    const now = this.#now();
    if (calls <= 0) return now;
    return this.#turnAt(api, now, this.#queue(api).size + calls - 1);
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

  /**
   * Counts calls made elsewhere at `times` against this limiter's windows (a replica taking over from a
   * shared budget reserves its part of what was already spent).
   */
  seed(api: DefenderApi, times: readonly number[]): void {
    this.#log.add(api, times, this.#now());
  }

  /** Forgets every call on record; Retry-After pauses stay. */
  forget(): void {
    this.#log.reset();
  }

  /** Until when a Retry-After pause holds `api` (epoch ms; 0 when none). */
  pausedUntil(api: DefenderApi): number {
    return this.#pausedUntil.get(api) ?? 0;
  }

  /** How many callers wait for each API now (metrics). */
  queueDepths(): Record<DefenderApi, number> {
    return Object.fromEntries(DEFENDER_APIS.map((api) => [api, this.#queues.get(api)?.size ?? 0])) as Record<
      DefenderApi,
      number
    >;
  }

  close(): void {
    this.#closed = true;
    for (const [api, queue] of this.#queues) {
      for (const waiter of queue.all()) {
        this.#remove(api, waiter);
        waiter.reject(rateLimited(1, api));
      }
    }
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
    const queue = this.#queue(api);
    clearTimeout(this.#timers.get(api));
    this.#timers.delete(api);
    while (queue.size > 0) {
      const now = this.#now();
      const wait = this.#turnAt(api, now, 0) - now;
      if (wait > 0) {
        this.#timers.set(
          api,
          setTimeout(() => this.#pump(api), wait),
        );
        return;
      }
      const waiter = queue.shift()!;
      waiter.cleanup();
      this.#log.record(api, now);
      waiter.resolve({ waitedMs: now - waiter.enqueuedAt });
    }
  }

  #remove(api: DefenderApi, waiter: Waiter): void {
    waiter.cleanup();
    if (this.#queue(api).remove(waiter)) this.#pump(api);
  }

  #queue(api: DefenderApi): FairQueue {
    let queue = this.#queues.get(api);
    if (!queue) {
      queue = new FairQueue();
      this.#queues.set(api, queue);
    }
    return queue;
  }
}
