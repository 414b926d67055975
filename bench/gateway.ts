import { StaticTokenProvider } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { createDependencies } from '../src/dependencies.js';
import type { UpstreamLimiter } from '../src/rate-limit/limiter.js';
import type { RateLimitWindow } from '../src/rate-limit/windows.js';
import type { FanoutStats } from '../src/planner/fanout.js';
import type { GatewayServer } from '../src/server.js';
import { createServer } from '../src/server.js';
import type { SimulatorOptions } from '../src/simulator/config.js';
import { DEFAULT_SIMULATOR_TOKEN } from '../src/simulator/config.js';
import type { Simulator } from '../src/simulator/server.js';
import { startSimulator } from '../src/simulator/server.js';

/** A GraphQL answer as the bench reads it. */
export interface GraphQLAnswer {
  readonly status: number;
  readonly data?: Record<string, unknown> | null;
  readonly errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  readonly extensions?: { upstream?: UpstreamExtension };
}

/** `extensions.upstream`: `calls` and `cacheHits` are the contract; the rest is printed when present. */
export interface UpstreamExtension {
  readonly calls: number;
  readonly cacheHits: number;
  readonly estimate?: { min: number; max: number; expected?: number; byApi?: Record<string, unknown> };
  readonly [key: string]: unknown;
}

export interface BenchGatewayOptions {
  /** Base URL of the Defender simulator (no `/api`). */
  readonly simulatorUrl: string;
  /** The gateway's limit windows, applied per Defender API. */
  readonly rateLimits: readonly RateLimitWindow[];
  /** How long one operation may queue for the rate limiter (ms). */
  readonly requestDeadlineMs: number;
  /** How long an upstream answer is served from the cache (ms). */
  readonly cacheTtlMs: number;
  /** Most Defender calls one operation may need (MAX_OPERATION_CALLS). Default: {@link BENCH_MAX_OPERATION_CALLS}. */
  readonly maxOperationCalls?: number;
  /** Reuse identical operations' results (the default of `npm start`); false measures execution over cached answers. */
  readonly responseCache?: boolean;
  /** CACHE_MAX_MB: what all in-process caches may hold (MiB). Default: the gateway's default. */
  readonly cacheMaxMb?: number;
  /** The learnt fan-out, to share it between gateways of one run. Default: the gateway's own. */
  readonly fanout?: FanoutStats;
  /** DEFENDER_PLANS: `auto` may answer relationship levels by advanced hunting, `rest` never. Default `auto`. */
  readonly plans?: 'auto' | 'rest';
  /** OTEL_EXPORTER_OTLP_ENDPOINT: traces exported there (bench/traces.ts). Default: tracing off. */
  readonly otlpEndpoint?: string;
}

/** The bench measures what operations cost, so the per-operation cap is set far above any of them. */
export const BENCH_MAX_OPERATION_CALLS = 10_000;

export interface BenchGateway {
  readonly url: string;
  readonly limiter: UpstreamLimiter;
  readonly server: GatewayServer;
  close(): Promise<void>;
}

/**
 * The gateway as `npm start` builds it (`createDependencies`), against a given simulator, listening on a free
 * loopback port. The configuration comes from a fixed environment, never the bench process's own.
 */
export async function startBenchGateway(options: BenchGatewayOptions): Promise<BenchGateway> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    REQUEST_DEADLINE_MS: String(options.requestDeadlineMs),
    // Idle sockets are closed only after the longest an operation may run (the utilisation section's is 625 s).
    HTTP_SOCKET_TIMEOUT_MS: String(options.requestDeadlineMs + 60_000),
    MAX_OPERATION_CALLS: String(options.maxOperationCalls ?? BENCH_MAX_OPERATION_CALLS),
    // The bench counts the calls a query costs: an answer past its TTL is fetched again, never served stale.
    CACHE_STALE_SECONDS: '0',
    ...(options.cacheMaxMb !== undefined && { CACHE_MAX_MB: String(options.cacheMaxMb) }),
    ...(options.plans && { DEFENDER_PLANS: options.plans }),
    ...(options.otlpEndpoint && { OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint }),
  });
  const deps = await createDependencies(config, {
    upstream: {
      baseUrl: new URL(options.simulatorUrl),
      tokens: new StaticTokenProvider(DEFAULT_SIMULATOR_TOKEN, 'bench-simulator'),
    },
    rateLimits: options.rateLimits,
    processMetrics: false,
    client: { ttlMs: () => options.cacheTtlMs },
    server: {
      responseCache: options.responseCache ?? true,
      ...(options.fanout && { fanout: options.fanout }),
    },
  });
  const { limiter } = deps;
  let server: GatewayServer | undefined;
  let url: string;
  try {
    server = await createServer(deps.server);
    url = await server.listen(0, '127.0.0.1');
  } catch (error) {
    // A gateway that does not start leaves nothing open behind it (its limiter's timers, Redis, the server).
    limiter.close();
    await server?.close();
    await deps.close();
    throw error;
  }
  return {
    url,
    limiter,
    server,
    async close() {
      limiter.close();
      await server.close();
      await deps.close();
    },
  };
}

/** A simulator and a gateway in front of it, both in this process. */
export interface BenchStack {
  readonly sim: Simulator;
  readonly gateway: BenchGateway;
  query(query: string, headers?: Record<string, string>): Promise<GraphQLAnswer>;
  close(): Promise<void>;
}

export async function startBenchStack(
  simulator: Partial<SimulatorOptions>,
  gateway: Omit<BenchGatewayOptions, 'simulatorUrl'>,
): Promise<BenchStack> {
  const sim = await startSimulator(simulator);
  let gw: BenchGateway;
  try {
    gw = await startBenchGateway({ ...gateway, simulatorUrl: sim.url });
  } catch (error) {
    // Else the simulator keeps the process alive and the bench hangs instead of reporting the failure.
    await sim.close();
    throw error;
  }
  return {
    sim,
    gateway: gw,
    query: (query, headers) => postQuery(gw.url, query, headers),
    async close() {
      await gw.close();
      await sim.close();
    },
  };
}

/** POST one operation to `${baseUrl}/graphql`, with extra request headers if any. */
export async function postQuery(
  baseUrl: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<GraphQLAnswer> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}
