import { setTimeout as sleep } from 'node:timers/promises';
import type { DefenderApi } from './apis.js';
import type { BreakerState, CallOutcome } from './breaker.js';
import { CircuitBreaker } from './breaker.js';
import type { CachedAnswer, StoredAnswer, UpstreamCache } from '../cache/entity-cache.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { TokenProvider } from '../auth/tokens.js';
import { TokenAcquisitionError } from '../auth/tokens.js';
import { ErrorCode, GatewayError } from '../errors.js';

/** One call: the API, its `{id}` (validated by the caller, encoded here) and its OData options. */
export interface DefenderRequest {
  readonly api: DefenderApi;
  readonly id?: string;
  readonly query?: Readonly<Record<string, string>>;
}

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
  /**
   * Answers already read from the cache for this operation (by the cost estimate), so execution does not read
   * them twice. Only hits are kept: an absent entry is read again, since the operation may have stored it since.
   */
  readonly seen?: Map<string, StoredAnswer>;
}

/**
 * Told of what the client does, for metrics; every hook is optional and must not throw. Absent, nothing is
 * told and nothing changes.
 */
export interface UpstreamObserver {
  /** One HTTP request to Defender ended: its status, or `error` (network, timeout, interrupted body). */
  onCall?(api: DefenderApi, status: number | 'error', durationMs: number): void;
  /** A cache read for a client's call: fresh hit, hit past its TTL (`stale`), or miss. */
  onCacheLookup?(api: DefenderApi, result: 'hit' | 'miss' | 'stale'): void;
  /** A call was admitted by the rate limiter after waiting this long (0 when a slot was free). */
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

export type BackgroundRefreshOutcome = 'refreshed' | 'throttled' | 'failed' | 'skipped';

export interface DefenderClientOptions {
  /** Base URL without `/api`, e.g. `https://api.security.microsoft.com`. */
  readonly baseUrl: URL;
  readonly tokens: TokenProvider;
  readonly limiter: UpstreamLimiter;
  readonly cache: UpstreamCache;
  /** How long an answer of `api` is fresh (ms); 0 disables caching for it. */
  readonly ttlMs: (api: DefenderApi) => number;
  /**
   * How long past its TTL an answer may still be served, at once, while it is refreshed in the background when
   * the budget has a free slot (ms). Default 0: no stale answers.
   */
  readonly staleMs?: number;
  /** Told of background refreshes that failed (logged by the caller; never a client's concern). */
  readonly onBackgroundError?: (error: unknown) => void;
  /** Told of calls, cache reads and limiter waits (metrics). Default: none. */
  readonly observer?: UpstreamObserver;
  /** Per-call timeout (ms). */
  readonly timeoutMs: number;
  /** Retries after a 5xx, a timeout or a network error. */
  readonly maxRetries: number;
  /** Retries after a 429, each after its Retry-After pause. */
  readonly maxThrottleRetries: number;
  /** Backoff cap for retries (ms); each delay is drawn uniformly in [0, min(cap, base·2^attempt)]. */
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /**
   * Consecutive failed calls (5xx, timeout or connection error after the retries; never 429 or 4xx, which are
   * answers and reset the count) that open the circuit breaker of an API, which then refuses its calls at once
   * with UPSTREAM_UNAVAILABLE. Default 5.
   */
  readonly breakerThreshold?: number;
  /** How long an open breaker refuses calls before it lets one probe call through (ms). Default 30,000. */
  readonly breakerHalfOpenAfterMs?: number;
  /** The breaker's clock (tests). Default `Date.now`. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
}

/** A failure worth another attempt (5xx, timeout, network), as opposed to an answer. */
class RetryableFailure extends Error {}

/** Defender answered a background refresh 429: the stale answer stays, and a later hit tries again. */
class RefreshThrottled extends Error {}

/**
 * The one way to Defender. Every call goes: URL (validated id, path-encoded, checked to stay on its route)
 * → cache → identical call in flight → rate limiter → token → fetch with timeout, no redirects → status
 * mapping and retries → parsed JSON. A 404 is an answer (`{ status: 404 }`), cached like any other, and the
 * caller decides what it means for its route.
 */
export class DefenderClient {
  readonly #inFlight = new Map<string, Promise<CachedAnswer>>();
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #breaker: CircuitBreaker;

