import type { DefenderApi } from '../../src/defender/apis.js';
import { DEFAULT_CACHE_MAX_MB, splitCacheBudget } from '../../src/cache/budget.js';
import type { UpstreamCache } from '../../src/cache/entity-cache.js';
import { createMemoryCache } from '../../src/cache/entity-cache.js';
import type { DefenderClientOptions } from '../../src/defender/client.js';
import { DefenderClient } from '../../src/defender/client.js';
import { LocalRateLimiter } from '../../src/rate-limit/limiter.js';
import { StaticTokenProvider } from '../../src/auth/tokens.js';
import type { RateLimitWindow } from '../../src/rate-limit/windows.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { GatewayServer, ServerDeps } from '../../src/server.js';
import { createServer } from '../../src/server.js';
import type { SimulatorOptions } from '../../src/simulator/config.js';
import type { Simulator, SimulatorCall } from '../../src/simulator/server.js';
import { TOKEN, testSimulator } from './simulator.js';

export interface GraphQLResponse<D = Record<string, unknown>> {
  readonly status: number;
  readonly data?: D | null;
  readonly errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  readonly extensions?: { upstream?: { calls: number; cacheHits: number; [key: string]: unknown } };
}

export interface TestGateway {
  readonly url: string;
  readonly sim: Simulator;
  readonly limiter: LocalRateLimiter;
  readonly server: GatewayServer;
  query<D = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<D>>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  readonly simulator?: Partial<SimulatorOptions>;
  /** The gateway's limit windows. Default: Defender's. */
  readonly rateLimits?: readonly RateLimitWindow[];
  /** The limiter's safety margin per window (ms). Default: the limiter's own. */
  readonly limiterMarginMs?: number;
  readonly client?: Partial<Omit<DefenderClientOptions, 'baseUrl' | 'tokens' | 'limiter' | 'cache'>>;
  readonly server?: Partial<Omit<ServerDeps, 'client' | 'limiter'>>;
  readonly cacheTtlMs?: number;
  /** The upstream cache. Default: a memory cache of its own, of its share of `cacheMaxMb`. */
  readonly cache?: UpstreamCache;
  /** CACHE_MAX_MB: what all in-process caches may hold (MiB). Default: the gateway's default. */
  readonly cacheMaxMb?: number;
  /** A simulator to use (and leave open on close) instead of one of its own, for replicas of one tenant. */
  readonly sharedSimulator?: Simulator;
}

/** The gateway as `npm start` builds it, against an in-process simulator, listening on a free port. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const sim = options.sharedSimulator ?? (await testSimulator(options.simulator));
  const margin = options.limiterMarginMs;
  const cacheBudget = splitCacheBudget(options.cacheMaxMb ?? DEFAULT_CACHE_MAX_MB, {
    entitiesInProcess: options.cache === undefined,
  });
  const limiter = new LocalRateLimiter(
    options.rateLimits ?? parseRateLimits('100/60s,1500/3600s'),
    margin === undefined ? {} : { marginMs: () => margin },
  );
  const client = new DefenderClient({
    baseUrl: new URL(sim.url),
    tokens: new StaticTokenProvider(TOKEN),
    limiter,
    cache: options.cache ?? createMemoryCache({ maxBytes: cacheBudget.entities }),
    ttlMs: () => options.cacheTtlMs ?? 60_000,
    timeoutMs: 5_000,
    maxRetries: 2,
    maxThrottleRetries: 2,
    backoffBaseMs: 10,
    backoffCapMs: 50,
    ...options.client,
  });
  const server = await createServer({
    client,
    limiter,
    requestDeadlineMs: 15_000,
    machineBatchSize: 50,
    maxPageSize: 500,
    maxOperationCalls: 1000,
    // As `npm start` with the embedded simulator: introspection on (GraphiQL needs it), suggestions shown.
    introspection: true,
    hideSchemaSuggestions: false,
    cacheBudget,
    ...options.server,
  });
  const url = await server.listen(0, '127.0.0.1');
  return {
    url,
    sim,
    limiter,
    server,
    async query(query, variables, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as object) };
    },
    async close() {
      limiter.close();
      await server.close();
      if (!options.sharedSimulator) await sim.close();
    },
  };
}

/** The (route, key) pairs of a call log, as `api id?query` strings, for exact comparisons. */
export function callKeys(calls: readonly SimulatorCall[]): string[] {
  return calls.map(
    (c) =>
      `${c.api}${c.id === undefined ? '' : ` ${c.id}`}${c.search ? `?${decodeURIComponent(c.search)}` : ''}`,
  );
}

export function callsTo(calls: readonly SimulatorCall[], api: DefenderApi): SimulatorCall[] {
  return calls.filter((c) => c.api === api);
}
