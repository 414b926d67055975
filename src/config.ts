import { isIP } from 'node:net';
import { DEFAULT_CACHE_MAX_MB } from './cache/budget.js';
import type { DefenderApi } from './defender/apis.js';
import { DEFENDER_APIS, DEFENDER_DEFAULT_RATE_LIMITS } from './defender/apis.js';
import type { RateLimitWindow } from './rate-limit/windows.js';
import { parseRateLimits } from './rate-limit/windows.js';
import type { StandaloneConfig } from './simulator/config.js';
import { readSimulatorEnv } from './simulator/config.js';
import type { LogLevel } from './ops/logger.js';
import { LOG_LEVELS } from './ops/logger.js';
import type { HttpLimits } from './http/connection-limits.js';
import { DEFAULT_HTTP_LIMITS } from './http/connection-limits.js';
import { DEFAULT_MAX_INFLIGHT_OPERATIONS } from './http/inflight-limit.js';
import { DEFAULT_READINESS_DELAY_MS } from './ops/shutdown.js';

/** How the gateway authenticates to Defender. */
export type DefenderCredentials =
  | { readonly kind: 'static'; readonly token: string }
  | {
      readonly kind: 'msal';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret?: string;
      readonly clientCertificatePath?: string;
      readonly authorityHost: string;
      readonly scope: string;
    }
  /** The embedded simulator's own token. */
  | { readonly kind: 'simulator' };

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
  /** How long past its TTL a cached answer is still served while refreshed in the background (ms). Default 600 s. */
  readonly cacheStaleMs: number;
  /** The embedded simulator's settings (used when `defenderUrl` is undefined). */
  readonly simulator: StandaloneConfig;
  /** Inbound authentication: Entra ID bearer tokens, or none (explicit, logged as a warning). */
  readonly auth: InboundAuth;
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
}

export type InboundAuth =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'jwt';
      readonly issuer: string;
      readonly audience: string;
      readonly jwksUri: URL;
      readonly algorithms: readonly string[];
      readonly requiredRole?: string;
      readonly requiredScope?: string;
    };

/** Sign-in host and Defender scope per cloud (`docs/defender-api.md` §5). */
export const CLOUDS = {
  commercial: {
    authorityHost: 'https://login.microsoftonline.com',
    scope: 'https://api.securitycenter.microsoft.com/.default',
  },
  gcc: {
    authorityHost: 'https://login.microsoftonline.com',
    scope: 'https://api-gcc.securitycenter.microsoft.us/.default',
  },
  'gcc-high': {
    authorityHost: 'https://login.microsoftonline.us',
    scope: 'https://api-gov.securitycenter.microsoft.us/.default',
  },
  dod: {
    authorityHost: 'https://login.microsoftonline.us',
    scope: 'https://api-gov.securitycenter.microsoft.us/.default',
  },
} as const;

/** A bad configuration value; the message names the variable. */
export class ConfigError extends Error {}

