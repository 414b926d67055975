import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import type { OperationSummary } from '../src/ops/tracing.js';
import { startTracing } from '../src/ops/tracing.js';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import { startSimulator } from '../src/simulator/server.js';
import { postQuery } from './gateway.js';
import { table } from './markdown.js';
import type { OverheadOptions } from './overhead.js';
import { measuredRun, ServerChild } from './overhead.js';
import type { GatewayChildConfig } from './serve-gateway.js';

/** The overhead section's options (each side's warm-up and measured run), and how many runs of each side. */
export interface TracesOptions extends OverheadOptions {
  /** Runs of each side, alternated off, on, on, off… so that drift in the machine's load hits both alike. */
  readonly rounds: number;
}

/** One measured run of one gateway. */
export interface TracesRun {
  readonly traced: boolean;
  readonly requestsPerSecond: number;
  readonly latencyP99Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  /**
   * The gateway process's CPU time (user + system) per request during the measured run (ms): less sensitive
   * than throughput to what else the machine runs. Undefined where /proc is not available.
   */
  readonly cpuMsPerRequest: number | undefined;
}

export interface TracesResult {
  readonly options: TracesOptions;
  readonly runs: readonly TracesRun[];
  /** Mean requests/s traced over mean requests/s untraced. */
  readonly throughputRatio: number;
  /** Mean p99 traced over mean p99 untraced. */
  readonly p99Ratio: number;
  /** Mean CPU per request traced over untraced; undefined without /proc. */
  readonly cpuRatio: number | undefined;
  /** What the OTLP sink received during the traced runs: requests, bytes and spans. */
  readonly exported: { readonly requests: number; readonly bytes: number; readonly spans: number };
  /** Operations answered during the traced runs (warm-ups included), to compare with the spans. */
  readonly tracedOperations: number;
  /**
   * The tracing work alone, in this process, exported to the same sink (µs of CPU per operation, export
   * included): for an operation served from cached answers (no call span) and for one with 5 calls.
   */
  readonly tracingCpuUs: {
    readonly cached: number;
    readonly fiveCalls: number;
    /** Spans the sink received from this measure, of those made (a full queue would drop some). */
    readonly exported: number;
    readonly expected: number;
  };
}

/**
 * What traces cost: the gateway answering the query with its response cache off (every request executes over
 * cached upstream answers, so every one makes an operation span with its counts), untraced and traced
 * to an OTLP/HTTP sink here in the parent that accepts and discards `POST /v1/traces`, as
 * `OTEL_EXPORTER_OTLP_ENDPOINT` configures it (batch processor, JSON). Each gateway in its own child process.
 */
