import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import { DEFAULT_LATENCY_MS } from '../src/simulator/config.js';
import { DEFAULT_TENANT_SIZES, generateTenant } from '../src/simulator/data.js';
import { deployedLaunch, describeLaunch } from './deployed.js';
import { BENCH_MAX_OPERATION_CALLS } from './gateway.js';
import { measureAdversarialLoad } from './adversarial.js';
import { measureEstimates } from './estimates.js';
import { measureLive } from './live.js';
import { measureLoad } from './load.js';
import { measureOverhead } from './overhead.js';
import { measurePlans } from './plans.js';
import { measureTraces } from './traces.js';
import { benchQueries } from './queries.js';
import type { BenchResults } from './report.js';
import { writeReport } from './report.js';
import { measureSoak } from './soak.js';
import { measureUpstreamCalls } from './upstream-calls.js';
import { measureUtilisation } from './utilisation.js';

/**
 * `npm run bench`: upstream calls per operation, limiter utilisation, gateway overhead and memory, written to
 * bench/out/report.md with SVG charts. Prints figures; never passes or fails on them: it exits 0 unless a
 * section crashed (then the report still holds the other sections, and says which one failed).
 *
 * `npm run bench -- --only calls,estimates,plans,utilisation,overhead` runs some sections only;
 * `--overhead-query NAME` measures overhead on another query of bench/queries.ts (default alert-queue);
 * `--load-seconds N` sets the length of each load phase (default 60), the adversarial one's too;
 * `--soak-seconds N` the length of the soak (default 120; 600 for the report);
 * `--node-options="…"` replaces the Dockerfile's NODE_OPTIONS for the server children (`--node-options=` for
 * V8's defaults), to measure what the deployed flags cost or save (with `=`: the value starts with dashes).
 */

const SEED = 1;
/** Generous limits for counting calls: throttling must not interfere. */
const COUNTING_LIMITS = '10000/60s';
/**
 * A 10 s window, so that the limiter's safety margin (at least 250 ms) weighs on it about as the 1 s margin
 * weighs on Defender's 60 s window; 6.25 windows of demand.
 */
const UTILISATION = {
  window: { limit: 20, windowSeconds: 10 },
  durationMs: 62_500,
  concurrencyPerApi: 30,
  sampleStepMs: 50,
} as const;
/**
 * The execution path and the baseline: five rounds, each with both started afresh, 10 s of warm-up each (V8
 * optimises a compiled document's code over its first few thousand executions), then 10 s measured each.
 */
const OVERHEAD = {
  query: 'alert-queue',
  connections: 50,
  warmupSeconds: 10,
  durationSeconds: 10,
  rounds: 5,
} as const;
/** Traces on (to a local OTLP sink) vs off, on the overhead's query and load, three rounds each way. */
const TRACES = { ...OVERHEAD, warmupSeconds: 2, rounds: 3 } as const;
/** Sustained load: warm (generous limits, response cache on) then cold under a scaled-down limit. */
const LOAD = {
  seconds: 60,
  workers: 20,
  warm: {
    rateLimits: COUNTING_LIMITS,
    cacheTtlMs: 3_600_000,
    responseCache: true,
    requestDeadlineMs: 15_000,
  },
  cold: { rateLimits: '20/5s', cacheTtlMs: 1_000, responseCache: false },
} as const;
/**
 * Distinct wide documents (bench/adversarial.ts): generous limits and a long TTL, so the documents, not the
 * upstream budget, are what the gateway deals with; its default CACHE_MAX_MB.
 */
const ADVERSARIAL = {
  workers: 8,
  phase: {
    rateLimits: COUNTING_LIMITS,
    cacheTtlMs: 3_600_000,
    responseCache: true,
    requestDeadlineMs: 15_000,
  },
} as const;
/**
 * The soak: the load section's distinct-id mix for `--soak-seconds`, against the gateway's defaults (its
 * CACHE_MAX_MB, response cache on), generous limits so the budget never throttles, and a TTL short enough that
 * answers expire and are fetched again many times over the run.
 */