/**
 * Reads the configuration once, from the environment. Nothing else reads `process.env`. A bad value throws a
 * ConfigError naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const fail = (name: string, message: string): never => {
    throw new ConfigError(`${name}: ${message}`);
  };
  const int = (name: string, fallback: number, min = 0): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    return Number.isInteger(value) && value >= min
      ? value
      : fail(name, `expected an integer ≥ ${min}, got "${raw}"`);
  };

  const defenderUrl = parseDefenderUrl(read('DEFENDER_API_URL'), fail);
  const credentials = parseCredentials(read, fail, defenderUrl !== undefined);

  let rateLimits: RateLimitWindow[] = [];
  try {
    rateLimits = parseRateLimits(read('DEFENDER_RATE_LIMITS') ?? DEFENDER_DEFAULT_RATE_LIMITS);
  } catch (error) {
    fail('DEFENDER_RATE_LIMITS', (error as Error).message);
  }

  const defaultTtl = int('CACHE_TTL_SECONDS', 60) * 1000;
  const cacheTtlMs = Object.fromEntries(DEFENDER_APIS.map((api) => [api, defaultTtl])) as Record<
    DefenderApi,
    number
  >;
  for (const entry of (read('CACHE_TTLS') ?? '').split(',').filter((e) => e.trim() !== '')) {
    const [api, seconds] = entry.trim().split('=');
    if (!DEFENDER_APIS.includes(api as DefenderApi) || !/^\d+$/.test(seconds ?? '')) {
      fail('CACHE_TTLS', `expected "api=seconds" with an API of ${DEFENDER_APIS.join(', ')}; got "${entry}"`);
    }
    cacheTtlMs[api as DefenderApi] = Number(seconds) * 1000;
  }

  const cacheUrl = parseCacheUrl(read('CACHE_URL'), fail);
  const auth = parseInboundAuth(read, fail, defenderUrl !== undefined);
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
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (raw !== 'true' && raw !== 'false') fail(name, `expected true or false, got "${raw}"`);
    return raw === 'true';
  };

  let simulator: StandaloneConfig;
  try {
    simulator = readSimulatorEnv(env);
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }

  const requestDeadlineMs = int('REQUEST_DEADLINE_MS', 15_000, 1);
  const upstreamTimeoutMs = int('DEFENDER_TIMEOUT_MS', 10_000, 1);
  const http = parseHttpLimits(int, fail, requestDeadlineMs + upstreamTimeoutMs);

  return Object.freeze({
    port: int('PORT', 4000),
    host: parseHost(read('HOST'), fail) ?? (auth.mode === 'none' ? '127.0.0.1' : '0.0.0.0'),
    http,
    maxInFlightOperations: int('MAX_INFLIGHT_OPERATIONS', DEFAULT_MAX_INFLIGHT_OPERATIONS, 1),
    shutdownReadinessDelayMs: int('SHUTDOWN_READINESS_DELAY_MS', DEFAULT_READINESS_DELAY_MS),
    defenderUrl,
    credentials,
    rateLimits,
    upstreamTimeoutMs,
    upstreamRetries: int('DEFENDER_RETRIES', 2),
    requestDeadlineMs,
    cacheTtlMs: Object.freeze(cacheTtlMs),
    machineBatchSize: int('MACHINE_BATCH_SIZE', 50, 1),
    maxPageSize: int('MAX_PAGE_SIZE', 500, 1),
    maxOperationCalls: int('MAX_OPERATION_CALLS', 100, 1),
    cacheStaleMs: int('CACHE_STALE_SECONDS', 600) * 1000,
    simulator,
    auth,
    defenderAuthMode: defenderAuthMode as 'app' | 'obo',
    introspection: bool('GRAPHQL_INTROSPECTION', !production),
    hideSchemaSuggestions: production,
    allowBatchedRequests: bool('GRAPHQL_BATCHING', false),
    logLevel: parseLogLevel(read('LOG_LEVEL'), fail),
    replicas: int('GATEWAY_REPLICAS', 1, 1),
    cacheMaxMb: int('CACHE_MAX_MB', DEFAULT_CACHE_MAX_MB, 1),
    ...(cacheUrl && { cacheUrl }),
    ...parseRouterSecret(read('ROUTER_SECRET'), fail),
  });
}

/**
 * The connection limits. The headers timeout is part of the request timeout (Node refuses it longer), and the
 * socket timeout must outlast the longest silence of a connection whose operation runs: the wait for the
 * upstream budget (REQUEST_DEADLINE_MS) and then one upstream call (DEFENDER_TIMEOUT_MS).
 */