export async function measureTraces(options: TracesOptions): Promise<TracesResult> {
  const sim = await startSimulator({ seed: options.seed, rateLimits: parseRateLimits(options.rateLimits) });
  const sink = await startOtlpSink();
  try {
    const runs: TracesRun[] = [];
    let tracedOperations = 0;
    for (let round = 0; round < options.rounds; round++) {
      // ABBA: off, on, then on, off.
      for (const traced of round % 2 === 0 ? [false, true] : [true, false]) {
        const child = await ServerChild.start<GatewayChildConfig>('serve-gateway', options.launch, {
          simulatorUrl: sim.url,
          rateLimits: options.rateLimits,
          cacheTtlMs: 3_600_000,
          responseCache: false,
          ...(traced && { otlpEndpoint: sink.url }),
        });
        try {
          await postQuery(child.url, options.query.query);
          const body = JSON.stringify({ query: options.query.query });
          const warm = await measuredRun(child, body, { ...options, durationSeconds: options.warmupSeconds });
          const run = await measuredRun(child, body, options);
          if (traced) tracedOperations += 1 + warm.requests + run.requests;
          runs.push({
            traced,
            requestsPerSecond: run.requestsPerSecond,
            latencyP99Ms: run.latencyP99Ms,
            requests: run.requests,
            non2xx: run.non2xx,
            cpuMsPerRequest: run.cpuMs === undefined ? undefined : run.cpuMs / run.requests,
          });
          // The batch processor exports every 5 s at the latest: what is still queued is sent before the next run.
          if (traced) await new Promise((done) => setTimeout(done, 6_000));
        } finally {
          await child.stop();
        }
      }
    }
    const exported = { ...sink.received };
    const before = sink.received.spans;
    const tracingCpuUs = {
      cached: await tracingCpuUsPerOperation(sink.url, 0),
      fiveCalls: await tracingCpuUsPerOperation(sink.url, 5),
    };
    const expectedSpans = TRACED_OPERATIONS * (1 + 1 + 5);
    const mean = (traced: boolean, value: (r: TracesRun) => number) => {
      const side = runs.filter((r) => r.traced === traced);
      return side.reduce((sum, r) => sum + value(r), 0) / side.length;
    };
    return {
      options,
      runs,
      throughputRatio: mean(true, (r) => r.requestsPerSecond) / mean(false, (r) => r.requestsPerSecond),
      p99Ratio: mean(true, (r) => r.latencyP99Ms) / mean(false, (r) => r.latencyP99Ms),
      cpuRatio: runs.every((r) => r.cpuMsPerRequest !== undefined)
        ? mean(true, (r) => r.cpuMsPerRequest!) / mean(false, (r) => r.cpuMsPerRequest!)
        : undefined,
      exported,
      tracedOperations,
      tracingCpuUs: { ...tracingCpuUs, exported: sink.received.spans - before, expected: expectedSpans },
    };
  } finally {
    await sink.close();
    await sim.close();
  }
}

/** Operations the in-process measure of tracing's own cost traces. */
const TRACED_OPERATIONS = 10_000;

/**
 * Tracing's own CPU per operation, as the gateway does it (an operation span from a `traceparent`, named, with
 * `calls` call spans of one attempt each, ended with a summary of four APIs), exported by the batch processor
 * over OTLP/HTTP to `sinkUrl`: the CPU time of this process over the whole, flush included (µs).
 */
async function tracingCpuUsPerOperation(sinkUrl: string, calls: number): Promise<number> {
  const tracing = startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl }).telemetry)!;
  const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
  const summary: OperationSummary = {
    estimate: { min: 1, expected: 12.5, max: 40 },
    calls,
    cacheHits: 60,
    sharedCalls: 0,
    staleHits: 0,
    limiterWaitMs: 0,
    byApi: {
      alerts: { calls: calls > 0 ? 1 : 0, cacheHits: 1 },
      'alerts/{id}/user': { calls: 0, cacheHits: 20 },
      'users/{id}/machines': { calls: 0, cacheHits: 15 },
      'machines/{id}/logonusers': { calls: Math.max(0, calls - 1), cacheHits: 24 },
    },
    plans: [],
    errorCodes: [],
    httpStatus: 200,
    responseCacheHit: false,
    dryRun: false,
  };
  const started = process.cpuUsage();
  for (let i = 0; i < TRACED_OPERATIONS; i++) {
    const operation = tracing.startOperation(headers, { fresh: false });
    operation.named('query', 'AlertQueue');
    for (let c = 0; c < calls; c++) {
      const call = operation.startCall('machines/{id}/logonusers', 'GET');
      call.limiterWait(0);
      call.attempt(200, 31);
      call.end({ status: 200 });
    }
    operation.end(summary);
    // Paced, as requests arrive: the batch processor exports between them and its queue never overflows.
    if (i % 50 === 49) await new Promise((done) => setTimeout(done, 20));
  }
  await tracing.shutdown();
  const { user, system } = process.cpuUsage(started);
  return (user + system) / TRACED_OPERATIONS;
}

