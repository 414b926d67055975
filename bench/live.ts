import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StaticTokenProvider } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { createDependencies } from '../src/dependencies.js';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import { createServer } from '../src/server.js';
import { DEFAULT_SIMULATOR_TOKEN } from '../src/simulator/config.js';
import type { Simulator } from '../src/simulator/server.js';
import { startSimulator } from '../src/simulator/server.js';
import { mib, table } from './markdown.js';
import type { Section } from './report-sections.js';

export interface LiveBenchOptions {
  readonly seed: number;
  readonly latencyMs: number;
  /** The poll interval the gateway runs with (ms): short, so that the bench does not last minutes. */
  readonly pollIntervalMs: number;
  /** Subscribers, and the WebSocket connections they share. */
  readonly subscribers: number;
  readonly connections: number;
  /** How long the calls are counted, with every subscriber and with one (ms). */
  readonly countMs: number;
  /** Alert changes made while measuring the lag, one every `changeEveryMs` on average. */
  readonly changes: number;
  readonly changeEveryMs: number;
}

export interface LiveBenchResult {
  readonly options: LiveBenchOptions;
  readonly filters: number;
  /** `GET /api/alerts` poll calls in `countMs`, with every subscriber and with one. */
  readonly pollCalls: { readonly all: number; readonly one: number };
  /** Lag from lastUpdateTime to receipt at each matching subscriber (ms), and how many receipts. */
  readonly lag: {
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly receipts: number;
    readonly expected: number;
  };
  /** Memory of the gateway's process after GC, without subscribers and with every one idle. */
  readonly memory: { readonly before: NodeJS.MemoryUsage; readonly idle: NodeJS.MemoryUsage };
}

const FILTERS: readonly Record<string, unknown>[] = [
  { severity: ['HIGH'] },
  { severity: ['MEDIUM'] },
  { severity: ['LOW'] },
  { severity: ['INFORMATIONAL'] },
  { status: ['NEW'] },
  { status: ['IN_PROGRESS'] },
  { severity: ['HIGH'], status: ['NEW'] },
  { severity: ['HIGH', 'MEDIUM'] },
  { status: ['NEW', 'IN_PROGRESS'] },
  {},
];
const SEVERITIES = ['High', 'Medium', 'Low', 'Informational'] as const;
/** Roomy limits for gateway and simulator: the bench measures the fan-out, not throttling. */
const LIMITS = '100000/60s';

/** `gc()`, made available without restarting the bench under `--expose-gc`. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/**
 * The live alerts section: 1,000 subscribers over 10 filters, in a child process, against a gateway and a
 * simulator in this one. It counts the poll calls the simulator sees with every subscriber and with one, makes
 * alert changes and measures the lag from each change's `lastUpdateTime` (the simulator's clock, which is
 * SIMULATOR_NOW plus the time elapsed, turned into this process's clock) to its receipt at every subscriber
 * whose filter it passes, and reads the gateway process's heap and RSS after GC with no subscriber and with
 * all of them idle.
 */
