import type { TopLevelSpec } from 'vega-lite';
import type { Tenant } from '../src/simulator/data.js';
import type { NodeLaunch } from './deployed.js';
import type { LoadPhase, LoadPhaseOptions } from './load.js';
import { coldMixOf, runPhase } from './load.js';
import { mib, table } from './markdown.js';
import type { BenchQuery } from './queries.js';
import type { Section } from './report-sections.js';

export interface SoakOptions {
  readonly seed: number;
  readonly latencyMs: number;
  /** How the gateway child's node is started: the Dockerfile's flags (bench/deployed.ts). */
  readonly launch: NodeLaunch;
  /** Length of the load (s); the first {@link WARM_UP_SHARE} of it is warm-up. */
  readonly seconds: number;
  readonly workers: number;
  readonly phase: LoadPhaseOptions;
}

/** One point of the soak's series: a bin of the gateway's readings (every 250 ms) over `binSeconds`. */
export interface SoakPoint {
  readonly tSeconds: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** V8's heap reserved: RSS above it is node's binary and native memory, not objects. */
  readonly heapTotal: number;
  /** Mean of the readings' mean event-loop delay, and the most of their maxima (ms). */
  readonly lagMeanMs: number;
  readonly lagMaxMs: number;
}

export interface SoakResult {
  readonly options: SoakOptions;
  readonly phase: LoadPhase;
  readonly binSeconds: number;
  readonly points: readonly SoakPoint[];
  /** Least-squares slope of RSS over the last half of the load (bytes per minute), and what it adds up to there. */
  readonly rssSlopePerMinute: number;
  readonly rssRiseLastHalf: number;
  readonly rssFlat: boolean;
  /** Mean event-loop delay over the first and the last quarter after warm-up (ms). */
  readonly lagEarlyMs: number;
  readonly lagLateMs: number;
  readonly lagGrows: boolean;
}

/** The first part of the soak, while caches fill: not judged. */
export const WARM_UP_SHARE = 0.2;
/** RSS is flat when the fitted rise over the last half stays under this (bytes): GC's sawtooth is larger. */
export const FLAT_RSS_RISE_BYTES = 8 * 2 ** 20;

/**
 * A long run over ever-changing ids (bench/load.ts's distinct-id mix: devices, users, five-alert lookups, and
 * the fixed queries, walking the whole tenant, so the caches fill, expire and evict), against the gateway with
 * its defaults, sampling its RSS, heap and event-loop delay. Says whether RSS is flat after warm-up (the slope
 * of its last half) and whether the event loop's delay grows.
 */
export async function measureSoak(
  tenant: Tenant,
  queries: readonly BenchQuery[],
  options: SoakOptions,
): Promise<SoakResult> {
  const phase = await runPhase('soak', options, options.phase, coldMixOf(tenant, queries), []);
  const binSeconds = Math.max(1, Math.round(options.seconds / 120));
  const points = bins(phase, binSeconds);
  const seconds = options.seconds;
  const lastHalf = points.filter((p) => p.tSeconds >= seconds / 2 && p.tSeconds <= seconds);
  const slopePerSecond = slope(lastHalf.map((p) => [p.tSeconds, p.rss]));
  const rssRiseLastHalf = slopePerSecond * (seconds / 2);
  const judged = points.filter((p) => p.tSeconds >= seconds * WARM_UP_SHARE && p.tSeconds <= seconds);
  const quarter = Math.max(1, Math.floor(judged.length / 4));
  const meanLag = (ps: readonly SoakPoint[]) =>
    ps.reduce((a, p) => a + p.lagMeanMs, 0) / Math.max(1, ps.length);
  const lagEarlyMs = meanLag(judged.slice(0, quarter));
  const lagLateMs = meanLag(judged.slice(-quarter));
  return {
    options,
    phase,
    binSeconds,
    points,
    rssSlopePerMinute: slopePerSecond * 60,
    rssRiseLastHalf,
    rssFlat: rssRiseLastHalf < FLAT_RSS_RISE_BYTES,
    lagEarlyMs,
    lagLateMs,
    // More than half again and 2 ms over the early delay: a trend, not the load's jitter.
    lagGrows: lagLateMs > lagEarlyMs * 1.5 + 2,
  };
}

