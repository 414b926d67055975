import { splitCacheBudget } from './cache/budget.js';
import { ConfigError, loadConfig } from './config.js';
import type { Config } from './config.js';
import { createMemoryCache } from './cache/entity-cache.js';
import { DefenderClient } from './defender/client.js';
import type { UpstreamCache } from './cache/entity-cache.js';
import { LocalRateLimiter } from './rate-limit/limiter.js';
import type { UpstreamLimiter } from './rate-limit/limiter.js';
import { closeRedis, connectRedis } from './cache/redis.js';
import { createRedisCache } from './cache/redis-cache.js';
import { RedisRateLimiter } from './rate-limit/redis-limiter.js';
import type { TokenProvider } from './auth/tokens.js';
import { MsalTokenProvider, RefusingTokenProvider, StaticTokenProvider } from './auth/tokens.js';
import { JwtAuthenticator } from './auth/jwt.js';
import { OboTokenProviders } from './auth/obo.js';
import { createLogger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import type { QueueDepthSource } from './ops/metrics.js';
import { SHUTDOWN_GRACE_MS, shutdown, shutdownDeadlineMs } from './ops/shutdown.js';
import { createServer } from './server.js';
import { DEFAULT_SIMULATOR_TOKEN } from './simulator/config.js';
import { startSimulator } from './simulator/server.js';

/** `npm start`: reads the configuration, wires the real dependencies and listens. */
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`defender-graph: bad configuration: ${error.message}`);
  process.exit(2);
}
const logger = createLogger(config.logLevel);

let baseUrl = config.defenderUrl;
let tokens: TokenProvider;
let closeSimulator = async () => {};
if (!baseUrl) {
  const simulator = await startSimulator(config.simulator.options, { port: 0, host: '127.0.0.1' });
  baseUrl = new URL(simulator.url);
  closeSimulator = () => simulator.close();
  const token = config.simulator.options.tokens[0]?.token ?? DEFAULT_SIMULATOR_TOKEN;
  tokens = new StaticTokenProvider(token, 'embedded-simulator');
  logger.info(`defender-graph: embedded Defender simulator (seed ${config.simulator.options.seed}) started`);
} else if (config.credentials.kind === 'msal') {
  // On behalf of callers, the application's own identity must never be used, even by mistake.
  tokens =
    config.defenderAuthMode === 'obo'
      ? new RefusingTokenProvider()
      : new MsalTokenProvider(config.credentials);
} else if (config.credentials.kind === 'static') {
  tokens = new StaticTokenProvider(config.credentials.token);
} else {
  throw new Error('unreachable: a Defender URL without credentials passed configuration');
}

if (config.auth.mode === 'none') {
  const where =
    config.host === '127.0.0.1'
      ? 'listening on loopback (127.0.0.1) only; HOST=0.0.0.0 opens it to every interface'
      : `listening on HOST=${config.host}`;
  logger.warn(
    { host: config.host },
    `defender-graph: AUTH_MODE=none: every caller is trusted, ${where}; use AUTH_MODE=jwt in front of a real Defender`,
  );
}
const authenticator =
  config.auth.mode === 'jwt'
    ? new JwtAuthenticator({
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        jwksUri: config.auth.jwksUri,
        algorithms: config.auth.algorithms,
        ...(config.auth.requiredRole && { requiredRole: config.auth.requiredRole }),
        ...(config.auth.requiredScope && { requiredScope: config.auth.requiredScope }),
      })
    : undefined;
const obo =
  config.defenderAuthMode === 'obo' && config.credentials.kind === 'msal'
    ? new OboTokenProviders(config.credentials)
    : undefined;

// CACHE_MAX_MB bounds every in-process cache; answers kept in Redis are bounded by Redis instead.
const cacheBudget = splitCacheBudget(config.cacheMaxMb, { entitiesInProcess: !config.cacheUrl });
// With CACHE_URL, the cache and the rate-limit budget are shared by every replica through Redis; a Redis that
// fails makes cache misses, and each replica keeps to its share (GATEWAY_REPLICAS) until Redis answers again.
let limiter: UpstreamLimiter & QueueDepthSource;
let cache: UpstreamCache;
let closeRedisClient = async () => {};
if (config.cacheUrl) {
  let lastErrorLog = 0;
  const redis = connectRedis(config.cacheUrl, {
    onError: (error) => {
      // Reconnection errors repeat every second while Redis is down: logged at most once a minute.
      if (Date.now() - lastErrorLog < 60_000) return;
      lastErrorLog = Date.now();
      logger.warn({ error: (error as Error).message }, 'defender-graph: Redis (CACHE_URL) unreachable');
    },
  });
  closeRedisClient = () => closeRedis(redis);
  cache = createRedisCache(redis);
  limiter = new RedisRateLimiter(config.rateLimits, {
    client: redis,
    replicas: config.replicas,
    onModeChange: (mode) =>
      mode === 'local'
        ? logger.warn(
            { replicas: config.replicas },
            'defender-graph: Redis unreachable; rate limits kept locally at this replica’s share',
          )
        : logger.info('defender-graph: Redis answers again; the rate-limit budget is shared again'),
  });
  logger.info({ replicas: config.replicas }, 'defender-graph: shared cache and rate-limit budget in Redis');
} else {
  cache = createMemoryCache({ maxBytes: cacheBudget.entities });
  limiter = new LocalRateLimiter(config.rateLimits);
}
const metrics = createMetrics({ limiter });
const client = new DefenderClient({
  baseUrl,
  tokens,
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
});
const server = await createServer({
  client,
  limiter,
  requestDeadlineMs: config.requestDeadlineMs,
  machineBatchSize: config.machineBatchSize,
  maxPageSize: config.maxPageSize,
  maxOperationCalls: config.maxOperationCalls,
  routerSecret: config.routerSecret,
  introspection: config.introspection,
  hideSchemaSuggestions: config.hideSchemaSuggestions,
  allowBatchedRequests: config.allowBatchedRequests,
  cacheBudget,
  ...(authenticator && { authenticator }),
  ...(obo && { obo }),
  metrics,
  logger,
  http: config.http,
  maxInFlightOperations: config.maxInFlightOperations,
});
await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
logger.info(
  { host: config.host, port: config.port },
  `defender-graph: GraphQL on http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${config.port}/graphql`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // An orchestrator stops with SIGTERM and load balancers need the readiness delay; Ctrl-C is a person.
    const readinessDelayMs = signal === 'SIGTERM' ? config.shutdownReadinessDelayMs : 0;
    // Kubernetes kills at 30 s (after its 5 s preStop): whatever happens, the process is gone before.
    setTimeout(() => {
      logger.error('defender-graph: shutdown did not finish in time, exiting');
      process.exit(1);
    }, shutdownDeadlineMs(readinessDelayMs)).unref();
    void shutdown(
      {
        server,
        limiter,
        closeOthers: () => Promise.all([closeSimulator(), closeRedisClient()]).then(() => {}),
        logger,
      },
      signal,
      { readinessDelayMs, gracePeriodMs: SHUTDOWN_GRACE_MS },
    ).then(() => process.exit(0));
  });
}
