import { randomUUID } from 'node:crypto';
import type { DefenderApi } from '../defender/apis.js';
import { DEFENDER_APIS } from '../defender/apis.js';
import type {
  AcquireOptions,
  ApiBudget,
  LimiterOptions,
  Permit,
  UpstreamLimiter,
  Waiter,
} from './limiter.js';
import { FairQueue, LocalRateLimiter, defaultMargin, queuedPermit } from './limiter.js';
import type { RedisConnection } from '../cache/redis.js';
import { withTimeout } from '../cache/redis.js';
import { PAUSE_SCRIPT, RESTORE_SCRIPT, WINDOW_SCRIPT } from './redis-scripts.js';
import type { RateLimitWindow } from './windows.js';
import { rateLimited } from '../errors.js';
import { SlidingWindowLog } from './sliding-window.js';

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

interface WindowState {
  readonly count: number;
  /** When the window's oldest call slides out (this process's clock, ms). */
  readonly resetAt: number;
}

interface ApiState {
  /** When Redis last said so (this process's clock). */
  readonly at: number;
  readonly waitMs: number;
  readonly windows: readonly WindowState[];
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
  readonly #client: RedisConnection;
  readonly #prefix: string;
  readonly #specs: { readonly limit: number; readonly windowMs: number }[];
  readonly #longestMs: number;
  readonly #timeoutMs: number;
  readonly #maxSleepMs: number;
  readonly #probeEveryMs: number;
  readonly #now: () => number;
  readonly #onModeChange: RedisLimiterOptions['onModeChange'];
  readonly #local: LocalRateLimiter;
  /** Every call this replica made, in either mode, for as long as a window holds it. */
  readonly #own: SlidingWindowLog;
  readonly #replicas: number;
  readonly #queues = new Map<DefenderApi, FairQueue<Waiter>>();
  readonly #pumping = new Set<DefenderApi>();
  readonly #state = new Map<DefenderApi, ApiState>();
  /** The epoch Redis last reported per API (see WINDOW_SCRIPT). */
  readonly #epochs = new Map<DefenderApi, string>();
  readonly #refreshing = new Set<DefenderApi>();
  readonly #sleeps = new Set<() => void>();
  readonly #id = randomUUID();
  #seq = 0;
  #redisUp = true;
  /** When Redis last failed: this replica's calls since then are not in Redis. */
  #downAt = 0;
  #restoring = false;
  /** Until then (after Redis returned) calls must fit the local share too. */
  #settleUntil = 0;
  readonly #settleMs: number;
  #probe: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly windows: readonly RateLimitWindow[],
    options: RedisLimiterOptions,
  ) {
    const margin = options.marginMs ?? defaultMargin;
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'defender-graph:limiter';
    this.#specs = windows.map((w) => ({
      limit: w.limit,
      windowMs: Math.ceil(w.windowSeconds * 1000 + margin(w.windowSeconds * 1000)),
    }));
    this.#longestMs = Math.max(...this.#specs.map((s) => s.windowMs));
    this.#own = new SlidingWindowLog(this.#specs);
    this.#timeoutMs = options.redisTimeoutMs ?? 100;
    this.#maxSleepMs = options.maxSleepMs ?? 1_000;
    this.#probeEveryMs = options.probeEveryMs ?? 500;
    this.#settleMs = options.settleMs ?? 3_000;
    this.#now = options.now ?? Date.now;
    this.#onModeChange = options.onModeChange;
    this.#replicas = Math.max(1, Math.floor(options.replicas ?? 1));
    this.#local = new LocalRateLimiter(shareOf(windows, this.#replicas), {
      ...(options.now && { now: options.now }),
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
    const { deadline, signal, caller = '' } = options;
    const now = this.#now();
    const queue = this.#queue(api);
    // Refused at once when even an optimistic reading of the last known state says the turn comes too late.
    const turn = this.whenAvailable(api, 1);
    if (turn > deadline) return Promise.reject(rateLimited(Math.ceil((turn - now) / 1000), api));

    return queuedPermit(
      { caller, now, deadline, signal },
      (waiter) => {
        queue.push(waiter);
        void this.#pump(api);
      },
      (waiter) => this.#remove(api, waiter),
      () => rateLimited(Math.max(1, Math.ceil((this.whenAvailable(api, 1) - this.#now()) / 1000)), api),
    );
  }

  /**
   * Background work takes a slot only when nobody here waits and the last word from Redis (under 1 s old)
   * left room for every replica doing the same at once; the slot is then recorded in Redis. Otherwise no,
   * and the state is refreshed so that a later try can say yes.
   */
  tryAcquire(api: DefenderApi): boolean {
    if (this.#closed || this.#queue(api).size > 0) return false;
    if (!this.#redisUp) {
      if (!this.#local.tryAcquire(api)) return false;
      this.#own.record(api, this.#now());
      return true;
    }
    const state = this.#state.get(api);
    const now = this.#now();
    if (now < this.#settleUntil) return false;
    if (!state || now - state.at > 1_000) {
      this.#refresh(api);
      return false;
    }
    const room = Math.min(...this.#specs.map((s, i) => s.limit - (state.windows[i]?.count ?? 0)));
    if (state.waitMs > now - state.at || room < this.#replicas) return false;
    this.#setState(api, {
      ...state,
      windows: state.windows.map((w) => ({ ...w, count: w.count + 1 })),
    });
    this.#own.record(api, now);
    this.#run(api, 'record').catch((error: unknown) => this.#down(error));
    return true;
  }

  /**
   * In Redis mode, an optimistic estimate from the last state Redis reported: only a turn later than the
   * deadline even so is refused early; the queue itself asks Redis.
   */
  whenAvailable(api: DefenderApi, calls: number): number {
    const now = this.#now();
    if (calls <= 0) return now;
    const k = this.#queue(api).size + calls;
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
    withTimeout(
      this.#client.sendCommand(['EVAL', PAUSE_SCRIPT, '1', this.#key(api, 'pause'), String(Math.ceil(ms))]),
      this.#timeoutMs,
    ).catch((error: unknown) => this.#down(error));
  }

  budget(): ApiBudget[] {
    if (!this.#redisUp) return this.#local.budget();
    const now = this.#now();
    return DEFENDER_APIS.flatMap((api) => {
      const state = this.#state.get(api);
      if (!state || now - state.at > 1_000) this.#refresh(api);
      return this.windows.map((w, i) => {
        const known = state?.windows[i];
        const fresh = known && known.resetAt > now;
        return {
          api,
          limit: w.limit,
          remaining: Math.max(0, w.limit - (fresh ? known.count : 0)),
          windowSeconds: w.windowSeconds,
          resetAt: new Date(fresh ? known.resetAt : now).toISOString(),
        };
      });
    });
  }

  /** Callers waiting for each API in this process (metrics). */
  queueDepths(): Record<DefenderApi, number> {
    return Object.fromEntries(DEFENDER_APIS.map((api) => [api, this.#queues.get(api)?.size ?? 0])) as Record<
      DefenderApi,
      number
    >;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#probe);
    this.#probe = undefined;
    this.#wakeAll();
    for (const [api, queue] of this.#queues) {
      for (const waiter of queue.all()) {
        queue.remove(waiter);
        waiter.cleanup();
        waiter.reject(rateLimited(1, api));
      }
    }
    this.#local.close();
  }

  /**
   * Serves this API's queue: the head asks Redis for a slot (or the local share while Redis is down), or
   * sleeps as long as it is told.
   */
  async #pump(api: DefenderApi): Promise<void> {
    if (this.#pumping.has(api)) return;
    this.#pumping.add(api);
    const queue = this.#queue(api);
    try {
      while (queue.size > 0 && !this.#closed) {
        let admitted: boolean;
        let waitMs: number;
        const settling = this.#now() < this.#settleUntil;
        const localWait = settling ? this.#local.whenAvailable(api, 1) - this.#now() : 0;
        if (this.#redisUp && localWait > 0) {
          // Just back from the local share: the call must fit it too, until the other replicas are back.
          admitted = false;
          waitMs = localWait;
        } else if (this.#redisUp) {
          try {
            ({ admitted, waitMs } = await this.#run(api, 'acquire'));
          } catch (error) {
            this.#down(error);
            continue;
          }
          if (admitted && settling) this.#local.seed(api, [this.#now()]);
        } else {
          admitted = this.#local.tryAcquire(api);
          waitMs = admitted ? 0 : Math.max(1, this.#local.whenAvailable(api, 1) - this.#now());
        }
        const now = this.#now();
        if (admitted) {
          this.#own.record(api, now);
          // Whoever's turn it is now (the one that asked may have left meanwhile).
          const waiter = queue.shift();
          if (!waiter) break;
          waiter.cleanup();
          waiter.resolve({ waitedMs: now - waiter.enqueuedAt });
          continue;
        }
        // Nobody here can go before `waitMs`: refuse at once those whose deadline comes first.
        for (const waiter of queue.all()) {
          if (waiter.deadline < now + waitMs) {
            queue.remove(waiter);
            waiter.cleanup();
            waiter.reject(rateLimited(Math.max(1, Math.ceil(waitMs / 1000)), api));
          }
        }
        if (queue.size > 0) await this.#sleep(Math.max(1, Math.min(waitMs, this.#maxSleepMs)));
      }
    } finally {
      this.#pumping.delete(api);
    }
  }

  async #run(
    api: DefenderApi,
    mode: 'acquire' | 'peek' | 'record',
  ): Promise<{ admitted: boolean; waitMs: number }> {
    const member = `${this.#id}:${++this.#seq}`;
    const args = this.#specs.flatMap((s) => [String(s.limit), String(s.windowMs)]);
    const sent = this.#now();
    const reply = (await withTimeout(
      this.#client.sendCommand([
        'EVAL',
        WINDOW_SCRIPT,
        '3',
        ...this.#keys(api),
        mode,
        member,
        String(this.#longestMs),
        member,
        ...args,
      ]),
      this.#timeoutMs,
    )) as (number | string)[];
    const now = this.#now();
    const [admitted, waitMs, epoch] = [Number(reply[0]), Number(reply[1]), String(reply[2])];
    // Redis's clock read half-way through the round trip.
    const at = Math.round((sent + now) / 2);
    this.#setState(api, {
      at,
      waitMs,
      windows: this.#specs.map((_, i) => {
        const oldest = Number(reply[4 + 2 * i]);
        return { count: Number(reply[3 + 2 * i]), resetAt: oldest < 0 ? at : at + oldest };
      }),
    });
    const known = this.#epochs.get(api);
    this.#epochs.set(api, epoch);
    // Redis lost the log while this replica was not looking (a restart between two calls): give it back ours.
    if (known !== undefined && known !== epoch && this.#redisUp) {
      this.#restore(api, known).catch((error: unknown) => this.#down(error));
    }
    return { admitted: admitted === 1, waitMs };
  }

  /** Gives Redis this replica's calls and pause for `api` (RESTORE_SCRIPT); resolves when Redis has them. */
  async #restore(api: DefenderApi, knownEpoch = this.#epochs.get(api) ?? ''): Promise<void> {
    const now = this.#now();
    const calls = this.#own.events(api, now);
    const counted = this.#downAt > 0 ? calls.filter((t) => t < this.#downAt).length : calls.length;
    const pause = Math.max(0, this.#local.pausedUntil(api) - now);
    const epoch = (await withTimeout(
      this.#client.sendCommand([
        'EVAL',
        RESTORE_SCRIPT,
        '3',
        ...this.#keys(api),
        knownEpoch,
        `${this.#id}:${++this.#seq}`,
        `${this.#id}:restore:${this.#seq}`,
        String(this.#longestMs),
        String(Math.ceil(pause)),
        String(counted),
        ...calls.map((t) => String(Math.max(0, now - t))),
      ]),
      this.#timeoutMs,
    )) as string;
    this.#epochs.set(api, String(epoch));
  }

  #refresh(api: DefenderApi): void {
    if (this.#refreshing.has(api) || this.#closed) return;
    this.#refreshing.add(api);
    this.#run(api, 'peek')
      .catch((error: unknown) => this.#down(error))
      .finally(() => this.#refreshing.delete(api));
  }

  #setState(api: DefenderApi, state: ApiState): void {
    this.#state.set(api, state);
  }

  /**
   * Redis failed: from now on this replica's share, which first takes its part of the calls Redis last
   * reported, so that the replicas' shares and what was already spent together stay within every window.
   */
  #down(error?: unknown): void {
    if (!this.#redisUp || this.#closed) return;
    this.#redisUp = false;
    const now = this.#now();
    this.#downAt = now;
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
      await withTimeout(this.#client.sendCommand(['PING']), this.#timeoutMs);
      for (const api of DEFENDER_APIS) await this.#restore(api);
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
    this.#settleUntil = this.#now() + this.#settleMs;
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

  #remove(api: DefenderApi, waiter: Waiter): void {
    waiter.cleanup();
    this.#queue(api).remove(waiter);
  }

  #keys(api: DefenderApi): [string, string, string] {
    return [this.#key(api, 'log'), this.#key(api, 'pause'), this.#key(api, 'epoch')];
  }

  #key(api: DefenderApi, what: 'log' | 'pause' | 'epoch'): string {
    return `${this.#prefix}:{${api}}:${what}`;
  }

  #queue(api: DefenderApi): FairQueue<Waiter> {
    let queue = this.#queues.get(api);
    if (!queue) {
      queue = new FairQueue<Waiter>();
      this.#queues.set(api, queue);
    }
    return queue;
  }
}

/** One replica's share of every window: the limit divided by the replicas, rounded down, at least 1. */
export function shareOf(windows: readonly RateLimitWindow[], replicas: number): RateLimitWindow[] {
  const n = Math.max(1, Math.floor(replicas));
  return windows.map((w) => ({
    limit: Math.max(1, Math.floor(w.limit / n)),
    windowSeconds: w.windowSeconds,
  }));
}

/**
 * The calls one replica reserves in its local share when Redis fails: its part (1/replicas, rounded up) of
 * the calls Redis last counted in each window, each dated as late as such a call can have been made: a call in
 * the shortest window when Redis counted it, one in a longer window but not the next shorter one just before
 * that shorter window began.
 */
function reservedCalls(
  state: ApiState,
  specs: readonly { readonly limit: number; readonly windowMs: number }[],
  replicas: number,
): number[] {
  const now = state.at;
  const order = specs.map((s, i) => ({ windowMs: s.windowMs, count: state.windows[i]?.count ?? 0 }));
  order.sort((a, b) => a.windowMs - b.windowMs);
  const times: number[] = [];
  let placed = 0;
  let at = now;
  for (const w of order) {
    const need = Math.ceil(w.count / replicas);
    for (; placed < need; placed++) times.push(at);
    at = now - w.windowMs;
  }
  return times;
}
