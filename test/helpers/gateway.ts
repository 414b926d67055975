import type { DefenderApi } from '../../src/defender/apis.js';
import type { UpstreamCache } from '../../src/cache/entity-cache.js';
import { loadConfig } from '../../src/config.js';
import { createDependencies } from '../../src/dependencies.js';
import type { DependencyOverrides } from '../../src/dependencies.js';
import type { UpstreamLimiter } from '../../src/rate-limit/limiter.js';
import { StaticTokenProvider } from '../../src/auth/tokens.js';
import type { RateLimitWindow } from '../../src/rate-limit/windows.js';
import type { GatewayServer } from '../../src/server.js';
import { createServer } from '../../src/server.js';
import type { QueueDepthSource } from '../../src/ops/metrics.js';
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
  readonly limiter: UpstreamLimiter & QueueDepthSource;
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
  /** The gateway's limit windows. Default: Defender's (the configuration's). */
  readonly rateLimits?: readonly RateLimitWindow[];
  /** The limiter's safety margin per window (ms). Default: the limiter's own. */
  readonly limiterMarginMs?: number;
  /** Advanced hunting's limit windows. Default: the configuration's (45/60 s, 1,500/3,600 s). */
  readonly huntingRateLimits?: readonly RateLimitWindow[];
  readonly client?: DependencyOverrides['client'];
  readonly server?: DependencyOverrides['server'];
  /** How long an upstream answer is fresh (ms), for every API. Default: the configuration's (60 s). */
  readonly cacheTtlMs?: number;
  /** The upstream cache. Default: a memory cache of its own, of its share of `cacheMaxMb`. */
  readonly cache?: UpstreamCache;
  /** CACHE_MAX_MB: what all in-process caches may hold (MiB). Default: the configuration's. */
  readonly cacheMaxMb?: number;
  /** A simulator to use (and leave open on close) instead of one of its own, for replicas of one tenant. */
  readonly sharedSimulator?: Simulator;
  /** Where the gateway calls Defender, when not the simulator itself (a proxy in front of it). */
  readonly defenderUrl?: string;
  /** Variables added to the fixed test environment (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`). Default: none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Traces, to this exporter (an in-memory one). Default: off, as without OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly tracing?: DependencyOverrides['tracing'];
}

/**
 * What the tests change in `npm start`'s environment, and why; everything else is the configuration's default.
 * A fixed object: the test process's own environment never reaches the gateway.
 */
const TEST_ENV = {
  // The tests read responses and call logs; JSON request logs would only fill their output.
  LOG_LEVEL: 'silent',
  // Calls that hang are cut sooner, so that a test about them ends sooner.
  DEFENDER_TIMEOUT_MS: '5000',
  // An answer past its TTL is fetched again; the tests of stale-while-revalidate turn it on (`client.staleMs`).
  CACHE_STALE_SECONDS: '0',
  // The tests of cost and of calls count the REST plan's exact calls; the hunting tests turn `auto` on
  // (`server.plans`).
  DEFENDER_PLANS: 'rest',
} as const;

/** The client's retry pauses, short so that retried calls do not slow the tests (ms). */
const TEST_BACKOFF = { backoffBaseMs: 10, backoffCapMs: 50 } as const;

/**
 * The gateway as `npm start` builds it (`createDependencies`), against an in-process simulator, listening on a
 * free loopback port.
 */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const sim = options.sharedSimulator ?? (await testSimulator(options.simulator));
  const config = loadConfig({
    ...TEST_ENV,
    ...(options.cacheMaxMb !== undefined && { CACHE_MAX_MB: String(options.cacheMaxMb) }),
    ...options.env,
  });
  const ttlMs = options.cacheTtlMs;
  const deps = await createDependencies(config, {
    upstream: { baseUrl: new URL(options.defenderUrl ?? sim.url), tokens: new StaticTokenProvider(TOKEN) },
    processMetrics: false,
    ...(options.cache && { cache: options.cache }),
    ...(options.rateLimits && { rateLimits: options.rateLimits }),
    ...(options.huntingRateLimits && { huntingRateLimits: options.huntingRateLimits }),
    ...(options.limiterMarginMs !== undefined && { limiterMarginMs: options.limiterMarginMs }),
    client: { ...TEST_BACKOFF, ...(ttlMs !== undefined && { ttlMs: () => ttlMs }), ...options.client },
    // Every document runs compiled from its first execution, so that the tests check graphql-jit's answers.
    server: { compileAfter: 0, ...options.server },
    ...(options.tracing && { tracing: options.tracing }),
  });
  const { limiter } = deps;
  const server = await createServer(deps.server);
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
      await deps.close();
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
