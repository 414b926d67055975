import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import {
  callsChart,
  loadMemoryChart,
  memoryChart,
  overheadChart,
  renderSvg,
  utilisationChart,
} from './charts.js';
import type { AdversarialResult } from './adversarial.js';
import { adversarialSection } from './adversarial.js';
import type { EstimateResult } from './estimates.js';
import { estimateGoals, estimateSection } from './estimates.js';
import type { LiveBenchResult } from './live.js';
import { liveSection } from './live.js';
import type { LoadResult } from './load.js';
import { met, mib, pct, table } from './markdown.js';
import type { OverheadResult } from './overhead.js';
import type { TracesResult } from './traces.js';
import { tracesGoal, tracesSection } from './traces.js';
import type { PlansResult } from './plans.js';
import { plansGoals, plansSection } from './plans.js';
import type { SoakResult } from './soak.js';
import { soakChart, soakSection } from './soak.js';
import {
  callsSection,
  loadSection,
  memorySection,
  overheadSection,
  utilisationSection,
} from './report-sections.js';
import type { QueryCalls } from './upstream-calls.js';
import type { UtilisationResult } from './utilisation.js';

/** How the run was set up, for the report's header. */
export interface RunSetup {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly node: string;
  /** How the server children (gateway and baseline) were started: bench/deployed.ts. */
  readonly serverChildren: string;
  readonly platform: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly loadAverage: readonly number[];
  readonly seed: number;
  readonly tenant: { machines: number; users: number; alerts: number };
  readonly callsLimits: string;
  /** The per-operation call cap the bench gives its gateways, and the gateway's default one. */
  readonly maxOperationCalls: number;
  readonly defaultMaxOperationCalls: number;
  readonly simulatorLatencyMs: number;
}

export interface BenchResults {
  readonly setup: RunSetup;
  readonly calls?: readonly QueryCalls[];
  readonly estimates?: EstimateResult;
  readonly plans?: PlansResult;
  readonly utilisation?: UtilisationResult;
  readonly overhead?: OverheadResult;
  readonly traces?: TracesResult;
  readonly load?: LoadResult;
  readonly soak?: SoakResult;
  readonly adversarial?: AdversarialResult;
  readonly live?: LiveBenchResult;
  /** Sections that crashed, with their error message. */
  readonly failures?: readonly { section: string; error: string }[];
}

export interface WrittenReport {
  readonly reportPath: string;
  readonly images: readonly string[];
  /** The report's tables without charts, for stdout. */
  readonly summary: string;
}

