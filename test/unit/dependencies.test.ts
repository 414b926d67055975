import { describe, expect, it } from 'vitest';
import { StaticTokenProvider } from '../../src/auth/tokens.js';
import { DEFAULT_CACHE_MAX_MB, splitCacheBudget } from '../../src/cache/budget.js';
import { createMemoryCache } from '../../src/cache/entity-cache.js';
import { loadConfig } from '../../src/config.js';
import { createDependencies } from '../../src/dependencies.js';
import type { DependencyOverrides } from '../../src/dependencies.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';

/**
 * The composition root builds what `npm start` runs from the configuration alone, and takes overrides for the
 * parts tests and the bench replace. No socket opens here: the upstream is given, and nothing is called.
 */
const UPSTREAM: DependencyOverrides['upstream'] = {
  baseUrl: new URL('http://127.0.0.1:9'),
  tokens: new StaticTokenProvider('unit-token'),
};

async function build(env: NodeJS.ProcessEnv, overrides: DependencyOverrides = {}) {
  const deps = await createDependencies(loadConfig({ LOG_LEVEL: 'silent', ...env }), {
    upstream: UPSTREAM,
    processMetrics: false,
    ...overrides,
  });
  deps.limiter.close();
  await deps.close();
  return deps;
}

describe('createDependencies', () => {
  it('takes every server default from the configuration: the same cap for npm start, the tests and the bench', async () => {
    const { server } = await build({});
    expect(server).toMatchObject({
      maxOperationCalls: 100,
      requestDeadlineMs: 15_000,
      machineBatchSize: 50,
      maxPageSize: 500,
      introspection: true,
      hideSchemaSuggestions: false,
      allowBatchedRequests: false,
      maxInFlightOperations: 100,
      cacheBudget: splitCacheBudget(DEFAULT_CACHE_MAX_MB),
    });
    expect(server.routerSecret).toBeUndefined();
    expect(server.authenticator).toBeUndefined();
    expect(server.obo).toBeUndefined();

    const configured = await build({
      MAX_OPERATION_CALLS: '7',
      REQUEST_DEADLINE_MS: '2000',
      ROUTER_SECRET: 'a-router-secret-of-24-chars',
      CACHE_MAX_MB: '16',
    });
    expect(configured.server).toMatchObject({
      maxOperationCalls: 7,
      requestDeadlineMs: 2_000,
      routerSecret: 'a-router-secret-of-24-chars',
      cacheBudget: splitCacheBudget(16),
    });
  });

  it('lets an override win over the configuration, and leaves the rest as configured', async () => {
    const { server } = await build({ MAX_OPERATION_CALLS: '7' }, { server: { maxOperationCalls: 1_000 } });
    expect(server.maxOperationCalls).toBe(1_000);
    expect(server.machineBatchSize).toBe(50);
  });

  it('limits every Defender API by the configured windows, or by the overriding ones', async () => {
    const windowsOf = (deps: Awaited<ReturnType<typeof build>>, hunting = false) =>
      new Set(
        deps.limiter
          .budget()
          .filter((b) => (b.api === 'hunting') === hunting && b.api !== 'alerts/batchUpdate')
          .map((b) => `${b.limit}/${b.windowSeconds}s`),
      );
    expect(windowsOf(await build({}))).toEqual(new Set(['100/60s', '1500/3600s']));
    expect(windowsOf(await build({ DEFENDER_RATE_LIMITS: '5/10s' }))).toEqual(new Set(['5/10s']));
    expect(windowsOf(await build({}, { rateLimits: parseRateLimits('3/1s') }))).toEqual(new Set(['3/1s']));
  });

  it('limits alerts/batchUpdate by its documented windows, apart from every other API', async () => {
    const deps = await build({ DEFENDER_RATE_LIMITS: '5/10s' });
    expect(
      deps.limiter
        .budget()
        .filter((b) => b.api === 'alerts/batchUpdate')
        .map((b) => `${b.limit}/${b.windowSeconds}s`),
    ).toEqual(['10/60s', '500/3600s']);
    expect(
      deps.limiter
        .budget()
        .filter((b) => b.api === 'alerts/{id}:patch')
        .map((b) => `${b.limit}/${b.windowSeconds}s`),
    ).toEqual(['5/10s']);
  });

  it('plans relationship levels by DEFENDER_PLANS, auto unless told rest', async () => {
    expect((await build({})).server.plans).toBe('auto');
    expect((await build({ DEFENDER_PLANS: 'rest' })).server.plans).toBe('rest');
  });

  it('limits advanced hunting by its own windows (HUNTING_RATE_LIMITS), apart from the REST routes', async () => {
    const huntingWindows = (deps: Awaited<ReturnType<typeof build>>) =>
      deps.limiter
        .budget()
        .filter((b) => b.api === 'hunting')
        .map((b) => `${b.limit}/${b.windowSeconds}s`);
    expect(huntingWindows(await build({}))).toEqual(['45/60s', '1500/3600s']);
    const env = { LOG_LEVEL: 'silent', HUNTING_RATE_LIMITS: '2/10s', DEFENDER_RATE_LIMITS: '5/10s' };
    const deps = await createDependencies(loadConfig(env), { upstream: UPSTREAM, processMetrics: false });
    try {
      expect(huntingWindows(deps)).toEqual(['2/10s']);
      // Two hunting calls use hunting's budget up, and leave every REST route's untouched.
      expect(deps.limiter.tryAcquire('hunting')).toBeDefined();
      expect(deps.limiter.tryAcquire('hunting')).toBeDefined();
      expect(deps.limiter.tryAcquire('hunting')).toBeUndefined();
      expect(deps.limiter.tryAcquire('machines/{id}/logonusers')).toBeDefined();
    } finally {
      deps.limiter.close();
      await deps.close();
    }
  });

  it('gives the whole budget to the other caches when the upstream cache is given', async () => {
    const own = await build({});
    expect(own.server.cacheBudget!.entities).toBeGreaterThan(0);
    const given = await build({}, { cache: createMemoryCache({ maxBytes: 1_024 }) });
    expect(given.server.cacheBudget).toEqual(
      splitCacheBudget(DEFAULT_CACHE_MAX_MB, { entitiesInProcess: false }),
    );
  });

  it('authenticates callers with JWTs when AUTH_MODE=jwt, and shows no schema suggestions in production', async () => {
    const { server } = await build({
      NODE_ENV: 'production',
      AUTH_MODE: 'jwt',
      AUTH_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0',
      AUTH_AUDIENCE: 'api://defender-graph',
      AUTH_JWKS_URI: 'https://login.microsoftonline.com/tenant/discovery/v2.0/keys',
    });
    expect(server.authenticator).toBeDefined();
    expect(server).toMatchObject({ introspection: false, hideSchemaSuggestions: true });
  });

  it('sends the Defender calls to the given upstream', async () => {
    const deps = await build({});
    expect(deps.upstreamUrl.href).toBe('http://127.0.0.1:9/');
    expect(deps.server.client.urlFor({ api: 'machines' }).href).toBe('http://127.0.0.1:9/api/machines');
  });
});
