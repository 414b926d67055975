import type { SimulatorApi } from '../src/simulator/routes.js';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import type { Tenant } from '../src/simulator/data.js';
import type { SimulatorCall } from '../src/simulator/server.js';
import type { NodeLaunch } from './deployed.js';
import { startSimulator } from '../src/simulator/server.js';
import type { GraphQLAnswer } from './gateway.js';
import { postQuery } from './gateway.js';
import type { MemoryPoint } from './overhead.js';
import { ServerChild } from './overhead.js';
import type { BenchQuery } from './queries.js';
import type { LoadGatewayChildConfig } from './serve-load-gateway.js';
import type { MemorySample } from './serve-protocol.js';

export interface LoadPhaseOptions {
  /** Limits on both sides (gateway limiter and simulator throttle), per API. */
  readonly rateLimits: string;
  readonly cacheTtlMs: number;
  readonly responseCache: boolean;
  readonly requestDeadlineMs: number;
  readonly maxOperationCalls: number;
  /** CACHE_MAX_MB of the gateway. Default: the gateway's default. */
  readonly cacheMaxMb?: number;
}

export interface LoadOptions {
  readonly seed: number;
  /** How the gateway child's node is started: the Dockerfile's flags (bench/deployed.ts). */
  readonly launch: NodeLaunch;
  readonly latencyMs: number;
  /** Length of each phase's measured load (s). */
  readonly seconds: number;
  /** Concurrent closed-loop workers, each with one operation in flight at a time. */
  readonly workers: number;
  readonly warm: LoadPhaseOptions;
  readonly cold: LoadPhaseOptions;
}

/** The most calls that arrived at the simulator in any window of the limit's length, for one API. */
export interface PeakWindow {
  readonly api: SimulatorApi | 'unknown';
  readonly calls: number;
  readonly peak: number;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly throttled: number;
}

export interface LoadPhase {
  readonly label: string;
  readonly options: LoadPhaseOptions;
  readonly seconds: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMeanMs: number;
  readonly latencyMaxMs: number;
  /** Operations answered with data and no error. */
  readonly clean: number;
  /** Operations with at least one error (partial data or none). */
  readonly withErrors: number;
  /** `errors[].extensions.code` counts over every answer; `(HTTP <status> responses)` counts non-200 answers, besides their codes; `FETCH_FAILED` a transport failure. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** Operations sent, per query of the mix. */
  readonly byQuery: Readonly<Record<string, number>>;
  /** Calls that reached the simulator during the load, and those it answered 429. */
  readonly upstreamCalls: number;
  readonly throttled: number;
  /** Per API, for every window of the limits: the peak calls in any sliding window of that length. */
  readonly peaks: readonly PeakWindow[];
  readonly atRest: MemorySample;
  readonly afterLoad: MemorySample;
  readonly peakRss: number;
  readonly peakHeapUsed: number;
  /** Memory relative to the start of the load (ms). */
  readonly memory: readonly MemoryPoint[];
}

export interface LoadResult {
  readonly options: LoadOptions;
  readonly queryMix: readonly string[];
  readonly warm: LoadPhase;
  readonly cold: LoadPhase;
}

/** One operation of a load mix: a name (for counting) and its text. */
export interface MixItem {
  readonly name: string;
  readonly query: string;
}

/**
 * Sustained load against the gateway in a child process, with the simulator and a closed-loop load generator
 * (fetch, `workers` operations in flight) here in the parent. Warm: the bench's fixed query mix, warmed first,
 * response cache on, generous limits. Cold under throttling: a scaled-down limit on both sides, a short cache
 * TTL, the response cache off and operations over many distinct ids, so most need upstream calls.
 */
export async function measureLoad(
  tenant: Tenant,
  queries: readonly BenchQuery[],
  options: LoadOptions,
): Promise<LoadResult> {
  const warmMix = queries.map((q) => ({ name: q.name, query: q.query }));
  const warm = await runPhase(
    'warm cache',
    options,
    options.warm,
    (k) => warmMix[k % warmMix.length]!,
    warmMix,
  );
  const coldMix = coldMixOf(tenant, queries);
  const cold = await runPhase('cold under throttling', options, options.cold, coldMix, []);
  return { options, queryMix: queries.map((q) => q.name), warm, cold };
}

/** One phase: a fresh simulator and gateway child, the warm-up sent twice, then `options.seconds` of the mix. */
export async function runPhase(
  label: string,
  options: Pick<LoadOptions, 'seed' | 'latencyMs' | 'seconds' | 'workers' | 'launch'>,
  phase: LoadPhaseOptions,
  mix: (k: number) => MixItem,
  warmUp: readonly MixItem[],
): Promise<LoadPhase> {
  const windows = parseRateLimits(phase.rateLimits);
  const sim = await startSimulator({ seed: options.seed, rateLimits: windows, latencyMs: options.latencyMs });
  try {
    const child = await ServerChild.start<LoadGatewayChildConfig>('serve-load-gateway', options.launch, {
      simulatorUrl: sim.url,
      ...phase,
    });
    try {
      for (const item of warmUp) await postQuery(child.url, item.query);
      for (const item of warmUp) await postQuery(child.url, item.query);
      const rest = await child.rest();
      sim.resetCalls();
      const loadStart = Date.now();
      const load = await closedLoop(child.url, options.workers, options.seconds * 1000, mix);
      const loadEnd = Date.now();
      const calls = [...sim.calls];
      const after = await child.rest();
      const during = child.samples.filter((s) => s.at >= loadStart && s.at <= loadEnd);
      const latencies = load.latencies.sort((a, b) => a - b);
      return {
        label,
        options: phase,
        seconds: (loadEnd - loadStart) / 1000,
        requests: latencies.length,
        requestsPerSecond: latencies.length / ((loadEnd - loadStart) / 1000),
        latencyP50Ms: percentile(latencies, 0.5),
        latencyP99Ms: percentile(latencies, 0.99),
        latencyMeanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
        latencyMaxMs: latencies.at(-1) ?? 0,
        clean: load.clean,
        withErrors: load.withErrors,
        errorsByCode: load.errorsByCode,
        byQuery: load.byQuery,
        upstreamCalls: calls.length,
        throttled: calls.filter((c) => c.status === 429).length,
        peaks: peakWindows(calls, windows),
        atRest: rest.sample,
        afterLoad: after.sample,
        peakRss: Math.max(rest.sample.rss, ...during.map((s) => s.rss)),
        peakHeapUsed: Math.max(rest.sample.heapUsed, ...during.map((s) => s.heapUsed)),
        memory: [rest.sample, ...during, after.sample].map((s) => ({
          tMs: s.at - loadStart,
          rss: s.rss,
          heapUsed: s.heapUsed,
          heapTotal: s.heapTotal,
          external: s.external,
          ...(s.lagMeanMs !== undefined && { lagMeanMs: s.lagMeanMs }),
          ...(s.lagMaxMs !== undefined && { lagMaxMs: s.lagMaxMs }),
        })),
      };
    } finally {
      await child.stop();
    }
  } finally {
    await sim.close();
  }
}

