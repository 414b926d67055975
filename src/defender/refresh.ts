import type { DefenderApi } from './apis.js';
import type { BackgroundRefreshOutcome, UpstreamObserver } from './observer.js';
import type { CallScope } from './scope.js';
import { newStats } from './scope.js';
import type { CachedAnswer, StoredAnswer } from '../cache/entity-cache.js';
import { ErrorCode, GatewayError } from '../errors.js';

/**
 * Stale-while-revalidate, as policy. An answer is `fresh` for its TTL and served as is; `stale` for `staleMs`
 * more, served at once while one refresh runs in the background; `expired` after that, not served at all (a
 * miss: the client's call goes to Defender and waits for it).
 */
export type Freshness = 'fresh' | 'stale' | 'expired';

export interface FreshnessPolicy {
  /** How long an answer is fresh (ms); 0 disables caching. */
  readonly ttlMs: number;
  /** How long past its TTL an answer may still be served while it is refreshed (ms). */
  readonly staleMs: number;
}

/** Epoch ms until which a stored answer is fresh. */
export const freshUntil = (stored: StoredAnswer, { ttlMs }: FreshnessPolicy): number =>
  stored.storedAt + ttlMs;

export function freshnessOf(stored: StoredAnswer, policy: FreshnessPolicy, now: number): Freshness {
  const until = freshUntil(stored, policy);
  if (now < until) return 'fresh';
  return now < until + policy.staleMs ? 'stale' : 'expired';
}

/** How long the cache keeps an answer (ms): while it may be served, fresh or stale. 0: not kept. */
export const keptForMs = ({ ttlMs, staleMs }: FreshnessPolicy): number => (ttlMs > 0 ? ttlMs + staleMs : 0);

/**
 * The scope of a refresh: the gateway's call, not the operation's that read the stale answer. It goes out as
 * the same identity as the answer it replaces, counts in stats of its own (the operation shows a stale hit, no
 * call), has no cap, and carries no signal: the client that triggered it cannot cancel it.
 */
export function refreshScope(owner: CallScope, now: number): CallScope {
  return { stats: newStats(), deadline: now, ...(owner.tokens && { tokens: owner.tokens }) };
}

/** How a refresh that ran ended, for the metrics: a 429 after its one try is `throttled`, any other error `failed`. */
export function refreshOutcomeOf(error: unknown): BackgroundRefreshOutcome {
  return error instanceof GatewayError && error.code === ErrorCode.RateLimited ? 'throttled' : 'failed';
}

/**
 * Reports a refresh to the observer per API with its outcome, and its failure to `onError` (logged; never a
 * client's concern). `refresh` undefined means it could not start (`skipped`: nothing was sent).
 */
export function reportRefresh(
  api: DefenderApi,
  refresh: Promise<CachedAnswer> | undefined,
  observer: UpstreamObserver | undefined,
  onError: ((error: unknown) => void) | undefined,
): void {
  const told = (outcome: BackgroundRefreshOutcome) => observer?.onBackgroundRefresh?.(api, outcome);
  if (!refresh) return told('skipped');
  refresh.then(
    () => told('refreshed'),
    (error: unknown) => {
      told(refreshOutcomeOf(error));
      onError?.(error);
    },
  );
}