function parseHttpLimits(
  int: (name: string, fallback: number, min?: number) => number,
  fail: (name: string, message: string) => never,
  longestSilenceMs: number,
): HttpLimits {
  const limits: HttpLimits = {
    requestTimeoutMs: int('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 1),
    headersTimeoutMs: int('HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.headersTimeoutMs, 1),
    keepAliveTimeoutMs: int('HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 1),
    socketTimeoutMs: int('HTTP_SOCKET_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.socketTimeoutMs, 1),
    // Below about 1 KiB not even a request line and the usual headers fit.
    maxHeaderBytes: int('HTTP_MAX_HEADER_BYTES', DEFAULT_HTTP_LIMITS.maxHeaderBytes, 1_024),
    maxConnections: int('HTTP_MAX_CONNECTIONS', DEFAULT_HTTP_LIMITS.maxConnections, 1),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    fail('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  if (limits.socketTimeoutMs <= longestSilenceMs) {
    fail(
      'HTTP_SOCKET_TIMEOUT_MS',
      `must exceed REQUEST_DEADLINE_MS + DEFENDER_TIMEOUT_MS (${longestSilenceMs}), or a running operation is cut`,
    );
  }
  return limits;
}

/** An IP address or a host name to listen on. */
function parseHost(
  raw: string | undefined,
  fail: (name: string, message: string) => never,
): string | undefined {
  if (raw === undefined) return undefined;
  if (isIP(raw) === 0 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(raw)) {
    fail('HOST', `expected an IP address or a host name, got "${raw}"`);
  }
  return raw;
}

/** A Redis URL; the value is never echoed, since it may carry a password. */
function parseCacheUrl(
  raw: string | undefined,
  fail: (name: string, message: string) => never,
): string | undefined {
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

function parseLogLevel(raw: string | undefined, fail: (name: string, message: string) => never): LogLevel {
  if (raw === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw))
    fail('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);
  return raw as LogLevel;
}

/** The router's shared secret goes in a header as it is: visible ASCII, and long enough not to be guessed. */
function parseRouterSecret(
  raw: string | undefined,
  fail: (name: string, message: string) => never,
): { routerSecret?: string } {
  if (raw === undefined) return {};
  if (!/^[\x21-\x7e]{16,}$/.test(raw)) {
    fail('ROUTER_SECRET', 'expected at least 16 visible ASCII characters (no spaces)');
  }
  return { routerSecret: raw };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseDefenderUrl(
  raw: string | undefined,
  fail: (name: string, message: string) => never,
): URL | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('DEFENDER_API_URL', `not a URL: "${raw}"`);
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.')))
  ) {
    fail('DEFENDER_API_URL', 'must be https:// (http:// only for loopback hosts)');
  }
  if (url.username || url.password || url.search || url.hash) {
    fail('DEFENDER_API_URL', 'must not carry credentials, a query or a fragment');
  }
  if (/\/api\/?$/.test(url.pathname)) fail('DEFENDER_API_URL', 'give the base URL without /api');
  return url;
}

function parseCredentials(
  read: (name: string) => string | undefined,
  fail: (name: string, message: string) => never,
  realDefender: boolean,
): DefenderCredentials {
  const tenantId = read('AZURE_TENANT_ID');
  const clientId = read('AZURE_CLIENT_ID');
  const clientSecret = read('AZURE_CLIENT_SECRET');
  const clientCertificatePath = read('AZURE_CLIENT_CERTIFICATE_PATH');
  const token = read('DEFENDER_TOKEN');
  if (tenantId || clientId || clientSecret || clientCertificatePath) {
    if (!tenantId) fail('AZURE_TENANT_ID', 'required with AZURE_CLIENT_ID');
    if (!clientId) fail('AZURE_CLIENT_ID', 'required with AZURE_TENANT_ID');
    if (!clientSecret && !clientCertificatePath) {
      fail('AZURE_CLIENT_SECRET', 'set it or AZURE_CLIENT_CERTIFICATE_PATH');
    }
    const cloudName = read('DEFENDER_CLOUD') ?? 'commercial';
    if (!(cloudName in CLOUDS)) fail('DEFENDER_CLOUD', `expected one of ${Object.keys(CLOUDS).join(', ')}`);
    const cloud = CLOUDS[cloudName as keyof typeof CLOUDS];
    const authorityHost = read('AZURE_AUTHORITY_HOST') ?? cloud.authorityHost;
    if (!/^https:\/\/[^/?#]+\/?$/.test(authorityHost)) fail('AZURE_AUTHORITY_HOST', 'expected https://host');
    return {
      kind: 'msal',
      tenantId: tenantId!,
      clientId: clientId!,
      ...(clientSecret ? { clientSecret } : {}),
      ...(clientCertificatePath ? { clientCertificatePath } : {}),
      authorityHost: authorityHost.replace(/\/$/, ''),
      scope: read('DEFENDER_SCOPE') ?? cloud.scope,
    };
  }
  if (token) return { kind: 'static', token };
  if (realDefender) {
    return fail(
      'DEFENDER_TOKEN',
      'DEFENDER_API_URL needs credentials: DEFENDER_TOKEN or AZURE_TENANT_ID/AZURE_CLIENT_ID',
    );
  }
  return { kind: 'simulator' };
}

function parseInboundAuth(
  read: (name: string) => string | undefined,
  fail: (name: string, message: string) => never,
  realDefender: boolean,
): InboundAuth {
  const mode = read('AUTH_MODE') ?? (realDefender ? 'jwt' : 'none');
  if (mode === 'none') return { mode };
  if (mode !== 'jwt') return fail('AUTH_MODE', `expected "jwt" or "none", got "${mode}"`);
  const required = (name: string) => read(name) ?? fail(name, 'required when AUTH_MODE=jwt');
  const issuer = required('AUTH_ISSUER');
  const audience = required('AUTH_AUDIENCE');
  const jwks = required('AUTH_JWKS_URI');
  let jwksUri: URL;
  try {
    jwksUri = new URL(jwks);
  } catch {
    return fail('AUTH_JWKS_URI', `not a URL: "${jwks}"`);
  }
  if (jwksUri.protocol !== 'https:' && !(jwksUri.protocol === 'http:' && isLoopback(jwksUri.hostname))) {
    fail('AUTH_JWKS_URI', 'must be https:// (http:// only for loopback hosts)');
  }
  const algorithms = (read('AUTH_ALGORITHMS') ?? 'RS256').split(',').map((a) => a.trim());
  if (algorithms.some((a) => !/^(RS|PS|ES)(256|384|512)$/.test(a))) {
    fail('AUTH_ALGORITHMS', 'expected asymmetric JWS algorithms such as RS256 (never none or HS*)');
  }
  const requiredRole = read('AUTH_REQUIRED_ROLE');
  const requiredScope = read('AUTH_REQUIRED_SCOPE');
  return {
    mode,
    issuer,
    audience,
    jwksUri,
    algorithms,
    ...(requiredRole ? { requiredRole } : {}),
    ...(requiredScope ? { requiredScope } : {}),
  };
}

function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname) || hostname.startsWith('127.');
}