export async function measureLive(options: LiveBenchOptions): Promise<LiveBenchResult> {
  const gc = collector();
  const limits = parseRateLimits(LIMITS);
  const sim = await startSimulator({ seed: options.seed, latencyMs: options.latencyMs, rateLimits: limits });
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const deps = await createDependencies(config, {
    upstream: {
      baseUrl: new URL(sim.url),
      tokens: new StaticTokenProvider(DEFAULT_SIMULATOR_TOKEN, 'bench'),
    },
    rateLimits: limits,
    processMetrics: false,
    server: {
      live: {
        pollIntervalMs: options.pollIntervalMs,
        maxSubscriptionsPerConnection: Math.ceil(options.subscribers / options.connections),
      },
    },
  });
  const server = await createServer(deps.server);
  const url = await server.listen(0, '127.0.0.1');
  const child = fork(fileURLToPath(new URL('./live-subscribers.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const subscriptions = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/^live_subscriptions\{transport="websocket"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const pollCalls = () =>
      sim.calls.filter((c) => c.api === 'alerts' && c.query['$orderby']?.startsWith('lastUpdateTime')).length;
    await sleep(500);
    gc();
    const before = process.memoryUsage();

    // Every subscriber, idle: memory, then the calls of `countMs`.
    await ask(
      child,
      { type: 'open', url, count: options.subscribers, connections: options.connections, filters: FILTERS },
      'ready',
    );
    await until(async () => (await subscriptions()) === options.subscribers, 30_000);
    await sleep(options.pollIntervalMs * 2);
    gc();
    const idle = process.memoryUsage();
    sim.resetCalls();
    await sleep(options.countMs);
    const all = pollCalls();

    // Changes, each to the subscribers whose filter it passes.
    const machines = sim.tenant.machines.filter((m) => m.onboardingStatus === 'Onboarded');
    const made: { id: string; severity: string }[] = [];
    for (let i = 0; i < options.changes; i++) {
      const severity = SEVERITIES[i % SEVERITIES.length]!;
      const alert = sim.createAlert({ machineId: machines[i % machines.length]!.id, severity });
      made.push({ id: alert.id, severity });
      await sleep(options.changeEveryMs * (0.5 + Math.random()));
    }
    await sleep(options.pollIntervalMs * 2 + 1_000);
    const offset = Date.now() - sim.now().getTime(); // this process's clock minus the simulator's
    const { receipts } = (await ask(child, { type: 'receipts' }, 'receipts')) as {
      receipts: [string, { lastUpdateTime: string; at: number[] }][];
    };
    const lags = receipts
      .flatMap(([, r]) => r.at.map((at) => at - (Date.parse(r.lastUpdateTime) + offset)))
      .sort((a, b) => a - b);
    const expected = made.reduce((n, change) => n + matchingSubscribers(change.severity, options), 0);
    child.send({ type: 'close' });
    await new Promise((resolve) => child.once('exit', resolve));

    // One subscriber alone, for the same time.
    const one = await onlyOne(url, sim, options, pollCalls);
    return {
      options,
      filters: FILTERS.length,
      pollCalls: { all, one },
      lag: {
        p50: percentile(lags, 0.5),
        p99: percentile(lags, 0.99),
        max: lags.at(-1) ?? 0,
        receipts: lags.length,
        expected,
      },
      memory: { before, idle },
    };
  } finally {
    if (child.exitCode === null) child.kill();
    deps.limiter.close();
    await server.close();
    await deps.close();
    await sim.close();
  }
}

/** The poll calls of one subscriber alone during `countMs`. */
async function onlyOne(
  url: string,
  sim: Simulator,
  options: LiveBenchOptions,
  pollCalls: () => number,
): Promise<number> {
  const child = fork(fileURLToPath(new URL('./live-subscribers.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await ask(child, { type: 'open', url, count: 1, connections: 1, filters: [{}] }, 'ready');
    await sleep(options.pollIntervalMs * 2);
    sim.resetCalls();
    await sleep(options.countMs);
    return pollCalls();
  } finally {
    child.send({ type: 'close' });
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** Subscribers (of `count`, filters in turn) whose filter a new alert of `severity` (status New) passes. */
function matchingSubscribers(severity: string, options: LiveBenchOptions): number {
  let n = 0;
  for (let i = 0; i < options.subscribers; i++) {
    const filter = FILTERS[i % FILTERS.length]!;
    const severities = filter['severity'] as string[] | undefined;
    const statuses = filter['status'] as string[] | undefined;
    if (severities && !severities.includes(severity.toUpperCase())) continue;
    if (statuses && !statuses.includes('NEW')) continue;
    n++;
  }
  return n;
}

function ask(child: ChildProcess, message: object, answer: string): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string }) => {
      if (reply.type !== answer) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench: not true within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** The section of the report. */
export function liveSection(r: LiveBenchResult): Section {
  const o = r.options;
  const perSubscriber = (key: 'heapUsed' | 'rss') =>
    (r.memory.idle[key] - r.memory.before[key]) / o.subscribers;
  const intervals = o.countMs / o.pollIntervalMs;
  const tables = [
    '## Live alerts',
    '',
    table(
      ['measure', 'value'],
      [
        [
          `poll calls in ${o.countMs / 1000} s, ${o.subscribers} subscribers over ${r.filters} filters`,
          `${r.pollCalls.all} (${(r.pollCalls.all / intervals).toFixed(2)} per interval)`,
        ],
        [
          `poll calls in ${o.countMs / 1000} s, 1 subscriber`,
          `${r.pollCalls.one} (${(r.pollCalls.one / intervals).toFixed(2)} per interval)`,
        ],
        ['delivery lag p50 / p99 / max', `${ms(r.lag.p50)} / ${ms(r.lag.p99)} / ${ms(r.lag.max)}`],
        ['deliveries received / expected', `${r.lag.receipts} / ${r.lag.expected}`],
        ['gateway heap used per idle subscriber', `${(perSubscriber('heapUsed') / 1024).toFixed(1)} KiB`],
        ['gateway RSS per idle subscriber', `${(perSubscriber('rss') / 1024).toFixed(1)} KiB`],
        [
          'gateway heap / RSS without subscribers',
          `${mib(r.memory.before.heapUsed)} / ${mib(r.memory.before.rss)}`,
        ],
        [
          'gateway heap / RSS with every subscriber idle',
          `${mib(r.memory.idle.heapUsed)} / ${mib(r.memory.idle.rss)}`,
        ],
      ],
    ),
  ].join('\n');
  return {
    tables,
    notes: [
      `ALERT_POLL_SECONDS is ${o.pollIntervalMs / 1000} s here (the default is 30 s) so that the run is short; the lag`,
      `goal is the interval + 1 s. ${o.subscribers} WebSocket subscribers over ${o.connections} connections, in a child`,
      `process; the gateway and the simulator (latency ${o.latencyMs} ms) in this one. ${o.changes} alerts are raised,`,
      `one every ${o.changeEveryMs} ms on average (random), of each severity in turn; the lag is from each alert's`,
      `lastUpdateTime, moved from the simulator's clock (SIMULATOR_NOW + elapsed) to this process's, to its arrival`,
      'at each subscriber whose filter it passes. Memory is this process after two GCs, so it includes the',
      'simulator, which does not change between the two readings; per subscriber is the difference divided by',
      'the subscribers, each WebSocket connection shared by its subscriptions.',
    ].join('\n'),
  };
}

const ms = (x: number) => `${Math.round(x)} ms`;
