import type { DefenderApi } from './apis.js';
import type { BreakerState } from './breaker.js';

export type BackgroundRefreshOutcome = 'refreshed' | 'throttled' | 'failed' | 'skipped';

/**
 * Told of what the client does, for metrics; every hook is optional and must not throw. Absent, nothing is
 * told and nothing changes.
 */
export interface UpstreamObserver {
  /** One HTTP request to Defender ended: its status, or `error` (network, timeout, interrupted body). */
  onCall?(api: DefenderApi, status: number | 'error', durationMs: number): void;
  /** A cache read for a client's call: fresh hit, hit past its TTL (`stale`), or miss. */
  onCacheLookup?(api: DefenderApi, result: 'hit' | 'miss' | 'stale'): void;
  /** A client's call was admitted by the rate limiter after waiting this long (0 when a slot was free). */
  onLimiterWait?(api: DefenderApi, waitedMs: number): void;
  /** The circuit breaker of `api` changed state. */
  onBreakerState?(api: DefenderApi, state: BreakerState): void;
  /**
   * A stale hit asked for a background refresh of an answer of `api`: `refreshed` (Defender answered, stored),
   * `throttled` (429), `failed` (any other failure), or `skipped` (no free slot in the budget, or the breaker is
   * not closed; no request sent). Its HTTP request, when one is sent, is also told to {@link onCall}.
   */
  onBackgroundRefresh?(api: DefenderApi, outcome: BackgroundRefreshOutcome): void;
}
