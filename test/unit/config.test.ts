import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('picks the sign-in host and scope of a US Government cloud', () => {
    const config = loadConfig({
      DEFENDER_API_URL: 'https://api-gov.securitycenter.microsoft.us',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      DEFENDER_CLOUD: 'gcc-high',
      AUTH_MODE: 'none',
    });
    expect(config.credentials).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      scope: 'https://api-gov.securitycenter.microsoft.us/.default',
    });
    expect(config.introspection).toBe(false);
    expect(config.hideSchemaSuggestions).toBe(true);
  });

  it('reads inbound JWT validation and on-behalf-of', () => {
    const config = loadConfig({
      DEFENDER_API_URL: 'https://api.security.microsoft.com',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      DEFENDER_AUTH_MODE: 'obo',
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://defender-graph',
      AUTH_JWKS_URI: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      AUTH_REQUIRED_SCOPE: 'Defender.Read',
    });
    expect(config.defenderAuthMode).toBe('obo');
    expect(config.auth).toEqual({
      mode: 'jwt',
      issuer: 'https://login.microsoftonline.com/t/v2.0',
      audience: 'api://defender-graph',
      jwksUri: new URL('https://login.microsoftonline.com/t/discovery/v2.0/keys'),
      algorithms: ['RS256'],
      requiredScope: 'Defender.Read',
      writeRole: 'DefenderGraph.Triage',
    });
  });

  it('defaults to the embedded simulator with Defender limits', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.defenderUrl).toBeUndefined();
    expect(config.credentials).toEqual({ kind: 'simulator' });
    expect(config.rateLimits).toEqual([
      { limit: 100, windowSeconds: 60 },
      { limit: 1500, windowSeconds: 3600 },
    ]);
    expect(config.cacheTtlMs['machines/{id}']).toBe(60_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads advanced hunting: Graph at graph.microsoft.com for a real Defender, the simulator otherwise', () => {
    const simulated = loadConfig({});
    expect(simulated.hunting.graphUrl).toBeUndefined();
    expect(simulated.hunting.plans).toBe('auto');
    expect(simulated.hunting.graphScope).toBe('https://graph.microsoft.com/.default');
    expect(simulated.hunting.rateLimits).toEqual([
      { limit: 45, windowSeconds: 60 },
      { limit: 1500, windowSeconds: 3600 },
    ]);
    const real = loadConfig({
      DEFENDER_API_URL: 'https://api.security.microsoft.com',
      DEFENDER_TOKEN: 't',
      AUTH_MODE: 'none',
    });
    expect(real.hunting.graphUrl?.href).toBe('https://graph.microsoft.com/');
    const custom = loadConfig({
      GRAPH_API_URL: 'https://graph.microsoft.us',
      GRAPH_SCOPE: 'https://graph.microsoft.us/.default',
      HUNTING_RATE_LIMITS: '10/60s',
      DEFENDER_PLANS: 'rest',
    });
    expect(custom.hunting).toEqual({
      graphUrl: new URL('https://graph.microsoft.us'),
      graphScope: 'https://graph.microsoft.us/.default',
      rateLimits: [{ limit: 10, windowSeconds: 60 }],
      plans: 'rest',
    });
  });

  it('reads MSAL credentials, a static token and per-API TTLs', () => {
    const msal = loadConfig({
      DEFENDER_API_URL: 'https://eu.api.security.microsoft.com',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
      AUTH_MODE: 'none',
      CACHE_TTLS: 'alerts=15,machines/{id}/logonusers=300',
    });
    expect(msal.credentials).toEqual({
      kind: 'msal',
      tenantId: 't',
      clientId: 'c',
      clientSecret: 's',
      authorityHost: 'https://login.microsoftonline.us',
      scope: 'https://api.securitycenter.microsoft.com/.default',
    });
    expect(msal.cacheTtlMs.alerts).toBe(15_000);
    expect(msal.cacheTtlMs['machines/{id}/logonusers']).toBe(300_000);
    const token = loadConfig({
      DEFENDER_API_URL: 'http://127.0.0.1:4010',
      DEFENDER_TOKEN: 'x',
      AUTH_MODE: 'none',
    });
    expect(token.credentials).toEqual({ kind: 'static', token: 'x' });
  });

  it('bounds the in-process caches at CACHE_MAX_MB, 128 by default', () => {
    expect(loadConfig({}).cacheMaxMb).toBe(128);
    expect(loadConfig({ CACHE_MAX_MB: '32' }).cacheMaxMb).toBe(32);
  });

  it('accepts a Redis CACHE_URL and GATEWAY_REPLICAS (shared cache and budget)', () => {
    expect(loadConfig({})).toMatchObject({ replicas: 1 });
    expect(loadConfig({}).cacheUrl).toBeUndefined();
    const config = loadConfig({ CACHE_URL: 'redis://redis:6379', GATEWAY_REPLICAS: '3' });
    expect(config.cacheUrl).toBe('redis://redis:6379');
    expect(config.replicas).toBe(3);
    expect(loadConfig({ CACHE_URL: 'rediss://:pw@redis.example.com:6380/1' }).cacheUrl).toBe(
      'rediss://:pw@redis.example.com:6380/1',
    );
  });

  it('listens on loopback only when every caller is trusted, on every interface otherwise, or on HOST', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: 'gateway.internal' }).host).toBe('gateway.internal');
    const jwt = {
      AUTH_MODE: 'jwt',
      AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
      AUTH_AUDIENCE: 'api://defender-graph',
      AUTH_JWKS_URI: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
    };
    expect(loadConfig(jwt).host).toBe('0.0.0.0');
    expect(loadConfig({ ...jwt, HOST: '::' }).host).toBe('::');
  });

  it('bounds connections and operations in flight by default, each bound settable', () => {
    expect(loadConfig({})).toMatchObject({
      http: {
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        socketTimeoutMs: 60_000,
        maxHeaderBytes: 16_384,
        maxConnections: 1_000,
      },
      maxInFlightOperations: 100,
      shutdownReadinessDelayMs: 3_000,
    });
    const config = loadConfig({
      HTTP_REQUEST_TIMEOUT_MS: '5000',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_SOCKET_TIMEOUT_MS: '120000',
      HTTP_MAX_HEADER_BYTES: '32768',
      HTTP_MAX_CONNECTIONS: '50',
      MAX_INFLIGHT_OPERATIONS: '10',
      SHUTDOWN_READINESS_DELAY_MS: '0',
    });
    expect(config).toMatchObject({
      http: {
        requestTimeoutMs: 5_000,
        headersTimeoutMs: 2_000,
        keepAliveTimeoutMs: 65_000,
        socketTimeoutMs: 120_000,
        maxHeaderBytes: 32_768,
        maxConnections: 50,
      },
      maxInFlightOperations: 10,
      shutdownReadinessDelayMs: 0,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT: expected an integer/],
    [{ HOST: 'every interface' }, /^HOST: expected an IP address or a host name/],
    [{ HOST: 'http://0.0.0.0' }, /^HOST: expected an IP address or a host name/],
    [{ HTTP_REQUEST_TIMEOUT_MS: '0' }, /^HTTP_REQUEST_TIMEOUT_MS: expected an integer ≥ 1/],
    [{ HTTP_HEADERS_TIMEOUT_MS: '10s' }, /^HTTP_HEADERS_TIMEOUT_MS: expected an integer/],
    [
      { HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' },
      /^HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS \(5000\)/,
    ],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '-1' }, /^HTTP_KEEP_ALIVE_TIMEOUT_MS: expected an integer ≥ 1/],
    [
      { HTTP_SOCKET_TIMEOUT_MS: '20000' },
      /^HTTP_SOCKET_TIMEOUT_MS: must exceed REQUEST_DEADLINE_MS \+ DEFENDER_TIMEOUT_MS \(25000\)/,
    ],
    [
      { REQUEST_DEADLINE_MS: '60000' },
      /^HTTP_SOCKET_TIMEOUT_MS: must exceed REQUEST_DEADLINE_MS \+ DEFENDER_TIMEOUT_MS \(70000\)/,
    ],
    [{ HTTP_MAX_HEADER_BYTES: '100' }, /^HTTP_MAX_HEADER_BYTES: expected an integer ≥ 1024/],
    [{ HTTP_MAX_CONNECTIONS: '0' }, /^HTTP_MAX_CONNECTIONS: expected an integer ≥ 1/],
    [{ MAX_INFLIGHT_OPERATIONS: 'many' }, /^MAX_INFLIGHT_OPERATIONS: expected an integer ≥ 1/],
    [{ SHUTDOWN_READINESS_DELAY_MS: '-5' }, /^SHUTDOWN_READINESS_DELAY_MS: expected an integer ≥ 0/],
    [
      { DEFENDER_API_URL: 'http://defender.example.com', DEFENDER_TOKEN: 'x', AUTH_MODE: 'none' },
      /^DEFENDER_API_URL: must be https/,
    ],
    [
      { DEFENDER_API_URL: 'https://api.security.microsoft.com/api', DEFENDER_TOKEN: 'x', AUTH_MODE: 'none' },
      /^DEFENDER_API_URL: give the base URL without \/api/,
    ],
    [{ DEFENDER_API_URL: 'not a url' }, /^DEFENDER_API_URL: not a URL/],
    [
      { DEFENDER_API_URL: 'https://api.security.microsoft.com', AUTH_MODE: 'none' },
      /^DEFENDER_TOKEN: DEFENDER_API_URL needs credentials/,
    ],
    [
      { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c' },
      /^AZURE_CLIENT_SECRET: set it or AZURE_CLIENT_CERTIFICATE_PATH/,
    ],
    [{ DEFENDER_RATE_LIMITS: '100 per minute' }, /^DEFENDER_RATE_LIMITS: expected windows like/],
    [{ CACHE_TTLS: 'nope=5' }, /^CACHE_TTLS: expected "api=seconds"/],
    [
      { DEFENDER_API_URL: 'https://api.security.microsoft.com', DEFENDER_TOKEN: 'x' },
      /^AUTH_ISSUER: required when AUTH_MODE=jwt/,
    ],
    [
      { AUTH_MODE: 'jwt', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a', AUTH_JWKS_URI: 'http://keys.example.com/' },
      /^AUTH_JWKS_URI: must be https/,
    ],
    [
      {
        AUTH_MODE: 'jwt',
        AUTH_ISSUER: 'i',
        AUTH_AUDIENCE: 'a',
        AUTH_JWKS_URI: 'https://k/',
        AUTH_ALGORITHMS: 'HS256',
      },
      /^AUTH_ALGORITHMS: expected asymmetric/,
    ],
    [{ DEFENDER_AUTH_MODE: 'obo' }, /^DEFENDER_AUTH_MODE: "obo" needs the MSAL credentials/],
    [
      { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's', DEFENDER_AUTH_MODE: 'obo' },
      /^DEFENDER_AUTH_MODE: "obo" needs AUTH_MODE=jwt/,
    ],
    [
      { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's', DEFENDER_CLOUD: 'mars' },
      /^DEFENDER_CLOUD: expected one of/,
    ],

    [{ SIMULATOR_SEED: '-1' }, /^SIMULATOR_SEED: expected an integer/],
    [{ CACHE_URL: 'memcached://cache:11211' }, /^CACHE_URL: expected a redis:\/\/ or rediss:\/\/ URL/],
    [{ CACHE_URL: 'cache:6379' }, /^CACHE_URL: /],
    [{ GATEWAY_REPLICAS: '0' }, /^GATEWAY_REPLICAS: expected an integer ≥ 1/],
    [{ CACHE_MAX_MB: '0' }, /^CACHE_MAX_MB: expected an integer ≥ 1/],
    [{ CACHE_MAX_MB: '64MB' }, /^CACHE_MAX_MB: expected an integer ≥ 1/],
    [{ GRAPH_API_URL: 'http://graph.example.com' }, /^GRAPH_API_URL: must be https/],
    [
      { GRAPH_API_URL: 'https://graph.microsoft.com/v1.0' },
      /^GRAPH_API_URL: give the base URL without \/v1\.0/,
    ],
    [{ GRAPH_API_URL: 'https://u:p@graph.microsoft.com' }, /^GRAPH_API_URL: must not carry credentials/],
    [{ GRAPH_SCOPE: 'a b' }, /^GRAPH_SCOPE: expected one scope/],
    [{ HUNTING_RATE_LIMITS: '45 per minute' }, /^HUNTING_RATE_LIMITS: /],
    [{ DEFENDER_PLANS: 'hunting' }, /^DEFENDER_PLANS: expected "auto" or "rest"/],
  ])('stops on a bad value, naming the variable (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('ROUTER_SECRET', () => {
  const SECRET = 'canary-router-secret-7f3a9c1e';

  it('is read from the environment, unset by default', () => {
    expect(loadConfig({}).routerSecret).toBeUndefined();
    expect(loadConfig({ ROUTER_SECRET: SECRET }).routerSecret).toBe(SECRET);
  });

  it('stops start-up naming the variable, without echoing it, when too short or not a header value', () => {
    for (const bad of ['short', 'sixteen chars with spaces', 'nön-ascii-secret-value']) {
      expect(() => loadConfig({ ROUTER_SECRET: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ROUTER_SECRET: bad })).toThrow(/^ROUTER_SECRET: /);
      expect(() => loadConfig({ ROUTER_SECRET: bad })).not.toThrow(bad);
    }
  });
});
