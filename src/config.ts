import { DEFAULT_CACHE_MAX_MB } from './cache/budget.js';
import type { DefenderApi } from './defender/apis.js';
import { DEFENDER_DEFAULT_RATE_LIMITS } from './defender/apis.js';
import type { RateLimitWindow } from './rate-limit/windows.js';
import { parseRateLimits } from './rate-limit/windows.js';
import type { StandaloneConfig } from './simulator/config.js';
import { readSimulatorEnv } from './simulator/config.js';
import type { LogLevel } from './ops/logger.js';
import { LOG_LEVELS } from './ops/logger.js';
import type { HttpLimits } from './http/connection-limits.js';
import { DEFAULT_MAX_INFLIGHT_OPERATIONS } from './http/inflight-limit.js';
import { DEFAULT_READINESS_DELAY_MS } from './ops/shutdown.js';
import type { DefenderCredentials } from './config/defender.js';
import { parseCacheTtls, parseCredentials, parseDefenderUrl } from './config/defender.js';
import type { EnvReader } from './config/env.js';
import { ConfigError, envReader } from './config/env.js';
import type { InboundAuth } from './config/inbound-auth.js';
import { parseInboundAuth, parseRouterSecret } from './config/inbound-auth.js';
import { parseHost, parseHttpLimits } from './config/listen.js';
import type { HuntingConfig } from './config/hunting.js';
import { parseHunting } from './config/hunting.js';
import type { LiveConfig } from './config/live.js';
import { parseLiveConfig } from './config/live.js';
import type { TelemetryConfig } from './config/telemetry.js';
import { parseTelemetry } from './config/telemetry.js';

export { ConfigError } from './config/env.js';
export type { DefenderCredentials } from './config/defender.js';
export type { InboundAuth } from './config/inbound-auth.js';
export type { DefenderPlans, HuntingConfig } from './config/hunting.js';
export type { LiveConfig } from './config/live.js';
export type { TelemetryConfig } from './config/telemetry.js';