const SOAK = {
  seconds: 120,
  workers: 20,
  phase: { rateLimits: COUNTING_LIMITS, cacheTtlMs: 30_000, responseCache: true, requestDeadlineMs: 15_000 },
} as const;
const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));
/** Live alerts: 1,000 subscribers over 10 filters, a 2 s poll so that the run is short. */
const LIVE = {
  pollIntervalMs: 2_000,
  subscribers: 1_000,
  connections: 50,
  countMs: 20_000,
  changes: 40,
  changeEveryMs: 700,
} as const;
const SECTIONS = [
  'calls',
  'estimates',
  'plans',
  'utilisation',
  'overhead',
  'traces',
  'load',
  'adversarial',
  'live',
  'soak',
] as const;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'overhead-query': { type: 'string', default: OVERHEAD.query },
    'load-seconds': { type: 'string', default: String(LOAD.seconds) },
    'soak-seconds': { type: 'string', default: String(SOAK.seconds) },
    'node-options': { type: 'string' },
  },
});
const loadSeconds = Number(values['load-seconds']);
if (!Number.isFinite(loadSeconds) || loadSeconds <= 0)
  throw new Error(`bench: --load-seconds expects a positive number, got "${values['load-seconds']}"`);
const soakSeconds = Number(values['soak-seconds']);
if (!Number.isFinite(soakSeconds) || soakSeconds <= 0)
  throw new Error(`bench: --soak-seconds expects a positive number, got "${values['soak-seconds']}"`);
const only = new Set(values.only?.split(',').map((s) => s.trim()) ?? SECTIONS);
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`bench: --only expects some of ${SECTIONS.join(',')}, got "${name}"`);
}

const deployed = await deployedLaunch();
const launch =
  values['node-options'] === undefined ? deployed : { ...deployed, nodeOptions: values['node-options'] };

const startedAt = new Date();
const loadAverage = loadavg();
const tenant = generateTenant({ seed: SEED });
const queries = benchQueries(tenant);
const log = (message: string) => console.error(`bench: ${message}`);

const failures: { section: string; error: string }[] = [];
/** Runs one section; a section that throws is reported as failed, and the others still run. */
async function section<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    console.error(`bench: ${name} failed:`, error);
    failures.push({ section: name, error: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    return undefined;
  }
}

const calls = only.has('calls')
  ? await section('upstream calls', () => {
      log(`upstream calls: ${queries.length} queries, cold and warm, a fresh gateway each…`);
      const limits = parseRateLimits(COUNTING_LIMITS);
      return measureUpstreamCalls(queries, { seed: SEED, rateLimits: limits, latencyMs: DEFAULT_LATENCY_MS });
    })
  : undefined;
const estimates = only.has('estimates')
  ? await section('estimate accuracy and wasted calls', () => {
      log('estimates: untrained, trained cold and warm; wasted calls at the default cap…');
      return measureEstimates(tenant, queries, {
        seed: SEED,
        latencyMs: DEFAULT_LATENCY_MS,
        rateLimits: parseRateLimits(COUNTING_LIMITS),
        defaultMaxOperationCalls: loadConfig({}).maxOperationCalls,
        benchMaxOperationCalls: BENCH_MAX_OPERATION_CALLS,
      });
    })
  : undefined;
const plans = only.has('plans')
  ? await section('bulk plans', () => {
      log(
        'plans: the alert → user → machines → logon users walk, first: 20 and 100, DEFENDER_PLANS=rest then auto…',
      );
      return measurePlans({
        seed: SEED,
        latencyMs: DEFAULT_LATENCY_MS,
        rateLimits: parseRateLimits(COUNTING_LIMITS),
        // The REST walk of 100 alerts is estimated at about 10,100 calls, above the bench's usual cap.
        maxOperationCalls: 100_000,
      });
    })
  : undefined;
const utilisation = only.has('utilisation')
  ? await section('limiter utilisation', () => {
      const { limit, windowSeconds } = UTILISATION.window;
      log(`limiter utilisation: ${limit}/${windowSeconds}s, ${UTILISATION.durationMs / 1000} s of demand…`);
      return measureUtilisation(tenant, { ...UTILISATION, seed: SEED, latencyMs: DEFAULT_LATENCY_MS });
    })
  : undefined;
const overhead = only.has('overhead')
  ? await section('gateway overhead', () => {
      const query = queries.find((q) => q.name === values['overhead-query']);
      if (!query) throw new Error(`no query named "${values['overhead-query']}" in bench/queries.ts`);
      log(
        `overhead: "${query.name}" at ${OVERHEAD.connections} connections, ${OVERHEAD.rounds} rounds of the execution path and the baseline (fresh processes each), then the gateway…`,
      );
      return measureOverhead({ ...OVERHEAD, seed: SEED, query, rateLimits: COUNTING_LIMITS, launch });
    })
  : undefined;
