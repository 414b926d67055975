import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { DefenderApi } from '../defender/apis.js';
import { DEFENDER_RATE_LIMITED_APIS } from '../defender/apis.js';
import type { AcquireOptions, ApiBudget, LimiterOptions, Permit, UpstreamLimiter } from './limiter.js';
import { LocalRateLimiter, windowBudget, windowSpecs } from './limiter.js';
import type { RedisConnection } from '../cache/redis.js';
import type { RateLimitWindow } from './windows.js';
import { rateLimited } from '../errors.js';
import type { WindowSpec } from './sliding-window.js';
import { SlidingWindowLog } from './sliding-window.js';
import { ApiQueues, lateTurn, queuedPermit } from './fair-queue.js';
import { reservedCalls, shareOf } from './local-share.js';
import type { ApiState } from './redis-windows.js';
import { RedisWindows } from './redis-windows.js';

export interface RedisLimiterOptions extends LimiterOptions {
  readonly client: RedisConnection;
  /** Prefix of the limiter's keys. Default `defender-graph:limiter`. */
  readonly prefix?: string;
  /** Replicas sharing the budget (`GATEWAY_REPLICAS`): while Redis is unreachable each keeps 1/replicas. */
  readonly replicas?: number;
  /** A Redis call slower than this counts as failed (ms). Default 100. */
  readonly redisTimeoutMs?: number;
  /** Longest sleep before asking Redis again, since other replicas take and free slots too (ms). Default 1,000. */
  readonly maxSleepMs?: number;
  /** How often to try Redis again while it is unreachable (ms). Default 500. */
  readonly probeEveryMs?: number;
  /**
   * After Redis returns, how long calls must also fit this replica's local share (ms), while the other
   * replicas reconnect and give Redis the calls they made in theirs. Default 3,000 (Redis clients reconnect
   * within 1 s, and probe every `probeEveryMs`).
   */
  readonly settleMs?: number;
  /** Told when the limiter switches between Redis and its local share. */
  readonly onModeChange?: (mode: 'redis' | 'local', error?: unknown) => void;
}

/**
 * The budget shared by every replica: the same sliding windows and safety margin as LocalRateLimiter, but
 * the window log and any Retry-After pause live in Redis, checked and taken atomically by one script. Callers
 * of this process queue in turn per caller (FairQueue); the head of the queue asks Redis for a slot and,
 * without one, sleeps the time Redis says (at most `maxSleepMs`, as other replicas take and free slots).
 *
 * When Redis fails or is slow, the same queue is served from a LocalRateLimiter holding this replica's share
 * of the budget (every limit divided by the replicas, rounded down, at least 1). So that the replicas together
 * stay within the limits across the switch, the share starts with this replica's part of the calls Redis last
 * reported in each window, dated as late as they can have been made. When Redis answers again, this replica
 * first gives it the calls it made meanwhile (and, if Redis lost its log, every call of its own still in a
 * window) and any pause still running, then goes back to Redis; for `settleMs` after that its calls must fit
 * its share too, since the other replicas may still be calling in theirs until they are back as well.
 */
export class RedisRateLimiter implements UpstreamLimiter {
  readonly #redis: RedisWindows;
  readonly #specs: readonly WindowSpec[];
  readonly #maxSleepMs: number;
  readonly #probeEveryMs: number;
  readonly #settleMs: number;
  readonly #clock: Clock;
  readonly #onModeChange: RedisLimiterOptions['onModeChange'];
  readonly #local: LocalRateLimiter;
  /** Every call this replica made, in either mode, for as long as a window holds it. */
  readonly #own: SlidingWindowLog;
  readonly #replicas: number;
  readonly #queues = new ApiQueues();
  readonly #pumping = new Set<DefenderApi>();
  readonly #state = new Map<DefenderApi, ApiState>();
  readonly #refreshing = new Set<DefenderApi>();
  readonly #sleeps = new Set<() => void>();
  #redisUp = true;
  /** When Redis last failed: this replica's calls since then are not in Redis. */
  #downAt = 0;
  #restoring = false;
  /** Until then (after Redis returned) calls must fit the local share too. */
  #settleUntil = 0;
  #probe: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #apis: readonly DefenderApi[];

