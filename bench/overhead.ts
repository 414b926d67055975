import { readFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import { startSimulator } from '../src/simulator/server.js';
import type { NodeLaunch } from './deployed.js';
import { compiledBenchScript } from './deployed.js';
import type { UpstreamExtension } from './gateway.js';
import { postQuery } from './gateway.js';
import type { BenchQuery } from './queries.js';
import type { BaselineChildConfig } from './serve-baseline.js';
import type { GatewayChildConfig } from './serve-gateway.js';
import type { FromServer, MemorySample, ToServer } from './serve-protocol.js';

export interface OverheadOptions {
  readonly seed: number;
  readonly query: BenchQuery;
  /** Concurrent HTTP connections of the load generator. */
  readonly connections: number;
  /** Load before the measured run, not counted (s). */
  readonly warmupSeconds: number;
  /** The measured run (s); the executing gateway and the baseline run this long in each round. */
  readonly durationSeconds: number;
  /**
   * Rounds of the execution path against the baseline, each with a fresh process of each, measured one after
   * the other in alternated order (gateway, baseline, then baseline, gateway, …).
   */
  readonly rounds: number;
  /** Limits on both sides, generous: a fully cached query makes no call anyway. */
  readonly rateLimits: string;
  /** How the server children's node is started: the Dockerfile's flags (bench/deployed.ts). */
  readonly launch: NodeLaunch;
}

/** Memory at one instant, relative to the start of the load (ms; negative before it). */
export interface MemoryPoint {
  readonly tMs: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** V8's heap reserved, and memory of C++ objects bound to JS ones (buffers), when read. */
  readonly heapTotal?: number;
  readonly external?: number;
  /** Event-loop delay over the reading's interval (ms), when the child measured it. */
  readonly lagMeanMs?: number;
  readonly lagMaxMs?: number;
}

/** What the load generator saw of one measured run. */
export interface LoadFigures {
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMeanMs: number;
  readonly bytesPerSecond: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

export interface ServerLoad extends LoadFigures {
  readonly label: string;
  /** After the answer was warmed and a full GC (when `gcExposed`). */
  readonly atRest: MemorySample;
  readonly gcExposed: boolean;
  /** Highest readings during the warm-up and measured load. */
  readonly peakRss: number;
  readonly peakHeapUsed: number;
  /** After the load and a full GC. */
  readonly afterLoad: MemorySample;
  readonly memory: readonly MemoryPoint[];
  /** The server process's CPU time (user + system) over the measured requests, per request (ms). */
  readonly cpuMsPerRequest?: number;
  /**
   * The rounds it was measured in, each in a fresh process, alternated with another server (their means are
   * the figures above).
   */
  readonly rounds?: readonly RoundLoad[];
}

/** One measured run of a server, with its process's CPU time over it (ms; undefined where /proc is not). */
export interface RoundLoad extends LoadFigures {
  readonly cpuMs: number | undefined;
}

export interface OverheadResult {
  readonly options: OverheadOptions;
  readonly gateway: ServerLoad;
  /** The gateway with its response cache off: every request executes over cached upstream answers. */
  readonly gatewayExecuting: ServerLoad;
  readonly baseline: ServerLoad;
  /** Gateway requests/s over baseline requests/s. */
  readonly throughputRatio: number;
  /** With the response cache off: the median over the rounds of each round's ratio. */
  readonly executingRatio: number;
  /** The medians over the rounds of each side's p99 (ms). */
  readonly executingP99: { readonly gateway: number; readonly baseline: number };
  /** `extensions.upstream` of the gateway's answer once warm (calls should be 0). */
  readonly warmUpstream: UpstreamExtension | undefined;
  /** Error codes of the gateway's warm answer (none expected). */
  readonly warmErrors: readonly string[];
  /** Calls that reached the simulator during the gateways' loads (0 when fully cached). */
  readonly upstreamCallsDuringLoad: number;
  /** The baseline answers the same data as the gateway. */
  readonly sameAnswer: boolean;
  readonly answerBytes: number;
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Throughput, latency, CPU and memory of the gateway answering a fully cached nested query, and of a bare Apollo
 * Server answering the same query from memory, each in its own child process with the load generator
 * (autocannon) here in the parent. The simulator also runs here, idle once the cache is warm. The gateway with
 * its response cache off (every request executes over cached upstream answers) and the baseline are measured in
 * rounds of fresh processes (measureExecutionPath); the gateway with its response cache on once, alone.
 */
export async function measureOverhead(options: OverheadOptions): Promise<OverheadResult> {
  const sim = await startSimulator({ seed: options.seed, rateLimits: parseRateLimits(options.rateLimits) });
  try {
    const executing = await measureExecutionPath(sim, options);
    const gatewayChild = await ServerChild.start<GatewayChildConfig>('serve-gateway', options.launch, {
      simulatorUrl: sim.url,
      rateLimits: options.rateLimits,
      cacheTtlMs: 3_600_000,
      responseCache: true,
    });
    let gateway: ServerLoad;
    let upstreamCallsDuringLoad: number;
    try {
      await postQuery(gatewayChild.url, options.query.query);
      sim.resetCalls();
      gateway = await loadServer('gateway', gatewayChild, options);
      upstreamCallsDuringLoad = executing.upstreamCallsDuringLoad + sim.calls.length;
    } finally {
      await gatewayChild.stop();
    }
    return {
      ...executing,
      options,
      gateway,
      throughputRatio: gateway.requestsPerSecond / executing.baseline.requestsPerSecond,
      upstreamCallsDuringLoad,
    };
  } finally {
    await sim.close();
  }
}

type ExecutionPath = Pick<
  OverheadResult,
  | 'gatewayExecuting'
  | 'baseline'
  | 'executingRatio'
  | 'executingP99'
  | 'warmUpstream'
  | 'warmErrors'
  | 'upstreamCallsDuringLoad'
  | 'sameAnswer'
  | 'answerBytes'
>;

/**
 * The gateway with its response cache off and the baseline answering the gateway's warm answer, in
 * `options.rounds` rounds. Each round starts both afresh (the gateway warmed by the query, twice), warms each up,
 * then measures them one after the other, in ABBA order across rounds: on the machines this runs on, one server
 * process can run about twice as slowly as the next, uniformly and for its whole life, so a round samples a
 * process of each, and the headline figures are the medians of the rounds.
 */
async function measureExecutionPath(
  sim: Awaited<ReturnType<typeof startSimulator>>,
  options: OverheadOptions,
): Promise<ExecutionPath> {
  const body = JSON.stringify({ query: options.query.query });
  const sides = [
    { label: 'gateway, response cache off', rounds: [] as RoundLoad[], memory: [] as MemoryOf[] },
    { label: 'bare Apollo baseline', rounds: [] as RoundLoad[], memory: [] as MemoryOf[] },
  ] as const;
  let first: Pick<ExecutionPath, 'warmUpstream' | 'warmErrors' | 'sameAnswer' | 'answerBytes'> | undefined;
  let answerData: Record<string, unknown> = {};
  let upstreamCallsDuringLoad = 0;
  for (let round = 0; round < options.rounds; round++) {
    const gatewayChild = await ServerChild.start<GatewayChildConfig>('serve-gateway', options.launch, {
      simulatorUrl: sim.url,
      rateLimits: options.rateLimits,
      cacheTtlMs: 3_600_000,
      responseCache: false,
    });
    try {
      const cold = await postQuery(gatewayChild.url, options.query.query);
      const warm = await postQuery(gatewayChild.url, options.query.query);
      if (round === 0) answerData = warm.data ?? cold.data ?? {};
      const baselineChild = await ServerChild.start<BaselineChildConfig>('serve-baseline', options.launch, {
        answers: answerData,
      });
      try {
        if (!first) {
          const answer = await postQuery(baselineChild.url, options.query.query);
          first = {
            warmUpstream: warm.extensions?.upstream,
            // Reported, not fatal: a gateway that does not cache (or fails) still gets measured, and the report says so.
            warmErrors: (warm.errors ?? []).map((e) => String(e.extensions?.['code'] ?? e.message)),
            sameAnswer: isDeepStrictEqual(answer.data, answerData) && !answer.errors,
            answerBytes: Buffer.byteLength(JSON.stringify(answerData)),
          };
        }
        const children = [gatewayChild, baselineChild];
        const rests = [await gatewayChild.rest(), await baselineChild.rest()];
        const loadStart = Date.now();
        const callsBefore = sim.calls.length;
        for (const child of children) await fire(child.url, body, options.connections, options.warmupSeconds);
        for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
          sides[i]!.rounds.push(await measuredRun(children[i]!, body, options));
        }
        upstreamCallsDuringLoad += sim.calls.length - callsBefore;
        const loadEnd = Date.now();
        for (const [i, child] of children.entries()) {
          sides[i]!.memory.push(memoryOf(child, rests[i]!, await child.rest(), loadStart, loadEnd));
        }
      } finally {
        await baselineChild.stop();
      }
    } finally {
      await gatewayChild.stop();
    }
  }
  const [gatewayExecuting, baseline] = sides.map(({ label, rounds, memory }) => {
    const mean = (value: (r: RoundLoad) => number) =>
      rounds.reduce((sum, r) => sum + value(r), 0) / rounds.length;
    const sum = (value: (r: RoundLoad) => number) => rounds.reduce((total, r) => total + value(r), 0);
    const cpu = rounds.every((r) => r.cpuMs !== undefined)
      ? sum((r) => r.cpuMs!) / sum((r) => r.requests)
      : undefined;
    const load: ServerLoad = {
      label,
      requestsPerSecond: mean((r) => r.requestsPerSecond),
      latencyP50Ms: mean((r) => r.latencyP50Ms),
      latencyP99Ms: mean((r) => r.latencyP99Ms),
      latencyMeanMs: mean((r) => r.latencyMeanMs),
      bytesPerSecond: mean((r) => r.bytesPerSecond),
      requests: sum((r) => r.requests),
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      // The first round's readings, with the highest peaks of all rounds.
      ...memory[0]!,
      peakRss: Math.max(...memory.map((m) => m.peakRss)),
      peakHeapUsed: Math.max(...memory.map((m) => m.peakHeapUsed)),
      ...(cpu !== undefined && { cpuMsPerRequest: cpu }),
      rounds,
    };
    return load;
  }) as [ServerLoad, ServerLoad];
  const g = gatewayExecuting.rounds!;
  const b = baseline.rounds!;
  return {
    ...first!,
    gatewayExecuting,
    baseline,
    executingRatio: median(g.map((r, i) => r.requestsPerSecond / b[i]!.requestsPerSecond)),
    executingP99: {
      gateway: median(g.map((r) => r.latencyP99Ms)),
      baseline: median(b.map((r) => r.latencyP99Ms)),
    },
    upstreamCallsDuringLoad,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rest reading, warm-up, measured run, rest reading again, with the child's memory samples in between. */
async function loadServer(label: string, child: ServerChild, options: OverheadOptions): Promise<ServerLoad> {
  const rest = await child.rest();
  const body = JSON.stringify({ query: options.query.query });
  const loadStart = Date.now();
  await fire(child.url, body, options.connections, options.warmupSeconds);
  const run = await measuredRun(child, body, options);
  const loadEnd = Date.now();
  const after = await child.rest();
  const { cpuMs, ...figures } = run;
  return {
    label,
    ...figures,
    ...memoryOf(child, rest, after, loadStart, loadEnd),
    ...(cpuMs !== undefined && { cpuMsPerRequest: cpuMs / run.requests }),
  };
}

/** One measured run of `options.durationSeconds` against `child`, with its process's CPU time over it. */
export async function measuredRun(
  child: ServerChild,
  body: string,
  options: Pick<OverheadOptions, 'connections' | 'durationSeconds'>,
): Promise<RoundLoad> {
  const cpuBefore = await cpuMsOf(child.pid);
  const result = await fire(child.url, body, options.connections, options.durationSeconds);
  const cpuAfter = await cpuMsOf(child.pid);
  return {
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    bytesPerSecond: result.throughput.average,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
  };
}

type RestReading = { sample: MemorySample; gcExposed: boolean };
type MemoryOf = ReturnType<typeof memoryOf>;

/** The memory figures of a load from `loadStart` to `loadEnd`, between two rest readings. */
function memoryOf(
  child: ServerChild,
  rest: RestReading,
  after: RestReading,
  loadStart: number,
  loadEnd: number,
): Pick<ServerLoad, 'atRest' | 'gcExposed' | 'peakRss' | 'peakHeapUsed' | 'afterLoad' | 'memory'> {
  const during = child.samples.filter((s) => s.at >= loadStart && s.at <= loadEnd);
  return {
    atRest: rest.sample,
    gcExposed: rest.gcExposed,
    peakRss: Math.max(rest.sample.rss, ...during.map((s) => s.rss)),
    peakHeapUsed: Math.max(rest.sample.heapUsed, ...during.map((s) => s.heapUsed)),
    afterLoad: after.sample,
    memory: [rest.sample, ...during, after.sample].map((s) => ({
      tMs: s.at - loadStart,
      rss: s.rss,
      heapUsed: s.heapUsed,
    })),
  };
}

/**
 * A process's CPU time so far, user + system (ms), from /proc/<pid>/stat (Linux); undefined elsewhere. Fields
 * 14 and 15 are counted after the command name, which may hold spaces but ends at the last `)`.
 */
export async function cpuMsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of /proc's CPU times, 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

export function fire(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
  });
}

/**
 * A server in a child process, as bench/serve-protocol.ts describes: the compiled bench script under plain node
 * with the deployed flags (bench/deployed.ts) and `--expose-gc`, NODE_ENV=production.
 */
export class ServerChild<Start = unknown> {
  readonly samples: MemorySample[] = [];
  #url = '';
  #rest: ((reading: { sample: MemorySample; gcExposed: boolean }) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromServer) => {
      if (message.type === 'sample') this.samples.push(message.sample);
      if (message.type === 'rest')
        this.#rest.shift()?.({ sample: message.sample, gcExposed: message.gcExposed });
    });
  }

  /** Starts bench/`name`.ts, compiled (`serve-gateway`, `serve-load-gateway`, `serve-baseline`). */
  static async start<Start>(name: string, launch: NodeLaunch, config: Start): Promise<ServerChild<Start>> {
    const script = await compiledBenchScript(name);
    // NODE_OPTIONS that the bench was run with (say `--cpu-prof`) are kept; the deployed ones come last and win.
    const nodeOptions = [process.env['NODE_OPTIONS'], launch.nodeOptions].filter(Boolean).join(' ');
    const child = fork(script, [], {
      cwd: PROJECT_ROOT,
      execArgv: [...launch.flags, '--expose-gc'],
      // As deployed (the Dockerfile sets it): graphql-js skips its development-mode checks. Both servers alike.
      env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: nodeOptions },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerChild<Start>(child);
    const ready = new Promise<string>((resolve, reject) => {
      child.on('message', (message: FromServer) => {
        if (message.type === 'ready') resolve(message.url);
      });
      child.once('exit', (code) =>
        reject(new Error(`bench: ${script} exited with ${code} before it was ready`)),
      );
    });
    child.send({ type: 'start', config } satisfies ToServer<Start>);
    server.#url = await ready;
    return server;
  }

  get url(): string {
    return this.#url;
  }

  /** The child's process id (bench/traces.ts reads its CPU time). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  rest(): Promise<{ sample: MemorySample; gcExposed: boolean }> {
    return new Promise((resolve) => {
      this.#rest.push(resolve);
      this.child.send({ type: 'gc' } satisfies ToServer<Start>);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    // Disconnecting lets the child exit on its own (and write a `--cpu-prof` profile, when asked for);
    // one that does not within 5 s is killed.
    if (this.child.connected) this.child.disconnect();
    else this.child.kill();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