export interface Config {
  /** HTTP port. Default 4000. */
  readonly port: number;
  /**
   * `HOST`: the address to listen on. Default 127.0.0.1 with AUTH_MODE=none (every caller is trusted, so only
   * this machine may call), 0.0.0.0 (every interface) otherwise.
   */
  readonly host: string;
  /**
   * What one connection may hold (`HTTP_REQUEST_TIMEOUT_MS`, `HTTP_HEADERS_TIMEOUT_MS`,
   * `HTTP_KEEP_ALIVE_TIMEOUT_MS`, `HTTP_SOCKET_TIMEOUT_MS`, `HTTP_MAX_HEADER_BYTES`) and how many there may be
   * (`HTTP_MAX_CONNECTIONS`). Defaults: `DEFAULT_HTTP_LIMITS`.
   */
  readonly http: HttpLimits;
  /** `MAX_INFLIGHT_OPERATIONS`: most GraphQL requests running at once; one more gets 503 at once. Default 100. */
  readonly maxInFlightOperations: number;
  /**
   * `SHUTDOWN_READINESS_DELAY_MS`: after SIGTERM, how long `/readyz` answers 503 while requests are still served,
   * so that load balancers stop sending before the listener closes (ms). Default 3,000.
   */
  readonly shutdownReadinessDelayMs: number;
  /** Defender's base URL without `/api`; undefined runs the embedded simulator. */
  readonly defenderUrl: URL | undefined;
  readonly credentials: DefenderCredentials;
  /** Upstream windows, applied per Defender API, all at once. Default 100/60 s and 1,500/3,600 s. */
  readonly rateLimits: readonly RateLimitWindow[];
  /**
   * Advanced hunting through Microsoft Graph: `GRAPH_API_URL`, `GRAPH_SCOPE`, `HUNTING_RATE_LIMITS` and
   * `DEFENDER_PLANS` (whether relationship levels may be answered by hunting at all).
   */
  readonly hunting: HuntingConfig;
  /** Per-call timeout (ms). Default 10,000. */
  readonly upstreamTimeoutMs: number;
  /** Retries after a 5xx, timeout or network error. Default 2. */
  readonly upstreamRetries: number;
  /** How long an operation's calls may wait for the rate limiter before failing RATE_LIMITED (ms). Default 15,000. */
  readonly requestDeadlineMs: number;
  /** Cache lifetime per API (ms). Default 60 s each, overridable per API. */
  readonly cacheTtlMs: Readonly<Record<DefenderApi, number>>;
  /** Machine ids per `$filter=id in (…)` call. Default 50. */
  readonly machineBatchSize: number;
  /** Cap on `first`. Default 500. */
  readonly maxPageSize: number;
  /** Most Defender calls one operation may need, estimated before execution and enforced during it. Default 100. */
  readonly maxOperationCalls: number;
  /**
   * How far above its expected cost an operation may turn out, in percent: admission holds the expected calls
   * plus this margin to MAX_OPERATION_CALLS and to the budget. Default 25 (measured by `npm run bench`).
   */
  readonly costMarginPercent: number;
  /** How long past its TTL a cached answer is still served while refreshed in the background (ms). Default 600 s. */
  readonly cacheStaleMs: number;
  /** The embedded simulator's settings (used when `defenderUrl` is undefined). */
  readonly simulator: StandaloneConfig;
  /** Inbound authentication: Entra ID bearer tokens, or none (explicit, logged as a warning). */
  readonly auth: InboundAuth;
  /**
   * With `AUTH_MODE=none` in front of a real Defender, whether mutations are sent at all
   * (`ALLOW_UNAUTHENTICATED_WRITES`, default false): anyone who reaches the port could otherwise change alerts.
   * Writes to the embedded simulator are always allowed.
   */
  readonly allowUnauthenticatedWrites: boolean;
  /** `app`: one application identity for everyone; `obo`: on behalf of each caller. */
  readonly defenderAuthMode: 'app' | 'obo';
  /** Introspection on (`GRAPHQL_INTROSPECTION`); default on with the embedded simulator only. */
  readonly introspection: boolean;
  /** "Did you mean …?" hidden from errors; default everywhere but the embedded simulator. */
  readonly hideSchemaSuggestions: boolean;
  /** Batched HTTP requests (a JSON array of operations) accepted (`GRAPHQL_BATCHING`). Default off. */
  readonly allowBatchedRequests: boolean;
  /** `ROUTER_SECRET`: the federation router's shared secret; when set, `/graphql` requires it. Default unset. */
  readonly routerSecret?: string;
  /** `LOG_LEVEL`: the JSON logs' threshold (fatal, error, warn, info, debug, trace, silent). Default info. */
  readonly logLevel: LogLevel;
  /**
   * `CACHE_URL` (`redis://` or `rediss://`): the cache and the rate-limit state shared by every replica.
   * Unset: both in this process.
   */
  readonly cacheUrl?: string;
  /**
   * `CACHE_MAX_MB`: estimated heap MiB all in-process caches may hold together (upstream answers, whole
   * results, parsed documents, persisted queries), split as `splitCacheBudget` documents; each evicts its least
   * recently used entries past its share. With `CACHE_URL` the upstream answers are in Redis, bounded there,
   * and the others share the budget. Default 128, for a 512 MiB container.
   */
  readonly cacheMaxMb: number;
  /**
   * `GATEWAY_REPLICAS`: how many replicas share the budget. While Redis is unreachable each one keeps to
   * every limit divided by this (rounded down, at least 1). Default 1.
   */
  readonly replicas: number;
  /**
   * Live subscriptions: `ALERT_POLL_SECONDS` (default 30), `ALERT_POLL_BUDGET_PERCENT` (20),
   * `LIVE_MAX_SUBSCRIPTIONS` (10,000), `LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION` (20); see `LiveConfig`.
   */
  readonly live: LiveConfig;
  /**
   * OpenTelemetry traces (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`…): off, at
   * no cost, unless an endpoint is set; see `TelemetryConfig`.
   */
  readonly telemetry: TelemetryConfig;
}