interface LoopResult {
  latencies: number[];
  clean: number;
  withErrors: number;
  errorsByCode: Record<string, number>;
  byQuery: Record<string, number>;
}

/** `workers` loops, each sending the next operation as soon as the previous one is answered, until `ms` pass. */
async function closedLoop(
  url: string,
  workers: number,
  ms: number,
  next: (k: number) => MixItem,
): Promise<LoopResult> {
  const result: LoopResult = { latencies: [], clean: 0, withErrors: 0, errorsByCode: {}, byQuery: {} };
  const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);
  const stopAt = Date.now() + ms;
  let k = 0;
  const worker = async () => {
    while (Date.now() < stopAt) {
      const item = next(k++);
      count(result.byQuery, item.name);
      const started = performance.now();
      let answer: GraphQLAnswer;
      try {
        answer = await postQuery(url, item.query);
      } catch {
        answer = { status: 0, errors: [{ message: 'fetch failed', extensions: { code: 'FETCH_FAILED' } }] };
      }
      result.latencies.push(performance.now() - started);
      const errors = answer.errors ?? [];
      if (answer.status !== 200 && answer.status !== 0)
        count(result.errorsByCode, `(HTTP ${answer.status} responses)`);
      for (const error of errors) count(result.errorsByCode, String(error.extensions?.['code'] ?? 'NO_CODE'));
      if (errors.length || answer.status !== 200) result.withErrors++;
      else result.clean++;
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return result;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** For each API and each limit window: the most calls that arrived within any span of that window's length. */
function peakWindows(
  calls: readonly SimulatorCall[],
  windows: readonly { limit: number; windowSeconds: number }[],
): PeakWindow[] {
  const byApi = new Map<SimulatorApi | 'unknown', number[]>();
  for (const call of calls) {
    const api = call.api ?? 'unknown';
    byApi.set(api, [...(byApi.get(api) ?? []), call.at]);
  }
  const peaks: PeakWindow[] = [];
  for (const [api, times] of [...byApi].sort((a, b) => b[1].length - a[1].length)) {
    times.sort((a, b) => a - b);
    for (const window of windows) {
      const ms = window.windowSeconds * 1000;
      let peak = 0;
      for (let i = 0, j = 0; j < times.length; j++) {
        while (times[j]! - times[i]! >= ms) i++;
        peak = Math.max(peak, j - i + 1);
      }
      peaks.push({
        api,
        calls: times.length,
        peak,
        limit: window.limit,
        windowSeconds: window.windowSeconds,
        throttled: calls.filter((c) => (c.api ?? 'unknown') === api && c.status === 429).length,
      });
    }
  }
  return peaks;
}

/**
 * The cold mix: device pages, user pages and alert lookups, each for ids never asked before in the run (walking
 * the tenant), interleaved with the bench's fixed queries, so almost every operation needs upstream calls.
 */
export function coldMixOf(t: Tenant, queries: readonly BenchQuery[]): (k: number) => MixItem {
  const names = new Map<string, string>();
  for (const user of t.users) {
    const name = user.accountName.toLowerCase();
    if (!names.has(name)) names.set(name, user.id);
  }
  const users = [...names.values()];
  const kinds: ((n: number) => MixItem)[] = [
    (n) => ({
      name: 'machine-detail (distinct ids)',
      query: `{ machine(id: ${JSON.stringify(t.machines[n % t.machines.length]!.id)}) { logonUsers { id machines { id } } alerts { id user { id } } } }`,
    }),
    (n) => ({
      name: 'user-profile (distinct ids)',
      query: `{ user(id: ${JSON.stringify(users[n % users.length]!)}) { machines { id } alerts { id machine { id } } } }`,
    }),
    (n) => ({
      name: 'five-alerts (distinct ids)',
      query: `{ ${Array.from({ length: 5 }, (_, i) => {
        const alert = t.alerts[(n * 5 + i) % t.alerts.length]!;
        return `a${i + 1}: alert(id: ${JSON.stringify(alert.id)}) { id title machine { osPlatform } }`;
      }).join(' ')} }`,
    }),
    (n) => {
      const q = queries[n % queries.length]!;
      return { name: q.name, query: q.query };
    },
  ];
  return (k) => kinds[k % kinds.length]!(Math.floor(k / kinds.length));
}
