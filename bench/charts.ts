import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { compile } from 'vega-lite';
import type { LoadResult } from './load.js';
import type { OverheadResult } from './overhead.js';
import type { QueryCalls } from './upstream-calls.js';
import type { UtilisationResult } from './utilisation.js';

/** Renders a Vega-Lite spec to SVG in Node (no canvas, no browser, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One layer of a layered Vega-Lite chart. */
type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

const SERIES = ['naive', 'cold', 'lower bound', 'warm'] as const;

/** Upstream calls per query: naive, cold, lower bound and warm side by side, on a symlog scale. */
export function callsChart(results: readonly QueryCalls[]): TopLevelSpec {
  const values = results.flatMap((r) => {
    const calls = {
      naive: r.naive,
      cold: r.cold.calls,
      'lower bound': r.lowerBound.calls,
      warm: r.warm.calls,
    };
    return SERIES.map((series) => ({ query: r.query.name, series, calls: calls[series] }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Upstream calls per operation',
    width: 720,
    height: 300,
    data: { values },
    encoding: {
      x: {
        field: 'query',
        type: 'nominal',
        sort: null,
        title: null,
        axis: { labelAngle: -20, labelLimit: 220 },
      },
      xOffset: { field: 'series', sort: [...SERIES] },
      y: {
        field: 'calls',
        type: 'quantitative',
        scale: { type: 'symlog' },
        title: 'upstream calls (symlog)',
      },
    },
    layer: [
      {
        mark: 'bar',
        encoding: {
          color: { field: 'series', sort: [...SERIES], scale: { scheme: 'tableau10' }, title: null },
        },
      },
      { mark: { type: 'text', dy: -6, fontSize: 9 }, encoding: { text: { field: 'calls' } } },
    ],
  };
}

/** Calls per window at the simulator against the limit: sliding counts over time, then tumbling windows. */
export function utilisationChart(result: UtilisationResult): TopLevelSpec {
  const { limit, windowSeconds } = result.options.window;
  const sliding = result.apis.flatMap((a) =>
    a.sliding.map((w) => ({ api: a.api, t: w.atMs / 1000, calls: w.calls })),
  );
  const tumbling = result.apis.flatMap((a) =>
    a.tumbling.map((w, i) => ({ api: a.api, window: `#${i + 1}`, calls: w.calls })),
  );
  const limitRule: Layer = {
    data: { values: [{ limit }] },
    mark: { type: 'rule', color: 'firebrick', strokeDash: [6, 3] },
    encoding: { y: { field: 'limit', type: 'quantitative' } },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Limiter utilisation: calls per ${windowSeconds} s window at the simulator (limit ${limit}, dashed)`,
    vconcat: [
      {
        width: 720,
        height: 220,
        title: `sliding window, sampled every ${result.options.sampleStepMs} ms`,
        layer: [
          {
            data: { values: sliding },
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: {
              x: { field: 't', type: 'quantitative', title: 'window end (s after the first call)' },
              y: { field: 'calls', type: 'quantitative', title: 'calls in window', scale: { domainMin: 0 } },
              color: { field: 'api', type: 'nominal' },
            },
          },
          limitRule,
        ],
      },
      {
        width: 720,
        height: 180,
        title: 'tumbling windows from each API’s first call',
        layer: [
          {
            data: { values: tumbling },
            mark: 'bar',
            encoding: {
              x: { field: 'window', type: 'nominal', sort: null, title: null, axis: { labelAngle: 0 } },
              xOffset: { field: 'api' },
              y: { field: 'calls', type: 'quantitative', title: 'calls in window' },
              color: { field: 'api', type: 'nominal' },
            },
          },
          limitRule,
        ],
      },
    ],
  };
}

/** RSS and heap used of each server process over its load (0 s = start of the warm-up). */
export function memoryChart(result: OverheadResult): TopLevelSpec {
  const mib = (bytes: number) => bytes / 2 ** 20;
  const values = [result.gateway, result.baseline].flatMap((server) =>
    server.memory.flatMap((p) => [
      { server: server.label, metric: 'rss', t: p.tMs / 1000, mib: mib(p.rss) },
      { server: server.label, metric: 'heapUsed', t: p.tMs / 1000, mib: mib(p.heapUsed) },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Server memory under ${result.options.connections} connections (0 s = start of warm-up)`,
    width: 720,
    height: 260,
    data: { values },
    mark: { type: 'line', point: { size: 12 } },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 's' },
      y: { field: 'mib', type: 'quantitative', title: 'MiB' },
      color: { field: 'server', type: 'nominal', title: null, legend: { labelLimit: 240 } },
      strokeDash: { field: 'metric', type: 'nominal', title: null, legend: { symbolType: 'stroke' } },
    },
  };
}

/** Requests per second and latency percentiles of the gateway beside the bare baseline. */
export function overheadChart(result: OverheadResult): TopLevelSpec {
  const servers = [result.gateway, result.baseline];
  const rate = servers.map((s) => ({ server: s.label, value: s.requestsPerSecond }));
  const latency = servers.flatMap((s) => [
    { server: s.label, percentile: 'p50', ms: s.latencyP50Ms },
    { server: s.label, percentile: 'p99', ms: s.latencyP99Ms },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Fully cached "${result.options.query.name}" at ${result.options.connections} connections`,
    hconcat: [
      {
        width: 260,
        height: 220,
        data: { values: rate },
        mark: 'bar',
        encoding: {
          x: { field: 'server', type: 'nominal', title: null, axis: { labelAngle: 0 } },
          y: { field: 'value', type: 'quantitative', title: 'requests/s' },
          color: { field: 'server', type: 'nominal', legend: null },
        },
      },
      {
        width: 260,
        height: 220,
        data: { values: latency },
        mark: 'bar',
        encoding: {
          x: { field: 'percentile', type: 'nominal', title: null, axis: { labelAngle: 0 } },
          xOffset: { field: 'server' },
          y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
          color: { field: 'server', type: 'nominal', title: null },
        },
      },
    ],
  };
}

/**
 * RSS, V8's heap reserved and heap used of the gateway process over each load phase (0 s = start of the
 * phase's load): RSS above the heap reserved is node's binary and native memory.
 */
export function loadMemoryChart(result: LoadResult): TopLevelSpec {
  const mib = (bytes: number) => bytes / 2 ** 20;
  const values = [result.warm, result.cold].flatMap((phase) =>
    phase.memory.flatMap((p) => [
      { phase: phase.label, metric: 'rss', t: p.tMs / 1000, mib: mib(p.rss) },
      ...(p.heapTotal === undefined
        ? []
        : [{ phase: phase.label, metric: 'heapTotal', t: p.tMs / 1000, mib: mib(p.heapTotal) }]),
      { phase: phase.label, metric: 'heapUsed', t: p.tMs / 1000, mib: mib(p.heapUsed) },
    ]),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Gateway memory under sustained load, ${result.options.workers} workers (0 s = start of the load)`,
    width: 720,
    height: 260,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 's' },
      y: { field: 'mib', type: 'quantitative', title: 'MiB', scale: { domainMin: 0 } },
      color: { field: 'phase', type: 'nominal', title: null, legend: { labelLimit: 240 } },
      strokeDash: { field: 'metric', type: 'nominal', title: null, legend: { symbolType: 'stroke' } },
    },
  };
}