/**
 * Reads the configuration once, from the environment. Nothing else reads `process.env`. A bad value throws a
 * ConfigError naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const reader = envReader(env);
  const { read, fail, int, bool } = reader;

  const defenderUrl = parseDefenderUrl(reader);
  const credentials = parseCredentials(reader, defenderUrl !== undefined);

  let rateLimits: RateLimitWindow[] = [];
  try {
    rateLimits = parseRateLimits(read('DEFENDER_RATE_LIMITS') ?? DEFENDER_DEFAULT_RATE_LIMITS);
  } catch (error) {
    fail('DEFENDER_RATE_LIMITS', (error as Error).message);
  }
  const cacheTtlMs = parseCacheTtls(reader);
  const hunting = parseHunting(reader, defenderUrl !== undefined);

  const cacheUrl = parseCacheUrl(reader);
  const auth = parseInboundAuth(reader, defenderUrl !== undefined);
  const defenderAuthMode = read('DEFENDER_AUTH_MODE') ?? 'app';
  if (defenderAuthMode !== 'app' && defenderAuthMode !== 'obo')
    fail('DEFENDER_AUTH_MODE', 'expected "app" or "obo"');
  if (defenderAuthMode === 'obo' && credentials.kind !== 'msal') {
    fail(
      'DEFENDER_AUTH_MODE',
      '"obo" needs the MSAL credentials (AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret or certificate)',
    );
  }
  if (defenderAuthMode === 'obo' && auth.mode !== 'jwt')
    fail('DEFENDER_AUTH_MODE', '"obo" needs AUTH_MODE=jwt');
  const production = defenderUrl !== undefined || env['NODE_ENV'] === 'production';

  let simulator: StandaloneConfig;
  try {
    simulator = readSimulatorEnv(env);
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }

  const requestDeadlineMs = int('REQUEST_DEADLINE_MS', 15_000, 1);
  const upstreamTimeoutMs = int('DEFENDER_TIMEOUT_MS', 10_000, 1);
  const http = parseHttpLimits(reader, requestDeadlineMs + upstreamTimeoutMs);

  return Object.freeze({
    port: int('PORT', 4000),
    host: parseHost(reader) ?? (auth.mode === 'none' ? '127.0.0.1' : '0.0.0.0'),
    http,
    maxInFlightOperations: int('MAX_INFLIGHT_OPERATIONS', DEFAULT_MAX_INFLIGHT_OPERATIONS, 1),
    shutdownReadinessDelayMs: int('SHUTDOWN_READINESS_DELAY_MS', DEFAULT_READINESS_DELAY_MS),
    defenderUrl,
    credentials,
    rateLimits,
    hunting,
    upstreamTimeoutMs,
    upstreamRetries: int('DEFENDER_RETRIES', 2),
    requestDeadlineMs,
    cacheTtlMs,
    machineBatchSize: int('MACHINE_BATCH_SIZE', 50, 1),
    maxPageSize: int('MAX_PAGE_SIZE', 500, 1),
    maxOperationCalls: int('MAX_OPERATION_CALLS', 100, 1),
    costMarginPercent: int('COST_MARGIN_PERCENT', 25),
    cacheStaleMs: int('CACHE_STALE_SECONDS', 600) * 1000,
    simulator,
    auth,
    allowUnauthenticatedWrites: bool('ALLOW_UNAUTHENTICATED_WRITES', false),
    defenderAuthMode: defenderAuthMode as 'app' | 'obo',
    introspection: bool('GRAPHQL_INTROSPECTION', !production),
    hideSchemaSuggestions: production,
    allowBatchedRequests: bool('GRAPHQL_BATCHING', false),
    logLevel: parseLogLevel(reader),
    replicas: int('GATEWAY_REPLICAS', 1, 1),
    cacheMaxMb: int('CACHE_MAX_MB', DEFAULT_CACHE_MAX_MB, 1),
    live: parseLiveConfig(reader),
    telemetry: parseTelemetry(reader),
    ...(cacheUrl && { cacheUrl }),
    ...parseRouterSecret(reader),
  });
}

/** A Redis URL; the value is never echoed, since it may carry a password. */
function parseCacheUrl({ read, fail }: EnvReader): string | undefined {
  const raw = read('CACHE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('CACHE_URL', 'not a URL; expected redis://host:port or rediss://host:port');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    fail('CACHE_URL', `expected a redis:// or rediss:// URL, got a ${url.protocol}// one`);
  }
  if (!url.hostname) fail('CACHE_URL', 'expected a host, as in redis://host:6379');
  return raw;
}

/** `LOG_LEVEL`: one of pino's levels, or silent. */
function parseLogLevel({ read, fail }: EnvReader): LogLevel {
  const raw = read('LOG_LEVEL');
  if (raw === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw))
    fail('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);
  return raw as LogLevel;
}