/** The report's section: each run, the ratios, and what the sink received. */
export function tracesSection(r: TracesResult): { tables: string; notes: string } {
  const o = r.options;
  return {
    tables: `## Traces overhead\n\n${table(
      ['run', 'traces', 'requests/s', 'p99', 'CPU per request', 'requests', 'non-2xx'],
      r.runs.map((run, i) => [
        String(i + 1),
        run.traced ? 'on (OTLP/HTTP)' : 'off',
        run.requestsPerSecond.toFixed(0),
        `${run.latencyP99Ms} ms`,
        run.cpuMsPerRequest === undefined ? '—' : `${run.cpuMsPerRequest.toFixed(2)} ms`,
        String(run.requests),
        String(run.non2xx),
      ]),
    )}\n\nThroughput traced / untraced: **${r.throughputRatio.toFixed(3)}** (p99 ratio ${r.p99Ratio.toFixed(2)}${r.cpuRatio === undefined ? '' : `; the gateway's CPU per request, traced / untraced: **${r.cpuRatio.toFixed(3)}**`})`,
    notes: [
      `Query \`${o.query.name}\`, the gateway's response cache off (every request executes over cached upstream`,
      `answers: one operation span each, its cache hits counted per API). autocannon, ${o.connections} connections,`,
      `${o.warmupSeconds} s warm-up then ${o.durationSeconds} s measured per run, ${o.rounds} rounds alternated off/on then`,
      'on/off, each gateway in its own child process. Traced: `OTEL_EXPORTER_OTLP_ENDPOINT` to a sink in the parent',
      `that discards \`POST /v1/traces\`; it received ${r.exported.spans} spans in ${r.exported.requests} exports`,
      `(${(r.exported.bytes / 1024 / 1024).toFixed(1)} MiB) for ${r.tracedOperations} traced operations.`,
      `Tracing's own CPU, measured alone in the parent (${TRACED_OPERATIONS} operations exported to the same sink, flush and the sink's`,
      `reading included: an upper bound): **${r.tracingCpuUs.cached.toFixed(0)} µs** per operation served from cached answers, ${r.tracingCpuUs.fiveCalls.toFixed(0)} µs with 5 call spans`,
      `(the sink received ${r.tracingCpuUs.exported} of their ${r.tracingCpuUs.expected} spans).`,
    ].join('\n'),
  };
}

/**
 * The goals table's row. On a shared machine, other load moves throughput and CPU per request by more than 10 %
 * between runs of the same server, so the decision rests on tracing's own CPU per operation (measured alone)
 * against the untraced gateway's CPU per request: a CPU-bound server doing that much more work per request
 * loses `share / (1 + share)` of its throughput. The runs' ratios are shown beside it.
 */
export function tracesGoal(r: TracesResult): [string, string, string] {
  const ratios = `runs: throughput ×${r.throughputRatio.toFixed(3)}${r.cpuRatio === undefined ? '' : `, CPU per request ×${r.cpuRatio.toFixed(3)}`}`;
  const untraced = r.runs.filter((run) => !run.traced && run.cpuMsPerRequest !== undefined);
  if (untraced.length === 0)
    return ['traces on (OTLP) cost < 10 % throughput', ratios, r.throughputRatio > 0.9 ? 'yes' : '**no**'];
  const gatewayUs = (untraced.reduce((sum, run) => sum + run.cpuMsPerRequest!, 0) / untraced.length) * 1000;
  const share = r.tracingCpuUs.cached / gatewayUs;
  const lost = share / (1 + share);
  return [
    'traces on (OTLP) cost < 10 % throughput (response cache off)',
    `tracing ${r.tracingCpuUs.cached.toFixed(0)} µs CPU per operation, ${(share * 100).toFixed(1)} % of the gateway's ${(gatewayUs / 1000).toFixed(1)} ms: ${(lost * 100).toFixed(1)} % throughput at full CPU; ${ratios}`,
    lost < 0.1 ? 'yes' : '**no**',
  ];
}

/**
 * An OTLP/HTTP collector that keeps nothing: each `POST /v1/traces` is read, its spans counted (a span's JSON has
 * one `"spanId"` key; its parent's is `"parentSpanId"`), and answered 200 `{}`.
 */
async function startOtlpSink(): Promise<{
  url: string;
  received: { requests: number; bytes: number; spans: number };
  close(): Promise<void>;
}> {
  const received = { requests: 0, bytes: 0, spans: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const text = Buffer.concat(chunks).toString('utf8');
        received.requests++;
        received.bytes += text.length;
        received.spans += text.split('"spanId"').length - 1;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