  constructor(
    readonly windows: readonly RateLimitWindow[],
    options: RedisLimiterOptions,
  ) {
    this.#apis = options.apis ?? DEFENDER_RATE_LIMITED_APIS;
    this.#clock = options.clock ?? systemClock;
    this.#specs = windowSpecs(windows, options.marginMs);
    this.#redis = new RedisWindows({
      client: options.client,
      prefix: options.prefix ?? 'defender-graph:limiter',
      specs: this.#specs,
      timeoutMs: options.redisTimeoutMs ?? 100,
      clock: this.#clock,
    });
    this.#own = new SlidingWindowLog(this.#specs);
    this.#maxSleepMs = options.maxSleepMs ?? 1_000;
    this.#probeEveryMs = options.probeEveryMs ?? 500;
    this.#settleMs = options.settleMs ?? 3_000;
    this.#onModeChange = options.onModeChange;
    this.#replicas = Math.max(1, Math.floor(options.replicas ?? 1));
    this.#local = new LocalRateLimiter(shareOf(windows, this.#replicas), {
      apis: this.#apis,
      clock: this.#clock,
      ...(options.marginMs && { marginMs: options.marginMs }),
    });
  }

  /** Whether calls are counted in Redis now (false: in this replica's local share). */
  get shared(): boolean {
    return this.#redisUp;
  }

  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit> {
    options.signal?.throwIfAborted();
    if (this.#closed) return Promise.reject(rateLimited(1, api));
    const now = this.#clock.now();
    return queuedPermit(
      this.#queues.of(api),
      // Refused at once only when even an optimistic reading of the last known state says the turn comes late.
      { ...options, api, now, turn: this.whenAvailable(api, 1) },
      {
        pump: () => void this.#pump(api),
        expired: () => lateTurn(api, this.whenAvailable(api, 1), this.#clock.now()),
      },
    );
  }

  /**
   * Background work takes a slot only when nobody here waits and the last word from Redis (under 1 s old)
   * left room for every replica doing the same at once; the slot is then recorded in Redis. Otherwise no,
   * and the state is refreshed so that a later try can say yes.
   */
  tryAcquire(api: DefenderApi): Permit | undefined {
    if (this.#closed || this.#queues.of(api).size > 0) return undefined;
    const now = this.#clock.now();
    if (!this.#redisUp) {
      const share = this.#local.tryAcquire(api);
      return share && { waitedMs: 0, done: this.#counted(api, now, { share }) };
    }
    const state = this.#state.get(api);
    if (now < this.#settleUntil) return undefined;
    if (!state || now - state.at > 1_000) {
      this.#refresh(api);
      return undefined;
    }
    const room = Math.min(...this.#specs.map((s, i) => s.limit - (state.windows[i]?.count ?? 0)));
    if (state.waitMs > now - state.at || room < this.#replicas) return undefined;
    this.#state.set(api, {
      ...state,
      windows: state.windows.map((w) => ({ ...w, count: w.count + 1 })),
    });
    const recorded = this.#run(api, 'record');
    recorded.catch((error: unknown) => this.#down(error));
    return { waitedMs: 0, done: this.#counted(api, now, { recorded }) };
  }

  /**
   * In Redis mode, an optimistic estimate from the last state Redis reported: only a turn later than the
   * deadline even so is refused early; the queue itself asks Redis.
   */
  whenAvailable(api: DefenderApi, calls: number): number {
    const now = this.#clock.now();
    if (calls <= 0) return now;
    const k = this.#queues.of(api).size + calls;
    if (!this.#redisUp) return this.#local.whenAvailable(api, k);
    const settling = now < this.#settleUntil ? this.#local.whenAvailable(api, k) : now;
    const state = this.#state.get(api);
    if (!state) return settling;
    let at = Math.max(settling, now, state.at + state.waitMs);
    this.#specs.forEach((spec, i) => {
      const w = state.windows[i];
      if (!w) return;
      const excess = w.count + k - spec.limit;
      if (excess > 0) at = Math.max(at, w.resetAt + Math.floor((excess - 1) / spec.limit) * spec.windowMs);
    });
    return at;
  }

  pause(api: DefenderApi, ms: number): void {
    // Locally too, so that the pause holds should Redis fail meanwhile (and is given back to Redis after).
    this.#local.pause(api, ms);
    this.#wakeAll();
    if (!this.#redisUp) return;
    this.#redis.pause(api, ms).catch((error: unknown) => this.#down(error));
  }

  budget(): ApiBudget[] {
    if (!this.#redisUp) return this.#local.budget();
    const now = this.#clock.now();
    return this.#apis.flatMap((api) => {
      const state = this.#state.get(api);
      if (!state || now - state.at > 1_000) this.#refresh(api);
      return this.windows.map((w, i) => {
        const known = state?.windows[i];
        const fresh = known && known.resetAt > now;
        return windowBudget(api, w, fresh ? known.count : 0, fresh ? known.resetAt : now);
      });
    });
  }

  /** The APIs these windows apply to. */
  get apis(): readonly DefenderApi[] {
    return this.#apis;
  }

  /** Callers waiting for each API in this process (metrics). */
  queueDepths(): Record<DefenderApi, number> {
    return this.#queues.depths();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#probe);
    this.#probe = undefined;
    this.#wakeAll();
    this.#queues.refuseAll();
    this.#local.close();
  }

  /**
   * Serves this API's queue: the head asks Redis for a slot (or the local share while Redis is down), or
   * sleeps as long as it is told.
   */
  async #pump(api: DefenderApi): Promise<void> {
    if (this.#pumping.has(api)) return;
    this.#pumping.add(api);
    const queue = this.#queues.of(api);
    try {
      while (queue.size > 0 && !this.#closed) {
        let admitted: boolean;
        let waitMs: number;
        let member: string | undefined;
        let share: Permit | undefined;
        const settling = this.#clock.now() < this.#settleUntil;
        const localWait = settling ? this.#local.whenAvailable(api, 1) - this.#clock.now() : 0;
        if (this.#redisUp && localWait > 0) {
          // Just back from the local share: the call must fit it too, until the other replicas are back.
          admitted = false;
          waitMs = localWait;
        } else if (this.#redisUp) {
          try {
            ({ admitted, waitMs, member } = await this.#run(api, 'acquire'));
          } catch (error) {
            this.#down(error);
            continue;
          }
          if (admitted && settling) this.#local.seed(api, [this.#clock.now()]);
        } else {
          share = this.#local.tryAcquire(api);
          admitted = share !== undefined;
          waitMs = admitted ? 0 : Math.max(1, this.#local.whenAvailable(api, 1) - this.#clock.now());
        }
        const now = this.#clock.now();
        if (admitted) {
          // Whoever's turn it is now (the one that asked may have left meanwhile).
          const done = this.#counted(api, now, { member, share });
          const waiter = queue.shift();
          if (!waiter) break;
          waiter.grant(now, done);
          continue;
        }
        // Nobody here can go before `waitMs`: refuse at once those whose deadline comes first.
        this.#queues.refuseDueBefore(api, now + waitMs, () =>
          rateLimited(Math.max(1, Math.ceil(waitMs / 1000)), api),
        );
        if (queue.size > 0) await this.#sleep(Math.max(1, Math.min(waitMs, this.#maxSleepMs)));
      }
    } finally {
      this.#pumping.delete(api);
    }
  }

  /**
   * Counts a call let go at `at` in this replica's own log; it is counted in Redis too (as `member`, or the
   * member a `record` gives it) or in the local share (`share`). Returns its permit's `done`: count it from
   * then on in each (see {@link Permit.done}).
   */
  #counted(
    api: DefenderApi,
    at: number,
    counted: {
      readonly member?: string | undefined;
      readonly recorded?: Promise<{ readonly member: string }>;
      readonly share?: Permit | undefined;
    },
  ): () => void {
    this.#own.record(api, at);
    return () => {
      this.#own.move(api, at, this.#clock.now());
      counted.share?.done?.();
      const settle = (member: string) => {
        if (this.#redisUp) this.#redis.settle(api, member).catch((error: unknown) => this.#down(error));
      };
      if (counted.member !== undefined) settle(counted.member);
      counted.recorded?.then(
        ({ member }) => settle(member),
        () => {},
      );
    };
  }

  /** Asks Redis (WINDOW_SCRIPT) and keeps what it said; gives it back our calls if it lost the log. */
  async #run(
    api: DefenderApi,
    mode: 'acquire' | 'peek' | 'record',
  ): Promise<{ admitted: boolean; waitMs: number; member: string }> {
    const { admitted, member, state, lostEpoch } = await this.#redis.window(api, mode);
    this.#state.set(api, state);
    // Redis lost the log while this replica was not looking (a restart between two calls): give it back ours.
    if (lostEpoch !== undefined && this.#redisUp) {
      this.#restore(api, lostEpoch).catch((error: unknown) => this.#down(error));
    }
    return { admitted, waitMs: state.waitMs, member };
  }

  /** Gives Redis this replica's calls and pause for `api`; resolves when Redis has them. */
  async #restore(api: DefenderApi, knownEpoch?: string): Promise<void> {
    const now = this.#clock.now();
    const calls = this.#own.events(api, now);
    await this.#redis.restore(
      api,
      {
        ages: calls.map((t) => Math.max(0, now - t)),
        counted: this.#downAt > 0 ? calls.filter((t) => t < this.#downAt).length : calls.length,
        pauseMs: Math.max(0, this.#local.pausedUntil(api) - now),
      },
      knownEpoch,
    );
  }

  #refresh(api: DefenderApi): void {
    if (this.#refreshing.has(api) || this.#closed) return;
    this.#refreshing.add(api);
    this.#run(api, 'peek')
      .catch((error: unknown) => this.#down(error))
      .finally(() => this.#refreshing.delete(api));
  }

  /**
   * Redis failed: from now on this replica's share, which first takes its part of the calls Redis last
   * reported, so that the replicas' shares and what was already spent together stay within every window.
   */
  #down(error?: unknown): void {
    if (!this.#redisUp || this.#closed) return;
    this.#redisUp = false;
    this.#downAt = this.#clock.now();
    this.#local.forget();
    for (const [api, state] of this.#state) {
      this.#local.seed(api, reservedCalls(state, this.#specs, this.#replicas));
    }
    this.#state.clear();
    this.#onModeChange?.('local', error);
    this.#wakeAll();
    this.#probe = setInterval(() => void this.#tryUp(), this.#probeEveryMs);
    this.#probe.unref();
  }

  /** While down: once Redis answers, give it back what happened meanwhile, then switch to it. */
  async #tryUp(): Promise<void> {
    if (this.#redisUp || this.#closed || this.#restoring) return;
    this.#restoring = true;
    try {
      await this.#redis.ping();
      for (const api of this.#apis) await this.#restore(api);
    } catch {
      return;
    } finally {
      this.#restoring = false;
    }
    if (this.#redisUp || this.#closed) return;
    clearInterval(this.#probe);
    this.#probe = undefined;
    this.#redisUp = true;
    this.#downAt = 0;
    this.#settleUntil = this.#clock.now() + this.#settleMs;
    this.#onModeChange?.('redis');
    this.#wakeAll();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleeps.add(wake);
    });
  }

  /** Wakes every sleeping queue, to look again (the mode changed, a pause was set, or closing). */
  #wakeAll(): void {
    for (const wake of [...this.#sleeps]) wake();
  }
}
