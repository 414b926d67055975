import { splitCacheBudget } from './cache/budget.js';
import type { Config } from './config.js';
import { createMemoryCache } from './cache/entity-cache.js';
import type { UpstreamCache } from './cache/entity-cache.js';
import { closeRedis, connectRedis } from './cache/redis.js';
import type { RedisConnection } from './cache/redis.js';
import { redisFanoutStore } from './planner/redis-fanout.js';
import { FanoutStats } from './planner/fanout.js';
import { createRedisCache } from './cache/redis-cache.js';
import { redisGenerations } from './cache/alert-generation.js';
import { DefenderClient } from './defender/client.js';
import type { DefenderClientOptions } from './defender/client.js';
import { LocalRateLimiter } from './rate-limit/limiter.js';
import type { UpstreamLimiter } from './rate-limit/limiter.js';
import { RedisRateLimiter } from './rate-limit/redis-limiter.js';
import { RoutedLimiter } from './rate-limit/routed.js';
import { BATCH_UPDATE_API, BATCH_UPDATE_RATE_LIMITS, HUNTING_API } from './defender/apis.js';
import type { RateLimitWindow } from './rate-limit/windows.js';
import { parseRateLimits } from './rate-limit/windows.js';
import type { TokenProvider } from './auth/tokens.js';
import { MsalTokenProvider, RefusingTokenProvider, StaticTokenProvider } from './auth/tokens.js';
import { JwtAuthenticator } from './auth/jwt.js';
import { OboTokenProviders } from './auth/obo.js';
import { createLogger } from './ops/logger.js';
import type { Logger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import type { GatewayMetrics, QueueDepthSource } from './ops/metrics.js';
import type { ServerDeps } from './server.js';
import type { TracingOptions } from './ops/tracing.js';
import { DEFAULT_SIMULATOR_TOKEN } from './simulator/config.js';
import { startSimulator } from './simulator/server.js';

/** Where the gateway's Defender calls go, and with which token. */
export interface Upstream {
  /** Defender's base URL, without `/api`. */
  readonly baseUrl: URL;
  readonly tokens: TokenProvider;
  /** Microsoft Graph's base URL (advanced hunting), without `/v1.0`. Default: `baseUrl` (a simulator serves both). */
  readonly graphUrl?: URL;
  /** Tokens for Graph as the same identity. Default: `tokens`. */
  readonly graphTokens?: TokenProvider;
}

/**
 * Parts of what `createDependencies` builds from the configuration, replaced by tests and the bench. Whatever is
 * not given is built from the configuration exactly as `npm start` builds it.
 */
export interface DependencyOverrides {
  /** The upstream to call instead of `DEFENDER_API_URL`'s (or the embedded simulator, which is then not started). */
  readonly upstream?: Upstream;
  /** The cache of upstream answers. Default: Redis with `CACHE_URL`, else in memory, of its share of `CACHE_MAX_MB`. */
  readonly cache?: UpstreamCache;
  /** The limiter's windows, applied per Defender API. Default: `DEFENDER_RATE_LIMITS`. */
  readonly rateLimits?: readonly RateLimitWindow[];
  /** Advanced hunting's windows. Default: `HUNTING_RATE_LIMITS`. */
  readonly huntingRateLimits?: readonly RateLimitWindow[];
  /** The limiter's safety margin per window (ms), whatever the window's length. Default: the limiter's own. */
  readonly limiterMarginMs?: number;
  /**
   * The client's options on top of the configuration's (timeouts, retries, backoff, breaker, TTLs, observer…).
   * Default: none.
   */
  readonly client?: Partial<Omit<DefenderClientOptions, 'baseUrl' | 'tokens' | 'limiter' | 'cache'>>;
  /** The server's dependencies on top of the configuration's (maxOperationCalls, responseCache…). Default: none. */
  readonly server?: Partial<Omit<ServerDeps, 'client' | 'limiter'>>;
  /**
   * Collect the process's own metrics (CPU, memory, event loop) in the gateway's registry. Default true; a
   * process running many gateways (the tests) turns it off, since each collector keeps running until exit.
   */
  readonly processMetrics?: boolean;
  /** Where spans go besides the configuration's OTLP endpoint (tests: an in-memory exporter). Default: none. */
  readonly tracing?: TracingOptions;
}

/** What `npm start` runs on, built once from the configuration. */
export interface Dependencies {
  /** For `createServer`. */
  readonly server: ServerDeps;
  /** The upstream limiter: shutdown releases its waiters; tests read its queues. */
  readonly limiter: UpstreamLimiter & QueueDepthSource;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Where the Defender calls go (the embedded simulator's loopback URL when there is no `DEFENDER_API_URL`). */
  readonly upstreamUrl: URL;
  /** Closes what was opened here: the embedded simulator and the Redis connection (not the limiter, not the server). */
  close(): Promise<void>;
}

/**
 * The composition root: the limiter, the caches, the Defender client, the token providers, the inbound
 * authenticator, the metrics and the logger, from the configuration, for `createServer`. `src/index.ts`, the
 * tests (`test/helpers/gateway.ts`) and the bench (`bench/gateway.ts`) all build the gateway here, so a default
 * lives in one place: the configuration.
 */
export async function createDependencies(
  config: Config,
  overrides: DependencyOverrides = {},
): Promise<Dependencies> {
  const logger = overrides.server?.logger ?? createLogger(config.logLevel);
  const closers: (() => Promise<void>)[] = [];
  try {
    const upstream = overrides.upstream ?? (await configuredUpstream(config, logger, closers));
    warnWhenEveryCallerIsTrusted(config, logger);

    // CACHE_MAX_MB bounds every in-process cache; answers kept in Redis are bounded by Redis instead.
    const cacheBudget = splitCacheBudget(config.cacheMaxMb, {
      entitiesInProcess: overrides.cache === undefined && !config.cacheUrl,
    });
    const { limiter, cache, redis } = limiterAndCache(
      config,
      overrides,
      cacheBudget.entities,
      logger,
      closers,
    );
    const fanout = fanoutStats(redis, logger);

    const metrics =
      overrides.server?.metrics ??
      createMetrics({ limiter, processMetrics: overrides.processMetrics ?? true });
    const client = new DefenderClient({
      baseUrl: upstream.baseUrl,
      tokens: upstream.tokens,
      graphUrl: upstream.graphUrl,
      graphTokens: upstream.graphTokens,
      limiter,
      cache,
      ttlMs: (api) => config.cacheTtlMs[api],
      staleMs: config.cacheStaleMs,
      onBackgroundError: (error) =>
        logger.warn({ error: (error as Error).name }, 'defender-graph: a background cache refresh failed'),
      observer: metrics.observer,
      timeoutMs: config.upstreamTimeoutMs,
      maxRetries: config.upstreamRetries,
      maxThrottleRetries: 2,
      // With CACHE_URL, a write on any replica moves every replica's cached alert answers on.
      ...(redis && { alertGenerations: redisGenerations(redis) }),
      ...overrides.client,
    });
    // Off without OTEL_EXPORTER_OTLP_ENDPOINT: the SDK is not even loaded (about 3 MiB of heap). On, closing
    // flushes the spans still queued.
    const tracing =
      config.telemetry.tracesUrl || overrides.tracing?.exporter
        ? (await import('./ops/tracing.js')).startTracing(config.telemetry, overrides.tracing)
        : undefined;
    if (tracing) closers.push(() => tracing.shutdown());
    const authenticator = inboundAuthenticator(config);
    const obo =
      config.defenderAuthMode === 'obo' && config.credentials.kind === 'msal'
        ? new OboTokenProviders(config.credentials)
        : undefined;
    const graphObo =
      config.defenderAuthMode === 'obo' && config.credentials.kind === 'msal'
        ? new OboTokenProviders({ ...config.credentials, scope: config.hunting.graphScope })
        : undefined;
    const server: ServerDeps = {
      client,
      limiter,
      requestDeadlineMs: config.requestDeadlineMs,
      machineBatchSize: config.machineBatchSize,
      maxPageSize: config.maxPageSize,
      maxOperationCalls: config.maxOperationCalls,
      costMarginPercent: config.costMarginPercent,
      fanout,
      ...(config.routerSecret !== undefined && { routerSecret: config.routerSecret }),
      introspection: config.introspection,
      hideSchemaSuggestions: config.hideSchemaSuggestions,
      allowBatchedRequests: config.allowBatchedRequests,
      cacheBudget,
      ...(authenticator && { authenticator }),
      ...(config.auth.mode === 'jwt' && { writeRole: config.auth.writeRole }),
      ...(config.auth.mode === 'none' &&
        config.defenderUrl !== undefined &&
        !config.allowUnauthenticatedWrites && { writesDisabled: true }),
      ...(obo && { obo }),
      ...(graphObo && { graphObo }),
      plans: config.hunting.plans,
      metrics,
      logger,
      http: config.http,
      maxInFlightOperations: config.maxInFlightOperations,
      // With CACHE_URL, one replica polls for each identity and the others receive its changes through Redis.
      live: { ...config.live, ...(redis && { shared: { redis } }) },
      ...(tracing && { tracing }),
      ...overrides.server,
    };
    return {
      server,
      limiter,
      logger,
      metrics,
      upstreamUrl: upstream.baseUrl,
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

/** Closes in reverse order of opening, all of them even when one fails. */
async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  const pending = closers.splice(0).reverse();
  await Promise.all(pending.map((close) => close()));
}

/**
 * Defender at `DEFENDER_API_URL` with the configured credentials, or, without it, the embedded simulator (started
 * here, on loopback) with its own token.
 */
async function configuredUpstream(
  config: Config,
  logger: Logger,
  closers: (() => Promise<void>)[],
): Promise<Upstream> {
  if (!config.defenderUrl) {
    const simulator = await startSimulator(config.simulator.options, { port: 0, host: '127.0.0.1' });
    closers.push(() => simulator.close());
    const token = config.simulator.options.tokens[0]?.token ?? DEFAULT_SIMULATOR_TOKEN;
    logger.info(
      `defender-graph: embedded Defender simulator (seed ${config.simulator.options.seed}) started`,
    );
    const simulatorUrl = new URL(simulator.url);
    // The simulator serves Graph's hunting route too; GRAPH_API_URL may still point elsewhere.
    return {
      baseUrl: simulatorUrl,
      tokens: new StaticTokenProvider(token, 'embedded-simulator'),
      graphUrl: config.hunting.graphUrl ?? simulatorUrl,
    };
  }
  const graphUrl = config.hunting.graphUrl;
  if (config.credentials.kind === 'msal') {
    // On behalf of callers, the application's own identity must never be used, even by mistake.
    if (config.defenderAuthMode === 'obo') {
      return {
        baseUrl: config.defenderUrl,
        tokens: new RefusingTokenProvider(),
        graphTokens: new RefusingTokenProvider(),
        ...(graphUrl && { graphUrl }),
      };
    }
    return {
      baseUrl: config.defenderUrl,
      tokens: new MsalTokenProvider(config.credentials),
      graphTokens: new MsalTokenProvider({ ...config.credentials, scope: config.hunting.graphScope }),
      ...(graphUrl && { graphUrl }),
    };
  }
  if (config.credentials.kind === 'static') {
    // A static token is sent to Graph as well: whoever gave it chose its audience.
    return {
      baseUrl: config.defenderUrl,
      tokens: new StaticTokenProvider(config.credentials.token),
      ...(graphUrl && { graphUrl }),
    };
  }
  throw new Error('unreachable: a Defender URL without credentials passed configuration');
}

/** AUTH_MODE=none trusts every caller: said once at start-up, with where the gateway listens. */
function warnWhenEveryCallerIsTrusted(config: Config, logger: Logger): void {
  if (config.auth.mode !== 'none') return;
  const where =
    config.host === '127.0.0.1'
      ? 'listening on loopback (127.0.0.1) only; HOST=0.0.0.0 opens it to every interface'
      : `listening on HOST=${config.host}`;
  logger.warn(
    { host: config.host },
    `defender-graph: AUTH_MODE=none: every caller is trusted, ${where}; use AUTH_MODE=jwt in front of a real Defender`,
  );
  if (config.defenderUrl === undefined) return;
  logger.warn(
    config.allowUnauthenticatedWrites
      ? 'defender-graph: ALLOW_UNAUTHENTICATED_WRITES=true: any caller can change alerts in Defender'
      : 'defender-graph: AUTH_MODE=none in front of a real Defender: mutations are refused (ALLOW_UNAUTHENTICATED_WRITES=true allows them)',
  );
}

function inboundAuthenticator(config: Config): JwtAuthenticator | undefined {
  if (config.auth.mode !== 'jwt') return undefined;
  return new JwtAuthenticator({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    jwksUri: config.auth.jwksUri,
    algorithms: config.auth.algorithms,
    ...(config.auth.requiredRole && { requiredRole: config.auth.requiredRole }),
    ...(config.auth.requiredScope && { requiredScope: config.auth.requiredScope }),
  });
}

/**
 * With CACHE_URL, the cache and the rate-limit budget are shared by every replica through Redis; a Redis that
 * fails makes cache misses, and each replica keeps to its share (GATEWAY_REPLICAS) until Redis answers again.
 * Without it, both live in this process.
 */
function limiterAndCache(
  config: Config,
  overrides: DependencyOverrides,
  entityBytes: number,
  logger: Logger,
  closers: (() => Promise<void>)[],
): { limiter: UpstreamLimiter & QueueDepthSource; cache: UpstreamCache; redis?: RedisConnection } {
  const windows = overrides.rateLimits ?? config.rateLimits;
  const huntingWindows = overrides.huntingRateLimits ?? config.hunting.rateLimits;
  const margin = overrides.limiterMarginMs;
  const marginOption = margin === undefined ? {} : { marginMs: () => margin };
  const huntingOnly = { apis: [HUNTING_API] as const };
  const batchWindows = parseRateLimits(BATCH_UPDATE_RATE_LIMITS);
  const batchOnly = { apis: [BATCH_UPDATE_API] as const };
  if (!config.cacheUrl) {
    return {
      limiter: new RoutedLimiter(
        new LocalRateLimiter(windows, marginOption),
        new LocalRateLimiter(huntingWindows, { ...marginOption, ...huntingOnly }),
        new LocalRateLimiter(batchWindows, { ...marginOption, ...batchOnly }),
      ),
      cache: overrides.cache ?? createMemoryCache({ maxBytes: entityBytes }),
    };
  }
  let lastErrorLog = 0;
  const redis = connectRedis(config.cacheUrl, {
    onError: (error) => {
      // Reconnection errors repeat every second while Redis is down: logged at most once a minute.
      if (Date.now() - lastErrorLog < 60_000) return;
      lastErrorLog = Date.now();
      logger.warn({ error: (error as Error).message }, 'defender-graph: Redis (CACHE_URL) unreachable');
    },
  });
  closers.push(() => closeRedis(redis));
  const restLimiter = new RedisRateLimiter(windows, {
    client: redis,
    replicas: config.replicas,
    ...marginOption,
    onModeChange: (mode) =>
      mode === 'local'
        ? logger.warn(
            { replicas: config.replicas },
            'defender-graph: Redis unreachable; rate limits kept locally at this replica’s share',
          )
        : logger.info('defender-graph: Redis answers again; the rate-limit budget is shared again'),
  });
  // Hunting's windows under their own key prefix: a budget with other windows never shares a key.
  const huntingLimiter = new RedisRateLimiter(huntingWindows, {
    client: redis,
    replicas: config.replicas,
    prefix: 'defender-graph:limiter:hunting',
    ...marginOption,
    ...huntingOnly,
  });
  // batchUpdate's documented windows, also under their own prefix.
  const batchLimiter = new RedisRateLimiter(batchWindows, {
    client: redis,
    replicas: config.replicas,
    prefix: 'defender-graph:limiter:batch-update',
    ...marginOption,
    ...batchOnly,
  });
  const limiter = new RoutedLimiter(restLimiter, huntingLimiter, batchLimiter);
  logger.info({ replicas: config.replicas }, 'defender-graph: shared cache and rate-limit budget in Redis');
  return { limiter, cache: overrides.cache ?? createRedisCache(redis), redis };
}

/**
 * The fan-out the planner learns from every answer: shared by the replicas through Redis with CACHE_URL (a
 * Redis that fails leaves each replica with what it saw itself), else this process's own.
 */
function fanoutStats(redis: RedisConnection | undefined, logger: Logger): FanoutStats {
  if (!redis) return new FanoutStats();
  let lastErrorLog = 0;
  return new FanoutStats({
    store: redisFanoutStore(redis),
    onStoreError: (error) => {
      if (Date.now() - lastErrorLog < 60_000) return;
      lastErrorLog = Date.now();
      logger.warn(
        { error: (error as Error).message },
        'defender-graph: learnt fan-out not shared (Redis unreachable); this replica keeps its own',
      );
    },
  });
}
