import type { DefenderApi } from './apis.js';
import type { BreakerState } from './breaker.js';
import { CircuitBreaker } from './breaker.js';
import type { UpstreamObserver } from './observer.js';
import type { RequestBody } from './fetch.js';
import { CallPipeline } from './pipeline.js';
import type { FreshnessPolicy } from './refresh.js';
import { freshUntil, freshnessOf, keptForMs, refreshScope, reportRefresh } from './refresh.js';
import type { DefenderRequest } from './routes.js';
import { urlFor } from './routes.js';
import type { CallScope, UpstreamStats } from './scope.js';
import { apiStats } from './scope.js';
import type { AlertGenerations } from '../cache/alert-generation.js';
import { memoryGenerations } from '../cache/alert-generation.js';
import type { CachedAnswer, StoredAnswer, UpstreamCache } from '../cache/entity-cache.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { TokenProvider } from '../auth/tokens.js';
import { ErrorCode, GatewayError } from '../errors.js';

export type { BackgroundRefreshOutcome, UpstreamObserver } from './observer.js';
export type { DefenderRequest } from './routes.js';
export type { CallScope, UpstreamStats } from './scope.js';
export { newStats } from './scope.js';

export interface DefenderClientOptions {
  /** Base URL without `/api`, e.g. `https://api.security.microsoft.com`. */
  readonly baseUrl: URL;
  readonly tokens: TokenProvider;
  /**
   * Microsoft Graph's base URL without `/v1.0`, for advanced hunting. Default: `baseUrl` (the simulator serves
   * both).
   */
  readonly graphUrl?: URL | undefined;
  /** Tokens for Graph, as the same identity. Default: `tokens`. */
  readonly graphTokens?: TokenProvider | undefined;
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
  /** Backoff base for retries (ms); each delay is drawn uniformly in [0, min(cap, base·2^attempt)]. Default 200. */
  readonly backoffBaseMs?: number;
  /** Backoff cap for retries (ms). Default 2,000. */
  readonly backoffCapMs?: number;
  /**
   * Consecutive failed calls (5xx, timeout or connection error after the retries; never 429 or 4xx, which are
   * answers and reset the count) that open the circuit breaker of an API, which then refuses its calls at once
   * with UPSTREAM_UNAVAILABLE. Default 5.
   */
  readonly breakerThreshold?: number;
  /** How long an open breaker refuses calls before it lets one probe call through (ms). Default 30,000. */
  readonly breakerHalfOpenAfterMs?: number;
  /**
   * The clock of answers' freshness (`storedAt`, stale or expired, operations' `freshUntil`), of Retry-After
   * dates and of the circuit breaker. Default: the system clock.
   */
  readonly clock?: Clock;
  /** The HTTP client (tests script Defender with it). Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** The retries' jitter, uniform in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /**
   * The generation of stored answers that show alerts, moved on by every write (cache/alert-generation.ts);
   * shared through Redis with `CACHE_URL`. Default: this process's own.
   */
  readonly alertGenerations?: AlertGenerations;
}

/** The routes whose answers show alerts: their cache keys carry the alerts' generation. */
const SHOWS_ALERTS: ReadonlySet<DefenderApi> = new Set([
  'alerts',
  'alerts/{id}',
  'machines/{id}/alerts',
  'users/{id}/alerts',
]);

/**
 * The one way to Defender. Every call goes: URL (validated id, path-encoded, checked to stay on its route)
 * → cache → identical call in flight → the call pipeline (breaker, cap, token, rate limiter, fetch with
 * timeout and no redirects, status mapping, retries) → parsed JSON. A 404 is an answer (`{ status: 404 }`),
 * cached like any other, and the caller decides what it means for its route. A stale answer is served at once
 * and refreshed through the same pipeline, as background work.
 */
export class DefenderClient {
  readonly #inFlight = new Map<string, Promise<CachedAnswer>>();
  readonly #breaker: CircuitBreaker;
  readonly #pipeline: CallPipeline;
  readonly #clock: Clock;
  readonly #generations: AlertGenerations;
  /** The alerts' generation each operation read first (see cache/alert-generation.ts). */
  readonly #generationOf = new WeakMap<CallScope, Promise<string>>();
  /** The start of the cache keys of each identity and API (#keyOf). */
  readonly #keyPrefixes = new Map<string, Map<string, string>>();
  /** Keys of reads by id made recently, per key prefix (identity and API), with the generation they include. */
  readonly #recentKeys = new Map<string, { generation: string | undefined; keys: Map<string, string> }>();
  #recentKeyCount = 0;
  /** The cache keys of recent hunting queries, by query (#huntKey). */
  readonly #huntKeys = new Map<string, { identity: string; key: string }>();

