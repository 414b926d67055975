import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { RateLimitWindow } from '../rate-limit/windows.js';

/** The one Defender API polling spends. */
const API = 'alerts';

export interface PollBudgetOptions {
  readonly limiter: UpstreamLimiter;
  /** The alerts API's windows (`DEFENDER_RATE_LIMITS`): the share is taken of each. */
  readonly windows: readonly RateLimitWindow[];
  /**
   * Most of each window polling may spend, as a fraction (`ALERT_POLL_BUDGET_PERCENT` / 100), over every
   * poller of this process together: at least one call per window. Default 0.2.
   */
  readonly share?: number;
  /** Epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Polling as background work: a poll call goes only when it takes nothing from a client, that is when the
 * limiter has a free slot now and nobody queued for the alerts API (`whenAvailable` is now), and only while
 * polling has spent less than its share of every window. Otherwise the poller waits for the limiter, up to its
 * next tick, or skips the tick when its share is spent: interactive queries always go first, and polling can
 * never starve them of more than its share.
 */
export class PollBudget {
  readonly #limiter: UpstreamLimiter;
  readonly #caps: readonly { readonly limit: number; readonly windowMs: number }[];
  readonly #now: () => number;
  /** When each poll call of the longest window went (epoch ms, oldest first). */
  readonly #sent: number[] = [];

  constructor(options: PollBudgetOptions) {
    const share = options.share ?? 0.2;
    if (!(share > 0 && share <= 1)) throw new Error(`the polling share must be in (0, 1], got ${share}`);
    this.#limiter = options.limiter;
    this.#caps = options.windows.map((w) => ({
      limit: Math.max(1, Math.floor(w.limit * share)),
      windowMs: w.windowSeconds * 1000,
    }));
    this.#now = options.now ?? Date.now;
  }

  /**
   * Resolves true when one poll call may go now (and counts it), false when it may not before `until`
   * (epoch ms) or `signal` aborts: its share is spent, or clients keep the limiter busy.
   */
  async admit(until: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const now = this.#now();
      this.#forget(now);
      if (!this.#withinShare(now)) return false;
      const free = this.#limiter.whenAvailable(API, 1);
      if (free <= now) {
        this.#sent.push(now);
        return true;
      }
      if (free >= until) return false;
      await pause(free - now, signal);
    }
  }

  /** Poll calls counted in the longest window now (tests, metrics). */
  get spent(): number {
    this.#forget(this.#now());
    return this.#sent.length;
  }

  #withinShare(now: number): boolean {
    return this.#caps.every(({ limit, windowMs }) => {
      let inWindow = 0;
      for (let i = this.#sent.length - 1; i >= 0 && this.#sent[i]! > now - windowMs; i--) inWindow++;
      return inWindow < limit;
    });
  }

  #forget(now: number): void {
    const longest = Math.max(0, ...this.#caps.map((c) => c.windowMs));
    while (this.#sent.length > 0 && this.#sent[0]! <= now - longest) this.#sent.shift();
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