/** The readings during the load, binned by `binSeconds`: mean RSS, heap and delay, most delay. */
function bins(phase: LoadPhase, binSeconds: number): SoakPoint[] {
  const groups = new Map<number, LoadPhase['memory'][number][]>();
  for (const p of phase.memory) {
    if (p.tMs < 0 || p.lagMeanMs === undefined) continue;
    const bin = Math.floor(p.tMs / 1000 / binSeconds);
    groups.set(bin, [...(groups.get(bin) ?? []), p]);
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [...groups].map(([bin, ps]) => ({
    tSeconds: (bin + 0.5) * binSeconds,
    rss: mean(ps.map((p) => p.rss)),
    heapUsed: mean(ps.map((p) => p.heapUsed)),
    heapTotal: mean(ps.map((p) => p.heapTotal ?? 0)),
    lagMeanMs: mean(ps.map((p) => p.lagMeanMs ?? 0)),
    lagMaxMs: Math.max(...ps.map((p) => p.lagMaxMs ?? 0)),
  }));
}

/** Least-squares slope of y over x; 0 for fewer than two points. */
function slope(xy: readonly (readonly [number, number])[]): number {
  if (xy.length < 2) return 0;
  const mx = xy.reduce((a, [x]) => a + x, 0) / xy.length;
  const my = xy.reduce((a, [, y]) => a + y, 0) / xy.length;
  const num = xy.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = xy.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export function soakSection(s: SoakResult): Section {
  const p = s.phase;
  const errors = Object.entries(p.errorsByCode)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  return {
    tables: `## Soak

${table(
  [
    'length',
    'requests/s',
    'p50',
    'p99',
    'operations',
    'with errors',
    'upstream calls',
    'peak RSS',
    'RSS / heap reserved / used after (GC)',
  ],
  [
    [
      `${Math.round(p.seconds)} s`,
      p.requestsPerSecond.toFixed(0),
      `${p.latencyP50Ms.toFixed(1)} ms`,
      `${p.latencyP99Ms.toFixed(1)} ms`,
      String(p.requests),
      `${p.withErrors}${errors ? ` (${errors})` : ''}`,
      String(p.upstreamCalls),
      mib(p.peakRss),
      `${mib(p.afterLoad.rss)} / ${mib(p.afterLoad.heapTotal)} / ${mib(p.afterLoad.heapUsed)}`,
    ],
  ],
)}

${table(
  ['after warm-up', 'measured', 'verdict'],
  [
    [
      'RSS slope over the last half',
      `${(s.rssSlopePerMinute / 2 ** 20).toFixed(2)} MiB/min (${(s.rssRiseLastHalf / 2 ** 20).toFixed(1)} MiB over it)`,
      s.rssFlat ? 'flat' : '**growing**',
    ],
    [
      'mean event-loop delay, first vs last quarter',
      `${s.lagEarlyMs.toFixed(1)} ms → ${s.lagLateMs.toFixed(1)} ms`,
      s.lagGrows ? '**grows**' : 'steady',
    ],
  ],
)}`,
    notes: [
      `${s.options.workers} closed-loop workers for ${s.options.seconds} s (\`--soak-seconds\`) over the distinct-id mix`,
      'of the load section’s cold phase (devices, users, five-alert lookups walking the whole tenant, and the',
      `fixed queries), the gateway with its defaults but limits \`${s.options.phase.rateLimits}\`, a cache TTL of`,
      `${s.options.phase.cacheTtlMs / 1000} s (answers expire and are fetched again) and the response cache on. The first`,
      `${WARM_UP_SHARE * 100} % is warm-up. Readings every 250 ms (RSS, V8's heap reserved and used,`,
      "perf_hooks' monitorEventLoopDelay),",
      `averaged over ${s.binSeconds} s bins. Flat: the least-squares RSS rise over the last half is under`,
      `${FLAT_RSS_RISE_BYTES / 2 ** 20} MiB. Grows: the late delay is over 1.5× the early one plus 2 ms.`,
    ].join('\n'),
  };
}

/** RSS and heap (MiB) and event-loop delay (ms) over the soak. */
export function soakChart(s: SoakResult): TopLevelSpec {
  const mb = (bytes: number) => bytes / 2 ** 20;
  const memory = s.points.flatMap((p) => [
    { t: p.tSeconds, metric: 'rss', value: mb(p.rss) },
    { t: p.tSeconds, metric: 'heapTotal', value: mb(p.heapTotal) },
    { t: p.tSeconds, metric: 'heapUsed', value: mb(p.heapUsed) },
  ]);
  const lag = s.points.flatMap((p) => [
    { t: p.tSeconds, metric: 'mean delay', value: p.lagMeanMs },
    { t: p.tSeconds, metric: 'max delay', value: p.lagMaxMs },
  ]);
  const panel = (values: object[], title: string) => ({
    width: 720,
    height: 200,
    data: { values },
    mark: { type: 'line' as const },
    encoding: {
      x: { field: 't', type: 'quantitative' as const, title: 's' },
      y: { field: 'value', type: 'quantitative' as const, title, scale: { domainMin: 0 } },
      color: { field: 'metric', type: 'nominal' as const, title: null },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Gateway over a ${s.options.seconds} s soak, ${s.options.workers} workers`,
    vconcat: [panel(memory, 'MiB'), panel(lag, 'event-loop delay (ms)')],
    resolve: { scale: { color: 'independent' } },
  };
}