  constructor(private readonly options: DefenderClientOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#generations = options.alertGenerations ?? memoryGenerations();
    this.#breaker = new CircuitBreaker({
      ...(options.breakerThreshold !== undefined && { threshold: options.breakerThreshold }),
      ...(options.breakerHalfOpenAfterMs !== undefined && {
        halfOpenAfterMs: options.breakerHalfOpenAfterMs,
      }),
      clock: this.#clock,
      onStateChange: (api, state) => options.observer?.onBreakerState?.(api, state),
    });
    this.#pipeline = new CallPipeline({
      ...options,
      fetch: options.fetch ?? fetch,
      clock: this.#clock,
      breaker: this.#breaker,
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
    const key = await this.cacheKeyFor(request, scope);
    if (!scope.fresh) {
      const stored = this.#unexpired(
        request.api,
        scope.seen?.get(key) ?? (await this.options.cache.get(key)),
      );
      if (stored) return { ...this.#served(request, key, stored, scope), fromCache: true };
      this.options.observer?.onCacheLookup?.(request.api, 'miss');
    }
    const shared = this.#inFlight.get(key);
    if (shared) scope.stats.sharedCalls++;
    // The URL is made for a call only: a cached answer's key was made from the same request, which was sent once.
    const answer = await (shared ??
      this.#track(
        key,
        this.#pipeline.call(request.api, this.urlFor(request), scope).then(this.#storing(request.api, key)),
      ));
    this.#usedFresh(scope.stats, request.api);
    return answer;
  }

  /**
   * A write (never cached, never shared with another call): it goes through the call pipeline like a read, on
   * `api`'s own budget, to the URL of `request`. Then the cached answer of every `forget` request is dropped.
   */
  async write(
    api: DefenderApi,
    request: DefenderRequest,
    body: RequestBody,
    scope: CallScope,
  ): Promise<CachedAnswer> {
    return this.#pipeline.call(api, this.urlFor(request), scope, body);
  }

  /** Drops the cached answers of these requests for the scope's identity (a write made them stale). */
  async forget(requests: readonly DefenderRequest[], scope: CallScope): Promise<void> {
    const keys = await this.#keysFor(requests, scope);
    await Promise.all(
      keys.map((key) => {
        scope.seen?.delete(key);
        return this.options.cache.delete(key);
      }),
    );
  }

  /**
   * The alerts' generation of this operation: read once, at its first use, and kept for the rest of it, so
   * that everything it reads and stores belongs to one generation.
   */
  alertGeneration(scope: CallScope): Promise<string> {
    let generation = this.#generationOf.get(scope);
    if (!generation) {
      generation = this.#generations.current();
      this.#generationOf.set(scope, generation);
    }
    return generation;
  }

  /**
   * An alert changed (or may have: a write whose outcome is unknown): every answer that shows alerts, stored by
   * anyone before now, is read no more, here and on every replica. The writing operation moves on to the new
   * generation, so what it stores next (the alert Defender answered) is what later readers find.
   */
  async alertsChanged(scope: CallScope): Promise<void> {
    const next = this.#generations.advance();
    this.#generationOf.set(scope, next);
    await next;
  }

  /**
   * One advanced hunting query's checked answer (`{ schema, results }`), through the same cache (keyed by the
   * Graph identity and the exact KQL), in-flight sharing and call pipeline as every REST call: its own breaker,
   * budget (`hunting`), timeout and retries (a hunting query is a read). Graph refusing a query the gateway
   * built (400) is a gateway bug: INTERNAL_SERVER_ERROR, never BAD_USER_INPUT.
   */
  async hunt(kql: string, scope: CallScope): Promise<unknown> {
    const api = 'hunting';
    const key = this.#huntKey(kql, scope);
    if (!scope.fresh) {
      const stored = await this.#freshHunt(key, scope);
      if (stored) {
        scope.stats.freshUntil = Math.min(scope.stats.freshUntil, freshUntil(stored, this.#policy(api)));
        scope.stats.cacheHits++;
        apiStats(scope.stats, api).cacheHits++;
        this.options.observer?.onCacheLookup?.(api, 'hit');
        return stored.body;
      }
      this.options.observer?.onCacheLookup?.(api, 'miss');
    }
    const shared = this.#inFlight.get(key);
    if (shared) scope.stats.sharedCalls++;
    const url = huntingUrl(this.options.graphUrl ?? this.options.baseUrl);
    const body = { method: 'POST', json: JSON.stringify({ Query: kql }), idempotent: true } as const;
    const answer = await (
      shared ?? this.#track(key, this.#pipeline.call(api, url, scope, body).then(this.#storing(api, key)))
    ).catch((error: unknown) => {
      throw error instanceof GatewayError && error.code === ErrorCode.BadUserInput
        ? new GatewayError(
            ErrorCode.InternalServerError,
            'Advanced hunting refused a query.',
            {},
            { cause: error },
          )
        : error;
    });
    this.#usedFresh(scope.stats, api);
    if (answer.status !== 200) {
      throw new GatewayError(ErrorCode.UpstreamBadResponse, 'Advanced hunting answered 404.');
    }
    return answer.body;
  }

  /** Whether the cache holds an answer to this hunting query that {@link hunt} would serve, counted nowhere. */
  async holdsHunt(kql: string, scope: CallScope): Promise<boolean> {
    return !scope.fresh && (await this.#freshHunt(this.#huntKey(kql, scope), scope)) !== undefined;
  }

  /**
   * A hunting query's cache key, kept for recent queries: their texts are the same strings each time
   * (hunting.ts keeps them), so the memo finds them by a hash V8 keeps, where escaping a few KiB of KQL again
   * would cost more.
   */
  #huntKey(kql: string, scope: CallScope): string {
    const identity = this.#pipeline.tokensFor(scope, 'hunting').identity;
    const recent = this.#huntKeys.get(kql);
    if (recent?.identity === identity) return recent.key;
    const key = `${this.#keyPrefix(identity, 'hunting')}${JSON.stringify(kql)}]`;
    if (this.#huntKeys.size >= RECENT_HUNT_KEYS) this.#huntKeys.delete(this.#huntKeys.keys().next().value!);
    this.#huntKeys.set(kql, { identity, key });
    return key;
  }

  /** A hunting answer the cache holds, when fresh and 200: not refreshed in the background, a stale one is a miss. */
  async #freshHunt(
    key: string,
    scope: CallScope,
  ): Promise<(StoredAnswer & { readonly status: 200 }) | undefined> {
    const stored = scope.seen?.get(key) ?? (await this.options.cache.get(key));
    if (stored?.status !== 200) return undefined;
    return freshnessOf(stored, this.#policy('hunting'), this.#clock.now()) === 'fresh' ? stored : undefined;
  }

  /** Stores an entity that arrived inside another answer (a list page), as if fetched by its own route. */
  async prime(request: DefenderRequest, body: unknown, scope: CallScope): Promise<void> {
    await this.#store(request.api, await this.cacheKeyFor(request, scope), { status: 200, body });
  }

  /** Stores that Defender does not have an entity, learnt from a batch answer that did not include it. */
  async primeNotFound(request: DefenderRequest, scope: CallScope): Promise<void> {
    await this.#store(request.api, await this.cacheKeyFor(request, scope), { status: 404 });
  }

  /** Reads cached answers without calling Defender (counted as cache hits); undefined where there are none. */
  async peek(requests: readonly DefenderRequest[], scope: CallScope): Promise<(CachedAnswer | undefined)[]> {
    if (scope.fresh) return requests.map(() => undefined);
    const keys = await this.#keysFor(requests, scope);
    const stored = await this.#read(requests, keys, scope);
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
    const keys = await this.#keysFor(requests, scope);
    const stored = await this.#read(requests, keys, scope);
    return stored.map((answer) => answer && withoutTime(answer));
  }

  /** Whether the cache holds an answer (stale or not) for each of these requests, counted nowhere: a plan's choice. */
  async holds(requests: readonly DefenderRequest[], scope: CallScope): Promise<boolean[]> {
    const stored = await this.#read(requests, await this.#keysFor(requests, scope), scope);
    return stored.map((answer) => answer !== undefined);
  }

  /**
   * The URL of a call. The id is percent-encoded into exactly one path segment; the result is checked to
   * still be on the API's route, so no id can reach another route or host.
   */
  urlFor(request: DefenderRequest): URL {
    return urlFor(this.options.baseUrl, request);
  }

  /**
   * One cache entry per upstream identity and exact request (answers depend on who asks), and for a route that
   * shows alerts, per generation of the alerts (a write moves it on).
   */
  async cacheKeyFor(request: DefenderRequest, scope: CallScope): Promise<string> {
    const [key] = await this.#keysFor([request], scope);
    return key!;
  }

  async #keysFor(requests: readonly DefenderRequest[], scope: CallScope): Promise<string[]> {
    const generation = requests.some((r) => SHOWS_ALERTS.has(r.api))
      ? await this.alertGeneration(scope)
      : undefined;
    const identity = this.identityOf(scope);
    return requests.map((request) =>
      this.#keyOf(identity, request, SHOWS_ALERTS.has(request.api) ? generation : undefined),
    );
  }

  /**
   * The JSON of the tuple `[identity, api, id, query(, generation)]` (missing parts null), injective whatever the
   * parts contain; a warm operation makes one for nearly every field. Hunting's keys are `[identity, "hunting",
   * kql]`.
   */
  #keyOf(identity: string, { api, id, query }: DefenderRequest, generation?: string): string {
    const prefix = this.#keyPrefix(identity, api);
    // A read by id (most of a warm operation's) finds its key among the recent ones of its identity and API, made
    // with the same generation: no string of 100-odd characters made and hashed again for every read.
    let recent = id !== undefined && query === undefined ? this.#recentKeys.get(prefix) : undefined;
    if (recent && recent.generation === generation) {
      const key = recent.keys.get(id!);
      if (key !== undefined) return key;
    }
    const start = `${prefix}${JSON.stringify(id ?? null)},${JSON.stringify(query ?? null)}`;
    const key = generation === undefined ? `${start}]` : `${start},${JSON.stringify(generation)}]`;
    if (id === undefined || query !== undefined) return key;
    if (this.#recentKeyCount >= RECENT_KEYS) {
      this.#recentKeys.clear();
      this.#recentKeyCount = 0;
    }
    if (!recent || recent.generation !== generation) {
      this.#recentKeyCount -= recent?.keys.size ?? 0;
      this.#recentKeys.set(prefix, (recent = { generation, keys: new Map() }));
    }
    recent.keys.set(id, key);
    this.#recentKeyCount++;
    return key;
  }

  /** `[identity,api,` of a key, kept per identity and API. */
  #keyPrefix(identity: string, api: string): string {
    let prefixes = this.#keyPrefixes.get(identity);
    if (!prefixes) {
      // Identities are few (the gateway's, or one per caller on behalf of whom it calls): bounded all the same.
      if (this.#keyPrefixes.size >= KEY_PREFIX_IDENTITIES) this.#keyPrefixes.clear();
      this.#keyPrefixes.set(identity, (prefixes = new Map()));
    }
    let prefix = prefixes.get(api);
    if (prefix === undefined)
      prefixes.set(api, (prefix = `[${JSON.stringify(identity)},${JSON.stringify(api)},`));
    return prefix;
  }

  /** The identity calls of this scope go out as (cache partitions follow it). */
  identityOf(scope: CallScope): string {
    return this.#pipeline.tokensFor(scope).identity;
  }

  /** Cache reads (of `requests`, under `keys`) through the operation's memo of hits. */
  async #read(
    requests: readonly DefenderRequest[],
    keys: readonly string[],
    scope: CallScope,
  ): Promise<(StoredAnswer | undefined)[]> {
    const memo = scope.seen;
    const stored: (StoredAnswer | undefined)[] = new Array(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const hit = memo?.get(keys[i]!);
      if (hit) stored[i] = hit;
      else missing.push(i);
    }
    if (missing.length > 0) {
      const fetched = await this.options.cache.getMany(missing.map((i) => keys[i]!));
      missing.forEach((i, j) => {
        const answer = fetched[j];
        if (answer) memo?.set(keys[i]!, answer);
        stored[i] = answer;
      });
    }
    const now = this.#clock.now();
    for (let i = 0; i < stored.length; i++) {
      const answer = stored[i];
      if (answer && freshnessOf(answer, this.#policy(requests[i]!.api), now) === 'expired')
        stored[i] = undefined;
    }
    return stored;
  }

  /**
   * An answer past its stale time is a miss, whatever the store still holds: every reader agrees with the
   * client's clock on what has expired.
   */
  #unexpired(api: DefenderApi, stored: StoredAnswer | undefined): StoredAnswer | undefined {
    if (!stored) return undefined;
    return freshnessOf(stored, this.#policy(api), this.#clock.now()) === 'expired' ? undefined : stored;
  }

  /** A cached answer served: counted, and refreshed in the background once past its TTL. */
  #served(request: DefenderRequest, key: string, stored: StoredAnswer, scope: CallScope): CachedAnswer {
    const { api } = request;
    const { stats } = scope;
    stats.cacheHits++;
    apiStats(stats, api).cacheHits++;
    const policy = this.#policy(api);
    stats.freshUntil = Math.min(stats.freshUntil, freshUntil(stored, policy));
    const stale = freshnessOf(stored, policy, this.#clock.now()) === 'stale';
    this.options.observer?.onCacheLookup?.(api, stale ? 'stale' : 'hit');
    if (stale) {
      stats.staleHits++;
      this.#refresh(request, key, scope);
    }
    return withoutTime(stored);
  }

  /**
   * Refreshes a stale answer through the call pipeline as background work: only when the breaker is closed and
   * a slot is free now with nobody waiting (clients' calls always go first), tried once, as the same identity,
   * never cancelled by the client that triggered it, shared with identical calls while in flight. Otherwise the
   * stale answer stays, and a later hit tries again.
   */
  #refresh(request: DefenderRequest, key: string, owner: CallScope): void {
    const { api } = request;
    if (this.#inFlight.has(key)) return;
    const scope = refreshScope(owner, this.#clock.now());
    const call = this.#pipeline.background(api, this.urlFor(request), scope);
    const refresh = call && this.#track(key, call.then(this.#storing(api, key)));
    reportRefresh(api, refresh, this.options.observer, this.options.onBackgroundError);
  }

  /** The operation used an answer of `api` fetched just now: its result is fresh no longer than its TTL. */
  #usedFresh(stats: UpstreamStats, api: DefenderApi): void {
    stats.freshUntil = Math.min(stats.freshUntil, this.#clock.now() + this.options.ttlMs(api));
  }

  #policy(api: DefenderApi): FreshnessPolicy {
    return { ttlMs: this.options.ttlMs(api), staleMs: this.options.staleMs ?? 0 };
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

  /** Stores an answer once it arrives, before it is shared or served. */
  #storing(api: DefenderApi, key: string): (answer: CachedAnswer) => Promise<CachedAnswer> {
    return async (answer) => {
      await this.#store(api, key, answer);
      return answer;
    };
  }

  async #store(api: DefenderApi, key: string, answer: CachedAnswer): Promise<void> {
    const keptMs = keptForMs(this.#policy(api));
    if (keptMs <= 0) return;
    await this.options.cache.set(key, { ...answer, storedAt: this.#clock.now() }, keptMs);
  }
}

/** Hunting queries whose cache keys are kept at once (oldest first out). */
const RECENT_HUNT_KEYS = 32;

/**
 * Keys of reads by id kept at once, over every identity and API (all dropped when full): about 1.5 MiB, far more
 * than one warm operation reads.
 */
const RECENT_KEYS = 8_192;

/** Identities whose key prefixes are kept at once (they are made again when dropped). */
const KEY_PREFIX_IDENTITIES = 1_000;

/** Graph's hunting route under its base URL (whatever path prefix the base has). */
function huntingUrl(graphUrl: URL): URL {
  const prefix = graphUrl.pathname.replace(/\/+$/, '');
  return new URL(`${graphUrl.origin}${prefix}/v1.0/security/runHuntingQuery`);
}

function withoutTime(stored: StoredAnswer): CachedAnswer {
  return stored.status === 200 ? { status: 200, body: stored.body } : { status: 404 };
}