  constructor(private readonly options: DefenderClientOptions) {
    this.#fetch = options.fetch ?? fetch;
    this.#random = options.random ?? Math.random;
    this.#breaker = new CircuitBreaker({
      ...(options.breakerThreshold !== undefined && { threshold: options.breakerThreshold }),
      ...(options.breakerHalfOpenAfterMs !== undefined && {
        halfOpenAfterMs: options.breakerHalfOpenAfterMs,
      }),
      ...(options.now && { clock: { now: options.now } }),
      onStateChange: (api, state) => options.observer?.onBreakerState?.(api, state),
    });
  }

  /** The cache of upstream answers (read by the metrics for the bytes it holds). */
  get cache(): UpstreamCache {
    return this.options.cache;
  }

  /** The state of the circuit breaker of `api`. */
  breakerState(api: DefenderApi): BreakerState {
    return this.#breaker.state(api);
  }

  /** One call's answer; `fromCache` says it came from the cache (so what it holds is cached already). */
  async get(request: DefenderRequest, scope: CallScope): Promise<CachedAnswer & { fromCache?: true }> {
    const url = this.urlFor(request);
    const key = this.cacheKeyFor(request, scope);
    if (!scope.fresh) {
      const stored = scope.seen?.get(key) ?? (await this.options.cache.get(key));
      if (stored) return { ...this.#served(request, key, stored, scope), fromCache: true };
      this.options.observer?.onCacheLookup?.(request.api, 'miss');
    }
    const shared = this.#inFlight.get(key);
    if (shared) {
      scope.stats.sharedCalls++;
      const answer = await shared;
      scope.stats.freshUntil = Math.min(scope.stats.freshUntil, Date.now() + this.options.ttlMs(request.api));
      return answer;
    }
    const call = this.#guarded(request.api, url, scope).then(async (answer) => {
      await this.#store(request.api, key, answer);
      return answer;
    });
    const answer = await this.#track(key, call);
    scope.stats.freshUntil = Math.min(scope.stats.freshUntil, Date.now() + this.options.ttlMs(request.api));
    return answer;
  }

  /** Stores an entity that arrived inside another answer (a list page), as if fetched by its own route. */
  async prime(request: DefenderRequest, body: unknown, scope: CallScope): Promise<void> {
    await this.#store(request.api, this.cacheKeyFor(request, scope), { status: 200, body });
  }

  /** Stores that Defender does not have an entity, learnt from a batch answer that did not include it. */
  async primeNotFound(request: DefenderRequest, scope: CallScope): Promise<void> {
    await this.#store(request.api, this.cacheKeyFor(request, scope), { status: 404 });
  }

  /** Reads cached answers without calling Defender (counted as cache hits); undefined where there are none. */
  async peek(requests: readonly DefenderRequest[], scope: CallScope): Promise<(CachedAnswer | undefined)[]> {
    if (scope.fresh) return requests.map(() => undefined);
    const keys = requests.map((r) => this.cacheKeyFor(r, scope));
    const stored = await this.#read(keys, scope);
    return stored.map((answer, i) => {
      if (answer) return this.#served(requests[i]!, keys[i]!, answer, scope);
      this.options.observer?.onCacheLookup?.(requests[i]!.api, 'miss');
      return undefined;
    });
  }

  /** What the cache holds for these requests, stale or not, counted nowhere: for estimates before execution. */
  async lookup(
    requests: readonly DefenderRequest[],
    scope: CallScope,
  ): Promise<(CachedAnswer | undefined)[]> {
    const stored = await this.#read(
      requests.map((r) => this.cacheKeyFor(r, scope)),
      scope,
    );
    return stored.map((answer) => answer && withoutTime(answer));
  }

  /** Cache reads through the operation's memo of hits. */
  async #read(keys: readonly string[], scope: CallScope): Promise<(StoredAnswer | undefined)[]> {
    const memo = scope.seen;
    const missing = memo ? keys.filter((k) => !memo.has(k)) : keys;
    const fetched = await this.options.cache.getMany(missing);
    const found = new Map<string, StoredAnswer | undefined>(missing.map((k, i) => [k, fetched[i]]));
    if (memo) for (const [k, v] of found) if (v) memo.set(k, v);
    return keys.map((k) => memo?.get(k) ?? found.get(k));
  }

  /** A cached answer served: counted, and refreshed in the background once past its TTL. */
  #served(request: DefenderRequest, key: string, stored: StoredAnswer, scope: CallScope): CachedAnswer {
    countHit(scope.stats, request.api);
    const freshUntil = stored.storedAt + this.options.ttlMs(request.api);
    scope.stats.freshUntil = Math.min(scope.stats.freshUntil, freshUntil);
    const stale = Date.now() >= freshUntil;
    this.options.observer?.onCacheLookup?.(request.api, stale ? 'stale' : 'hit');
    if (stale) {
      scope.stats.staleHits++;
      this.#refresh(request, key, scope);
    }
    return withoutTime(stored);
  }

  /**
   * Refreshes a stale answer with one call, only when a slot is free now and nobody waits for one: clients'
   * calls always go first. Without a slot the stale answer stays, and a later hit tries again. The call is
   * the gateway's, not the operation's that read the stale answer: it is counted in a scope of its own (the
   * operation shows a stale hit, no call) and told to the observer per API, with its outcome.
   */
  #refresh(request: DefenderRequest, key: string, owner: CallScope): void {
    const { api } = request;
    if (this.#inFlight.has(key)) return;
    const told = (outcome: BackgroundRefreshOutcome) =>
      this.options.observer?.onBackgroundRefresh?.(api, outcome);
    if (!this.#breaker.allowsBackground(api) || !this.options.limiter.tryAcquire(api)) {
      told('skipped');
      return;
    }
    // As the same identity as the answer it replaces, and never cancelled by the client that triggered it.
    const scope: CallScope = {
      stats: newStats(),
      deadline: Date.now(),
      ...(owner.tokens && { tokens: owner.tokens }),
    };
    const refresh = this.#token(scope)
      .then((token) => this.#fetchOnce(api, this.urlFor(request), token, scope))
      .then(async (answer) => {
        if (answer.status === 429) {
          this.options.limiter.pause(api, answer.retryAfterMs);
          throw new RefreshThrottled(`Defender throttled a refresh of ${api}`);
        }
        await this.#store(api, key, answer);
        return answer;
      });
    this.#track(key, refresh).then(
      () => told('refreshed'),
      (error: unknown) => {
        told(error instanceof RefreshThrottled ? 'throttled' : 'failed');
        this.options.onBackgroundError?.(error);
      },
    );
  }

  /** Shares a call in flight with identical requests until it settles. */
  async #track(key: string, call: Promise<CachedAnswer>): Promise<CachedAnswer> {
    this.#inFlight.set(key, call);
    try {
      return await call;
    } finally {
      this.#inFlight.delete(key);
    }
  }

  async #store(api: DefenderApi, key: string, answer: CachedAnswer): Promise<void> {
    const ttl = this.options.ttlMs(api);
    if (ttl <= 0) return;
    await this.options.cache.set(key, { ...answer, storedAt: Date.now() }, ttl + (this.options.staleMs ?? 0));
  }

  /**
   * The URL of a call. The id is percent-encoded into exactly one path segment; the result is checked to
   * still be on the API's route, so no id can reach another route or host.
   */
  urlFor({ api, id, query }: DefenderRequest): URL {
    if (api.includes('{id}') !== (id !== undefined))
      throw new Error(`${api} needs ${id === undefined ? 'an' : 'no'} id`);
    const base = this.options.baseUrl;
    const prefix = base.pathname.replace(/\/+$/, '');
    const path = `${prefix}/api/${api.replace('{id}', () => encodeURIComponent(id!))}`;
    const search = Object.entries(query ?? {})
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
    const url = new URL(`${base.origin}${path}${search ? `?${search}` : ''}`);
    if (url.origin !== base.origin || url.pathname !== path)
      throw new Error(`refusing a URL that left its route`);
    return url;
  }

  /** One cache entry per upstream identity and exact request: answers depend on who asks. */
  cacheKeyFor({ api, id, query }: DefenderRequest, scope: CallScope): string {
    // JSON of a tuple is injective whatever the parts contain, and cheap enough for every field of every query.
    return JSON.stringify([this.#tokens(scope).identity, api, id ?? null, query ?? null]);
  }

  /**
   * A call through its API's circuit breaker: refused at once while it is open, its outcome recorded once. A 429
   * settles it as an answer the moment it arrives: the call may go on waiting out Retry-After, but Defender has
   * shown it is up, and a half-open breaker must not keep refusing everyone else meanwhile.
   */
  async #guarded(api: DefenderApi, url: URL, scope: CallScope): Promise<CachedAnswer> {
    this.#breaker.admit(api);
    let settled = false;
    const settle = (outcome: CallOutcome) => {
      if (settled) return;
      settled = true;
      this.#breaker.settle(api, outcome);
    };
    try {
      const answer = await this.#fetchWithRetries(api, url, scope, () => settle('success'));
      settle('success');
      return answer;
    } catch (error) {
      settle(outcomeOf(error));
      throw error;
    }
  }

  async #fetchWithRetries(
    api: DefenderApi,
    url: URL,
    scope: CallScope,
    onThrottled: () => void,
  ): Promise<CachedAnswer> {
    const { maxRetries, maxThrottleRetries } = this.options;
    let failures = 0;
    let throttles = 0;
    for (;;) {
      try {
        const { token, waitedMs } = await this.#admit(api, scope);
        scope.stats.limiterWaitMs += waitedMs;
        const answer = await this.#fetchOnce(api, url, token, scope);
        if (answer.status !== 429) return answer;
        onThrottled();
        this.options.limiter.pause(api, answer.retryAfterMs);
        if (++throttles > maxThrottleRetries) {
          throw new GatewayError(ErrorCode.RateLimited, `Defender is throttling ${api}; retry later.`, {
            retryAfterSeconds: Math.ceil(answer.retryAfterMs / 1000),
          });
        }
      } catch (error) {
        if (!(error instanceof RetryableFailure)) throw error;
        if (++failures > maxRetries) {
          throw new GatewayError(
            ErrorCode.UpstreamUnavailable,
            `Defender did not answer ${api}.`,
            {},
            { cause: error },
          );
        }
        const base = this.options.backoffBaseMs ?? 200;
        const cap = this.options.backoffCapMs ?? 2_000;
        await sleep(this.#random() * Math.min(cap, base * 2 ** failures), undefined, {
          signal: scope.signal,
        });
      }
    }
  }

  /** The identity calls of this scope go out as (cache partitions follow it). */
  identityOf(scope: CallScope): string {
    return this.#tokens(scope).identity;
  }

  #tokens(scope: CallScope): TokenProvider {
    return scope.tokens ?? this.options.tokens;
  }

  /**
   * Counts the call against the operation's cap the moment it is committed to (concurrent fields would all
   * pass a check made later), then gets the token and, last, the limiter's slot, right before the request
   * leaves, so the limiter counts what Defender will count. A call that never leaves is not counted.
   */
  async #admit(api: DefenderApi, scope: CallScope): Promise<{ token: string; waitedMs: number }> {
    const { stats, maxCalls } = scope;
    if (maxCalls !== undefined && stats.calls >= maxCalls) {
      throw new GatewayError(
        ErrorCode.QueryTooExpensive,
        `The operation reached its cap of ${maxCalls} Defender calls.`,
        {
          cost: { estimated: stats.calls + 1, max: maxCalls },
        },
      );
    }
    stats.calls++;
    apiStats(stats, api).calls++;
    try {
      const token = await this.#token(scope);
      const { waitedMs } = await this.options.limiter.acquire(api, scope);
      this.options.observer?.onLimiterWait?.(api, waitedMs);
      return { token, waitedMs };
    } catch (error) {
      stats.calls--;
      apiStats(stats, api).calls--;
      throw error;
    }
  }

  /**
   * A failure to get a token is mapped like an answer from Defender: an authority that is down is retried like
   * a network failure, one that refused the credentials is UNAUTHENTICATED at once. The authority's own words
   * (which may quote the secret) stay in the cause, never in the client's message.
   */
  async #token(scope: CallScope): Promise<string> {
    try {
      return await this.#tokens(scope).getToken(scope.signal);
    } catch (error) {
      if (scope.signal?.aborted) throw scope.signal.reason;
      if (!(error instanceof TokenAcquisitionError)) throw error;
      if (error.retryable) throw new RetryableFailure('no token from the authority', { cause: error });
      throw new GatewayError(
        ErrorCode.Unauthenticated,
        'Defender credentials were refused by the authority.',
        {},
        { cause: error },
      );
    }
  }

  async #fetchOnce(
    api: DefenderApi,
    url: URL,
    token: string,
    scope: CallScope,
  ): Promise<CachedAnswer | { status: 429; retryAfterMs: number }> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = scope.signal ? AbortSignal.any([scope.signal, timeout]) : timeout;
    const started = performance.now();
    let response: Response;
    try {
      response = await this.#fetch(url, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      this.options.observer?.onCall?.(api, 'error', performance.now() - started);
      if (scope.signal?.aborted) throw scope.signal.reason;
      throw new RetryableFailure('network error or timeout', { cause: error });
    }
    const { status } = response;
    this.options.observer?.onCall?.(api, status, performance.now() - started);
    if (status === 200) {
      const text = await response.text().catch((error: unknown) => {
        throw new RetryableFailure('body interrupted', { cause: error });
      });
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        throw new GatewayError(
          ErrorCode.UpstreamBadResponse,
          'Defender answered something that is not JSON.',
        );
      }
      // Checked before anything is cached or shared: an answer of the wrong shape is never served again.
      if (!hasDocumentedShape(api, body)) {
        throw new GatewayError(
          ErrorCode.UpstreamBadResponse,
          'Defender answered something that is not the documented shape.',
        );
      }
      return { status: 200, body };
    }
    await response.body?.cancel();
    if (status === 404) return { status: 404 };
    if (status === 429)
      return { status: 429, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    if (status >= 500) throw new RetryableFailure(`status ${status}`);
    if (status === 401) {
      throw new GatewayError(ErrorCode.Unauthenticated, "Defender refused the gateway's credentials.");
    }
    if (status === 403) {
      throw new GatewayError(
        ErrorCode.Forbidden,
        'Defender refused access: the credentials lack a permission.',
      );
    }
    if (status === 400)
      throw new GatewayError(ErrorCode.BadUserInput, 'Defender rejected the request as invalid.');
    throw new GatewayError(
      ErrorCode.UpstreamBadResponse,
      `Defender answered with an unexpected status ${status}.`,
    );
  }
}