/** Writes `report.md` and its SVG charts into `outDir`. */
export async function writeReport(outDir: string, results: BenchResults): Promise<WrittenReport> {
  await mkdir(outDir, { recursive: true });
  const images: string[] = [];
  const chart = async (file: string, spec: TopLevelSpec, alt: string) => {
    await writeFile(join(outDir, file), await renderSvg(spec));
    images.push(join(outDir, file));
    return `![${alt}](${file})`;
  };

  const sections: { tables: string; charts: string[]; notes: string }[] = [];
  if (results.calls) {
    sections.push({
      ...callsSection(results.calls, results.setup),
      charts: [await chart('upstream-calls.svg', callsChart(results.calls), 'upstream calls per operation')],
    });
  }
  if (results.estimates) sections.push({ ...estimateSection(results.estimates), charts: [] });
  if (results.plans) sections.push({ ...plansSection(results.plans), charts: [] });
  if (results.utilisation) {
    sections.push({
      ...utilisationSection(results.utilisation),
      charts: [await chart('utilisation.svg', utilisationChart(results.utilisation), 'calls per window')],
    });
  }
  if (results.overhead) {
    sections.push({
      ...overheadSection(results.overhead),
      charts: [await chart('overhead.svg', overheadChart(results.overhead), 'gateway vs baseline')],
    });
    sections.push({
      ...memorySection(results.overhead),
      charts: [await chart('memory.svg', memoryChart(results.overhead), 'memory over time')],
    });
  }
  if (results.traces) sections.push({ ...tracesSection(results.traces), charts: [] });
  if (results.load) {
    sections.push({
      ...loadSection(results.load),
      charts: [await chart('load-memory.svg', loadMemoryChart(results.load), 'memory over time under load')],
    });
  }
  if (results.adversarial) {
    sections.push({ ...adversarialSection(results.adversarial, results.load), charts: [] });
  }
  if (results.live) sections.push({ ...liveSection(results.live), charts: [] });
  if (results.soak) {
    sections.push({
      ...soakSection(results.soak),
      charts: [await chart('soak.svg', soakChart(results.soak), 'memory and event-loop delay over the soak')],
    });
  }
  const failed = results.failures?.length
    ? `## Failed sections\n\n${table(
        ['section', 'error'],
        results.failures.map((f) => [f.section, f.error.replaceAll('\n', ' ')]),
      )}\n`
    : '';
  const goals = `## Goals\n\n${goalsTable(results)}\n`;
  const report = [
    `# defender-graph benchmarks\n`,
    setupSection(results.setup),
    ...sections.map((s) => [s.tables, s.notes, ...s.charts].filter(Boolean).join('\n\n') + '\n'),
    failed,
    goals,
  ].join('\n');
  const reportPath = join(outDir, 'report.md');
  await writeFile(reportPath, report);
  const summary = [...sections.map((s) => s.tables), failed, goals].filter(Boolean).join('\n\n');
  return { reportPath, images, summary };
}