const traces = only.has('traces')
  ? await section('traces overhead', () => {
      const query = queries.find((q) => q.name === values['overhead-query']);
      if (!query) throw new Error(`no query named "${values['overhead-query']}" in bench/queries.ts`);
      log(
        `traces: "${query.name}" at ${TRACES.connections} connections, off and on (OTLP), ${TRACES.rounds} rounds…`,
      );
      return measureTraces({ ...TRACES, seed: SEED, query, rateLimits: COUNTING_LIMITS, launch });
    })
  : undefined;
const load = only.has('load')
  ? await section('sustained load', () => {
      const { cold, warm } = LOAD;
      log(
        `load: ${loadSeconds} s warm, then ${loadSeconds} s cold under ${cold.rateLimits}, ${LOAD.workers} workers…`,
      );
      // The warm phase has the bench's cap (no query refused); the cold one the gateway's defaults, as deployed.
      const defaults = loadConfig({});
      return measureLoad(tenant, queries, {
        seed: SEED,
        latencyMs: DEFAULT_LATENCY_MS,
        launch,
        seconds: loadSeconds,
        workers: LOAD.workers,
        warm: { ...warm, maxOperationCalls: BENCH_MAX_OPERATION_CALLS },
        cold: {
          ...cold,
          requestDeadlineMs: defaults.requestDeadlineMs,
          maxOperationCalls: defaults.maxOperationCalls,
        },
      });
    })
  : undefined;
const adversarial = only.has('adversarial')
  ? await section('adversarial load', () => {
      log(`adversarial load: ${loadSeconds} s of distinct wide documents, ${ADVERSARIAL.workers} workers…`);
      return measureAdversarialLoad({
        seed: SEED,
        latencyMs: DEFAULT_LATENCY_MS,
        launch,
        seconds: loadSeconds,
        workers: ADVERSARIAL.workers,
        phase: { ...ADVERSARIAL.phase, maxOperationCalls: BENCH_MAX_OPERATION_CALLS },
      });
    })
  : undefined;
const live = only.has('live')
  ? await section('live alerts', () => {
      log(
        `live alerts: ${LIVE.subscribers} subscribers over ${LIVE.connections} connections, ${LIVE.pollIntervalMs / 1000} s polls…`,
      );
      return measureLive({ ...LIVE, seed: SEED, latencyMs: DEFAULT_LATENCY_MS });
    })
  : undefined;
const soak = only.has('soak')
  ? await section('soak', () => {
      log(`soak: ${soakSeconds} s of distinct ids, ${SOAK.workers} workers…`);
      return measureSoak(tenant, queries, {
        seed: SEED,
        latencyMs: DEFAULT_LATENCY_MS,
        launch,
        seconds: soakSeconds,
        workers: SOAK.workers,
        phase: { ...SOAK.phase, maxOperationCalls: BENCH_MAX_OPERATION_CALLS },
      });
    })
  : undefined;
const results: Omit<BenchResults, 'setup'> = {
  ...(calls ? { calls } : {}),
  ...(estimates ? { estimates } : {}),
  ...(plans ? { plans } : {}),
  ...(utilisation ? { utilisation } : {}),
  ...(overhead ? { overhead } : {}),
  ...(traces ? { traces } : {}),
  ...(load ? { load } : {}),
  ...(adversarial ? { adversarial } : {}),
  ...(live ? { live } : {}),
  ...(soak ? { soak } : {}),
  failures,
};

const report = await writeReport(OUT_DIR, {
  ...results,
  setup: {
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    node: process.version,
    serverChildren: describeLaunch(launch),
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverage,
    seed: SEED,
    tenant: { ...DEFAULT_TENANT_SIZES },
    callsLimits: COUNTING_LIMITS,
    maxOperationCalls: BENCH_MAX_OPERATION_CALLS,
    defaultMaxOperationCalls: loadConfig({}).maxOperationCalls,
    simulatorLatencyMs: DEFAULT_LATENCY_MS,
  },
});
console.log(report.summary);
console.log(`\nReport: ${report.reportPath}`);
console.log(`Charts: ${report.images.join(', ')}`);