/**
 * What a failed call says about Defender's health: exhausted retries on 5xx, timeouts or connection errors are
 * failures (unless the token authority, not Defender, was down); Defender's 4xx refusals show it answers (its
 * 429s too, settled as they arrive, see `#guarded`); everything else (cancellation, our own limiter and cap,
 * bad bodies) says nothing.
 */
function outcomeOf(error: unknown): CallOutcome {
  if (!(error instanceof GatewayError)) return 'neutral';
  switch (error.code) {
    case ErrorCode.UpstreamUnavailable:
      return error.cause instanceof RetryableFailure && !(error.cause.cause instanceof TokenAcquisitionError)
        ? 'failure'
        : 'neutral';
    case ErrorCode.BadUserInput:
    case ErrorCode.Forbidden:
      return 'success';
    case ErrorCode.Unauthenticated:
      return error.cause instanceof TokenAcquisitionError ? 'neutral' : 'success';
    default:
      return 'neutral';
  }
}

function apiStats(stats: UpstreamStats, api: DefenderApi): { calls: number; cacheHits: number } {
  return (stats.byApi[api] ??= { calls: 0, cacheHits: 0 });
}

function countHit(stats: UpstreamStats, api: DefenderApi): void {
  stats.cacheHits++;
  apiStats(stats, api).cacheHits++;
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); absent or unreadable means 1 s. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1_000;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1_000 : Math.max(0, at - now);
}

function withoutTime(stored: StoredAnswer): CachedAnswer {
  return stored.status === 200 ? { status: 200, body: stored.body } : { status: 404 };
}

/** Routes answering one entity; every other route answers an OData collection (`{ value: [...] }`). */
const ENTITY_APIS: ReadonlySet<DefenderApi> = new Set([
  'machines/{id}',
  'alerts/{id}',
  'alerts/{id}/user',
  'alerts/{id}/machine',
]);

function hasDocumentedShape(api: DefenderApi, body: unknown): boolean {
  const isEntity = (v: unknown) =>
    typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
  if (ENTITY_APIS.has(api)) return isEntity(body);
  const value = typeof body === 'object' && body !== null ? (body as { value?: unknown }).value : undefined;
  return Array.isArray(value) && value.every(isEntity);
}
