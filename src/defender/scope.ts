import type { DefenderApi } from './apis.js';
import type { StoredAnswer } from '../cache/entity-cache.js';
import type { TokenProvider } from '../auth/tokens.js';

/** What one GraphQL operation cost upstream; shown to the client as `extensions.upstream`. */
export interface UpstreamStats {
  /** HTTP requests sent to Defender, retries included. */
  calls: number;
  /** Answers taken from the cache instead. */
  cacheHits: number;
  /** Answers shared with an identical call already in flight. */
  sharedCalls: number;
  /** Cache hits past their TTL, served at once while a refresh runs in the background. */
  staleHits: number;
  /** Time spent queued in the rate limiter, summed over calls (ms). */
  limiterWaitMs: number;
  /**
   * Epoch ms until which every answer this operation used stays fresh (Infinity when it used none): how long
   * its result may be reused. Something that is not an upstream answer sets it to 0.
   */
  freshUntil: number;
  readonly byApi: Partial<Record<DefenderApi, { calls: number; cacheHits: number }>>;
}

export const newStats = (): UpstreamStats => ({
  calls: 0,
  cacheHits: 0,
  sharedCalls: 0,
  staleHits: 0,
  limiterWaitMs: 0,
  freshUntil: Number.POSITIVE_INFINITY,
  byApi: {},
});

/** The counts of one API within an operation's stats, created at its first use. */
export function apiStats(stats: UpstreamStats, api: DefenderApi): { calls: number; cacheHits: number } {
  return (stats.byApi[api] ??= { calls: 0, cacheHits: 0 });
}

/** The caller's side of one operation: who it calls as, what it has spent, and when it stops waiting. */
export interface CallScope {
  readonly stats: UpstreamStats;
  /** Epoch ms after which the operation gives up waiting for the rate limiter. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  /** Who asks, for fair sharing of the budget between callers. */
  readonly caller?: string;
  /** The client asked for fresh data (`Cache-Control: no-cache`): cached answers are not read. */
  readonly fresh?: boolean;
  /** Most calls the operation may send; past it, fields fail QUERY_TOO_EXPENSIVE. */
  readonly maxCalls?: number;
  /**
   * The identity calls go out as, when it is not the client's own (on-behalf-of a caller). Cache entries and
   * shared in-flight calls are partitioned by its `identity`, so one identity's answers never serve another.
   */
  readonly tokens?: TokenProvider;
  /** With `tokens`: the same caller's tokens for Microsoft Graph (advanced hunting). Default: `tokens`. */
  readonly graphTokens?: TokenProvider;
  /**
   * Answers already read from the cache for this operation (by the cost estimate), so execution does not read
   * them twice. Only hits are kept: an absent entry is read again, since the operation may have stored it since.
   */
  readonly seen?: Map<string, StoredAnswer>;
  /** Records the operation's calls and cache hits as trace spans (`ops/tracing.ts`). Absent: nothing is. */
  readonly trace?: CallTracer;
}

/**
 * Makes the span of each call of one operation: carried by the scope rather than by async context, so a call
 * made inside a DataLoader batch still finds its operation. Cache hits are not told one by one: the operation's
 * span reads them per API from its stats when it ends. Hooks must not throw.
 */
export interface CallTracer {
  /** A call that goes through the pipeline begins (a cache miss, a bypass, a write). */
  startCall(api: DefenderApi, method: 'GET' | 'POST' | 'PATCH'): CallSpan;
}

/** One call's record, from the pipeline: its limiter wait, HTTP attempts, retries and outcome. */
export interface CallSpan {
  limiterWait(waitedMs: number): void;
  /** One HTTP request ended: its status, or `error` (network, timeout, interrupted body). */
  attempt(status: number | 'error', durationMs: number): void;
  /** Another attempt follows (after a 5xx, a timeout, a network error or a 429). */
  retry(): void;
  /** The call ended: its answer's status (200 or 404), or the error it failed with. */
  end(outcome: { readonly status: number } | { readonly error: unknown }): void;
}