function setupSection(s: RunSetup): string {
  return `${table(
    ['setting', 'value'],
    [
      ['date', s.startedAt.toISOString()],
      ['run time', `${(s.durationMs / 1000).toFixed(1)} s`],
      ['Node.js', s.node],
      ['server children (gateway, baseline)', `\`${s.serverChildren}\``],
      ['platform', s.platform],
      ['CPUs', `${s.cpus} × ${s.cpuModel}`],
      ['load average at start (1, 5, 15 min)', s.loadAverage.map((l) => l.toFixed(2)).join(', ')],
      [
        'simulated tenant',
        `seed ${s.seed}: ${s.tenant.machines} machines, ${s.tenant.users} users, ${s.tenant.alerts} alerts`,
      ],
      ['simulator latency', `${s.simulatorLatencyMs} ms per answer`],
      ['limits when counting calls and measuring overhead', `\`${s.callsLimits}\` (gateway and simulator)`],
    ],
  )}\n\nEverything runs on this one machine, over loopback; other work on it adds noise to times (not to call counts).\n`;
}

/** Each goal of the issue, what this run measured, and whether it is met. */
function goalsTable(r: BenchResults): string {
  const rows: string[][] = [];
  if (r.calls) {
    const off = r.calls.filter((c) => c.cold.calls !== c.lowerBound.calls);
    rows.push([
      'cold calls = lower bound on every query',
      `${r.calls.length - off.length}/${r.calls.length} equal${off.length ? `; off: ${off.map((c) => `${c.query.name} ${c.cold.calls} vs ${c.lowerBound.calls}`).join(', ')}` : ''}`,
      met(off.length === 0),
    ]);
    const warm = Math.max(...r.calls.map((c) => c.warm.calls));
    rows.push(['warm calls = 0 on every query', `max ${warm}`, met(warm === 0)]);
  }
  if (r.estimates) rows.push(...estimateGoals(r.estimates));
  if (r.plans) rows.push(...plansGoals(r.plans));
  if (r.utilisation) {
    const lowest = Math.min(...r.utilisation.apis.map((a) => Math.min(a.utilisation, a.slidingUtilisation)));
    rows.push([
      'utilisation ≥ 95 % while demand exceeds the limit (every API, tumbling and sliding mean)',
      `tumbling ${pct(r.utilisation.utilisation)}, sliding mean ${pct(r.utilisation.slidingUtilisation)}; lowest API ${pct(lowest)}`,
      met(lowest >= 0.95),
    ]);
    rows.push(['zero 429s', String(r.utilisation.throttled), met(r.utilisation.throttled === 0)]);
  }
  if (r.overhead) {
    rows.push([
      'throughput ratio gateway / bare baseline ≥ 0.8',
      r.overhead.throughputRatio.toFixed(2),
      met(r.overhead.throughputRatio >= 0.8),
    ]);
    const { executingRatio, executingP99, options } = r.overhead;
    rows.push([
      `execution path ratio ≥ 1.0 (response cache off, warm, over the bare baseline; median of ${options.rounds} rounds)`,
      executingRatio.toFixed(2),
      met(executingRatio >= 1.0),
    ]);
    rows.push([
      'execution path p99 ≤ the bare baseline’s (medians of the rounds)',
      `${Math.round(executingP99.gateway)} ms vs ${Math.round(executingP99.baseline)} ms`,
      met(executingP99.gateway <= executingP99.baseline),
    ]);
  }
  if (r.traces) rows.push(tracesGoal(r.traces));
  if (r.load) {
    const { cold } = r.load;
    const over = cold.peaks.filter((p) => p.peak > p.limit);
    const worst = cold.peaks.reduce((m, p) => Math.max(m, p.peak / p.limit), 0);
    rows.push([
      'load, cold under throttling: peak upstream calls in any window ≤ limit (every API)',
      `highest peak ${pct(worst)} of the limit${over.length ? `; over: ${over.map((p) => `${p.api} ${p.peak}/${p.limit}`).join(', ')}` : ''}`,
      met(over.length === 0),
    ]);
    rows.push(['load, cold under throttling: zero 429s', String(cold.throttled), met(cold.throttled === 0)]);
    const warmErrors = Object.values(r.load.warm.errorsByCode).reduce((a, b) => a + b, 0);
    rows.push(['load, warm cache: no errors', String(warmErrors), met(warmErrors === 0)]);
    const peakRss = Math.max(r.load.warm.peakRss, r.load.cold.peakRss);
    rows.push(['load: peak RSS < 150 MiB with the defaults', mib(peakRss), met(peakRss < 150 * 2 ** 20)]);
  }
  if (r.live) {
    const { live } = r;
    rows.push([
      `live: ${live.options.subscribers} subscribers over ${live.filters} filters cost the poll calls of one`,
      `${live.pollCalls.all} vs ${live.pollCalls.one}`,
      met(live.pollCalls.all <= live.pollCalls.one + 1),
    ]);
    const goalMs = live.options.pollIntervalMs + 1_000;
    rows.push([
      'live: delivery lag p99 ≤ poll interval + 1 s, every delivery made',
      `p99 ${Math.round(live.lag.p99)} ms (goal ${goalMs} ms), ${live.lag.receipts}/${live.lag.expected} delivered`,
      met(live.lag.p99 <= goalMs && live.lag.receipts === live.lag.expected),
    ]);
    const perSubscriber =
      (live.memory.idle.heapUsed - live.memory.before.heapUsed) / live.options.subscribers;
    rows.push([
      'live: gateway memory per idle subscriber < 20 KiB (heap)',
      `${(perSubscriber / 1024).toFixed(1)} KiB`,
      met(perSubscriber < 20 * 1024),
    ]);
  }
  if (r.soak) {
    rows.push([
      `soak (${r.soak.options.seconds} s): RSS flat after warm-up`,
      `${(r.soak.rssSlopePerMinute / 2 ** 20).toFixed(2)} MiB/min over the last half`,
      met(r.soak.rssFlat),
    ]);
    rows.push([
      'soak: no growth in event-loop delay',
      `${r.soak.lagEarlyMs.toFixed(1)} → ${r.soak.lagLateMs.toFixed(1)} ms`,
      met(!r.soak.lagGrows),
    ]);
  }
  return table(['goal', 'measured', 'met?'], rows);
}
