import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import { startSimulator } from '../src/simulator/server.js';
import { postQuery } from './gateway.js';
import { table } from './markdown.js';
import { ServerChild } from './overhead.js';
import type { BenchQuery } from './queries.js';
import type { GatewayChildConfig } from './serve-gateway.js';

export interface TracesOptions {
  readonly seed: number;
  readonly query: BenchQuery;
  /** Concurrent HTTP connections of the load generator. */
  readonly connections: number;
  /** Load before each measured run, not counted (s). */
  readonly warmupSeconds: number;
  /** Each measured run (s). */
  readonly durationSeconds: number;
  /** Generous limits: the query is fully cached once warm. */
  readonly rateLimits: string;
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
}

export interface TracesResult {
  readonly options: TracesOptions;
  readonly runs: readonly TracesRun[];
  /** Mean requests/s traced over mean requests/s untraced. */
  readonly throughputRatio: number;
  /** Mean p99 traced over mean p99 untraced. */
  readonly p99Ratio: number;
  /** What the OTLP sink received during the traced runs: requests, bytes and spans. */
  readonly exported: { readonly requests: number; readonly bytes: number; readonly spans: number };
  /** Operations answered during the traced runs (warm-ups included), to compare with the spans. */
  readonly tracedOperations: number;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

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
        const child = await ServerChild.start<GatewayChildConfig>(here('./serve-gateway.ts'), {
          simulatorUrl: sim.url,
          rateLimits: options.rateLimits,
          cacheTtlMs: 3_600_000,
          responseCache: false,
          ...(traced && { otlpEndpoint: sink.url }),
        });
        try {
          await postQuery(child.url, options.query.query);
          const body = JSON.stringify({ query: options.query.query });
          const warm = await fire(child.url, body, options.connections, options.warmupSeconds);
          const run = await fire(child.url, body, options.connections, options.durationSeconds);
          if (traced) tracedOperations += 1 + warm.requests.total + run.requests.total;
          runs.push({
            traced,
            requestsPerSecond: run.requests.average,
            latencyP99Ms: run.latency.p99,
            requests: run.requests.total,
            non2xx: run.non2xx,
          });
          // The batch processor exports every 5 s at the latest: what is still queued is sent before the next run.
          if (traced) await new Promise((done) => setTimeout(done, 6_000));
        } finally {
          await child.stop();
        }
      }
    }
    const mean = (traced: boolean, value: (r: TracesRun) => number) => {
      const side = runs.filter((r) => r.traced === traced);
      return side.reduce((sum, r) => sum + value(r), 0) / side.length;
    };
    return {
      options,
      runs,
      throughputRatio: mean(true, (r) => r.requestsPerSecond) / mean(false, (r) => r.requestsPerSecond),
      p99Ratio: mean(true, (r) => r.latencyP99Ms) / mean(false, (r) => r.latencyP99Ms),
      exported: { ...sink.received },
      tracedOperations,
    };
  } finally {
    await sink.close();
    await sim.close();
  }
}

/** The report's section: each run, the ratios, and what the sink received. */
export function tracesSection(r: TracesResult): { tables: string; notes: string } {
  const o = r.options;
  return {
    tables: `## Traces overhead\n\n${table(
      ['run', 'traces', 'requests/s', 'p99', 'requests', 'non-2xx'],
      r.runs.map((run, i) => [
        String(i + 1),
        run.traced ? 'on (OTLP/HTTP)' : 'off',
        run.requestsPerSecond.toFixed(0),
        `${run.latencyP99Ms} ms`,
        String(run.requests),
        String(run.non2xx),
      ]),
    )}\n\nThroughput traced / untraced: **${r.throughputRatio.toFixed(3)}** (p99 ratio ${r.p99Ratio.toFixed(2)})`,
    notes: [
      `Query \`${o.query.name}\`, the gateway's response cache off (every request executes over cached upstream`,
      `answers: one operation span each, its cache hits counted per API). autocannon, ${o.connections} connections,`,
      `${o.warmupSeconds} s warm-up then ${o.durationSeconds} s measured per run, ${o.rounds} rounds alternated off/on then`,
      'on/off, each gateway in its own child process. Traced: `OTEL_EXPORTER_OTLP_ENDPOINT` to a sink in the parent',
      `that discards \`POST /v1/traces\`; it received ${r.exported.spans} spans in ${r.exported.requests} exports`,
      `(${(r.exported.bytes / 1024 / 1024).toFixed(1)} MiB) for ${r.tracedOperations} traced operations.`,
    ].join('\n'),
  };
}

/** The goals table's row. */
export function tracesGoal(r: TracesResult): [string, string, string] {
  return [
    'traces on (OTLP) cost < 10 % throughput (response cache off)',
    `${((1 - r.throughputRatio) * 100).toFixed(1)} % (ratio ${r.throughputRatio.toFixed(3)})`,
    r.throughputRatio > 0.9 ? 'yes' : '**no**',
  ];
}

function fire(url: string, body: string, connections: number, seconds: number): Promise<autocannon.Result> {
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
