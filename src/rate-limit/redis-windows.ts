import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { DefenderApi } from '../defender/apis.js';
import type { RedisConnection } from '../cache/redis.js';
import { withTimeout } from '../cache/redis.js';
import { PAUSE_SCRIPT, RESTORE_SCRIPT, SETTLE_SCRIPT, WINDOW_SCRIPT } from './redis-scripts.js';
import type { WindowSpec } from './sliding-window.js';

/** One window as Redis last reported it. */
export interface WindowState {
  readonly count: number;
  /** When the window's oldest call slides out (this process's clock, ms). */
  readonly resetAt: number;
}

/** One API's budget as Redis last reported it. */
export interface ApiState {
  /** When Redis last said so (this process's clock). */
  readonly at: number;
  /** How long until a call fits, as of `at` (ms). */
  readonly waitMs: number;
  /** In the order of the specs. */
  readonly windows: readonly WindowState[];
}

/** What one WINDOW_SCRIPT call learnt. */
export interface WindowReply {
  readonly admitted: boolean;
  /** The call's member in the log, when admitted (see {@link RedisWindows.settle}). */
  readonly member: string;
  readonly state: ApiState;
  /**
   * The epoch this process knew when Redis now reports another: Redis lost the log in between (a restart),
   * and the calls of this replica should be given back to it (see {@link RedisWindows.restore}).
   */
  readonly lostEpoch?: string;
}

export interface RedisWindowsOptions {
  readonly client: RedisConnection;
  /** Prefix of every key. */
  readonly prefix: string;
  /** The windows, margins included. */
  readonly specs: readonly WindowSpec[];
  /** A Redis call slower than this fails (ms). */
  readonly timeoutMs: number;
  readonly clock: Clock;
}

/**
 * The shared sliding-window log of every API in Redis, as this process talks to it: the scripts of
 * redis-scripts.ts with their keys and arguments, their replies read into an ApiState on this process's
 * clock, and the epoch Redis last reported per API. Every call fails after `timeoutMs`; deciding what a
 * failure means (the local share) is RedisRateLimiter's.
 */
export class RedisWindows {
  readonly #options: RedisWindowsOptions;
  readonly #longestMs: number;
  /** The epoch Redis last reported per API (see WINDOW_SCRIPT). */
  readonly #epochs = new Map<DefenderApi, string>();
  readonly #id = randomUUID();
  #seq = 0;

  constructor(options: RedisWindowsOptions) {
    this.#options = options;
    this.#longestMs = Math.max(...options.specs.map((s) => s.windowMs));
  }

  /** Takes a slot if every window has room (`acquire`), counts a call whatever they say (`record`), or looks. */
  async window(api: DefenderApi, mode: 'acquire' | 'peek' | 'record'): Promise<WindowReply> {
    const { clock, specs } = this.#options;
    const member = this.#member();
    const sent = clock.now();
    const reply = (await this.#eval(WINDOW_SCRIPT, api, [
      mode,
      member,
      String(this.#longestMs),
      member,
      ...specs.flatMap((s) => [String(s.limit), String(s.windowMs)]),
    ])) as (number | string)[];
    // Redis's clock read half-way through the round trip.
    const at = Math.round((sent + clock.now()) / 2);
    const state: ApiState = {
      at,
      waitMs: Number(reply[1]),
      windows: specs.map((_, i) => {
        const oldest = Number(reply[4 + 2 * i]);
        return { count: Number(reply[3 + 2 * i]), resetAt: oldest < 0 ? at : at + oldest };
      }),
    };
    const epoch = String(reply[2]);
    const known = this.#epochs.get(api);
    this.#epochs.set(api, epoch);
    return {
      admitted: Number(reply[0]) === 1,
      member,
      state,
      ...(known !== undefined && known !== epoch && { lostEpoch: known }),
    };
  }

  /**
   * Gives Redis this replica's calls of `api` (their ages in ms, the first `counted` of them already counted
   * by Redis unless it lost the log since `knownEpoch`) and a pause still to run (ms); resolves when Redis
   * has them (RESTORE_SCRIPT).
   */
  async restore(
    api: DefenderApi,
    calls: { readonly ages: readonly number[]; readonly counted: number; readonly pauseMs: number },
    knownEpoch = this.#epochs.get(api) ?? '',
  ): Promise<void> {
    const member = this.#member();
    const epoch = await this.#eval(RESTORE_SCRIPT, api, [
      knownEpoch,
      member,
      `${this.#id}:restore:${this.#seq}`,
      String(this.#longestMs),
      String(Math.ceil(calls.pauseMs)),
      String(calls.counted),
      ...calls.ages.map((age) => String(age)),
    ]);
    this.#epochs.set(api, String(epoch));
  }

  /** The call admitted as `member` is over: Redis counts it from now on (SETTLE_SCRIPT). */
  async settle(api: DefenderApi, member: string): Promise<void> {
    await withTimeout(
      this.#options.client.sendCommand([
        'EVAL',
        SETTLE_SCRIPT,
        '1',
        this.#key(api, 'log'),
        member,
        String(this.#longestMs),
      ]),
      this.#options.timeoutMs,
    );
  }

  /** Pauses `api` for every replica for `ms`, never shortening a longer pause. */
  async pause(api: DefenderApi, ms: number): Promise<void> {
    await withTimeout(
      this.#options.client.sendCommand([
        'EVAL',
        PAUSE_SCRIPT,
        '1',
        this.#key(api, 'pause'),
        String(Math.ceil(ms)),
      ]),
      this.#options.timeoutMs,
    );
  }

  /** Resolves when Redis answers. */
  async ping(): Promise<void> {
    await withTimeout(this.#options.client.sendCommand(['PING']), this.#options.timeoutMs);
  }

  /** Runs a script on the three keys of `api`: its log, its pause and its epoch. */
  #eval(script: string, api: DefenderApi, args: readonly string[]): Promise<unknown> {
    const keys = [this.#key(api, 'log'), this.#key(api, 'pause'), this.#key(api, 'epoch')];
    return withTimeout(
      this.#options.client.sendCommand(['EVAL', script, String(keys.length), ...keys, ...args]),
      this.#options.timeoutMs,
    );
  }

  /** A member no other call of any replica uses: this process's id and a sequence number. */
  #member(): string {
    return `${this.#id}:${++this.#seq}`;
  }

  #key(api: DefenderApi, what: 'log' | 'pause' | 'epoch'): string {
    return `${this.#options.prefix}:{${api}}:${what}`;
  }
}
