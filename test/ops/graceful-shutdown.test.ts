import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { shutdown } from '../../src/ops/shutdown.js';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';

const INBOUND_TOKEN = 'canary-inbound-token-8d1f5a2c';

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly json: {
    data?: Record<string, unknown> | null;
    errors?: { extensions?: { code?: string; retryAfterSeconds?: number } }[];
  };
}

async function graphql(url: string, query: string, requestId: string): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': requestId,
      authorization: `Bearer ${INBOUND_TOKEN}`,
    },
    body: JSON.stringify({ query }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    json: (await res.json()) as Answer['json'],
  };
}

/** `/readyz`'s status, or 0 when the connection is refused (the listener is closed already). */
async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`)).status;
  } catch {
    return 0;
  }
}

describe('SIGTERM', () => {
  let child: Child;
  let url: string;
  let inFlight: Answer;
  let queued: Answer;
  let readyAfterSignal: number;
  let exitCode: number | null;
  let exitMs: number;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = await startProgram(
      'src/index.ts',
      // One call per 5 s per API: of two operations calling `machines` at once, one waits in the limiter.
      { PORT: String(port), SIMULATOR_LATENCY_MS: '300', DEFENDER_RATE_LIMITS: '1/5s' },
      /GraphQL on/,
      30_000,
    );
    expect(await readyz(url)).toBe(200);
    const exited = new Promise<number | null>((done) => child.process.once('exit', (code) => done(code)));

    const first = graphql(url, 'query InFlight { machines(first: 1) { nodes { id } } }', 'req-in-flight');
    const second = graphql(url, 'query Queued { machines(first: 2) { nodes { id } } }', 'req-queued');
    await new Promise((done) => setTimeout(done, 150));
    const signalled = Date.now();
    process.kill(child.process.pid!, 'SIGTERM');
    await new Promise((done) => setTimeout(done, 20));
    readyAfterSignal = await readyz(url);
    [inFlight, queued] = await Promise.all([first, second]);
    exitCode = await exited;
    exitMs = Date.now() - signalled;
  }, 40_000);

  afterAll(async () => {
    await child?.stop();
  });

  it('fails readiness at once', () => {
    expect([503, 0]).toContain(readyAfterSignal);
  });

  it('lets the request in flight finish', () => {
    expect(inFlight.status).toBe(200);
    expect(inFlight.json.errors).toBeUndefined();
    expect(inFlight.json.data).toMatchObject({ machines: { nodes: [{ id: expect.any(String) }] } });
  });

  it('releases the request queued in the limiter with a retryable error: a 429 with Retry-After', () => {
    expect(queued.json.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    // `machines` is non-null, so its error took the whole operation: refused for budget as a whole.
    expect(queued.json.data).toBeNull();
    expect(queued.status).toBe(429);
    const wait = queued.json.errors![0]!.extensions!.retryAfterSeconds!;
    expect(queued.retryAfter).toBe(String(Math.max(1, Math.ceil(wait))));
  });

  it('exits 0 well within 30 s', () => {
    expect(exitCode).toBe(0);
    expect(exitMs).toBeLessThan(10_000);
  });

  it('logged JSON lines, each request with its id, and no credential', () => {
    const output = child.output();
    const lines = output
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => l['msg'] === 'graphql request');
    expect(requests.map((l) => [l['requestId'], l['operation']]).sort()).toEqual([
      ['req-in-flight', 'InFlight'],
      ['req-queued', 'Queued'],
    ]);
    expect(requests.find((l) => l['operation'] === 'Queued')).toMatchObject({ errorCodes: ['RATE_LIMITED'] });
    expect(requests.find((l) => l['operation'] === 'InFlight')).toMatchObject({
      upstreamCalls: 1,
      durationMs: expect.any(Number),
    });
    expect(lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['defender-graph: shutting down', 'defender-graph: stopped']),
    );
    for (const secret of ['simulator-token', INBOUND_TOKEN, 'Bearer', 'machines(first']) {
      expect(output).not.toContain(secret);
    }
  });
});

describe('shutdown()', () => {
  /** A logger whose lines are kept, parsed. */
  function capturedLogger() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { logger: createLogger('info', stream), lines };
  }

  it('fails readiness and releases waiters before it waits for requests, then closes the rest', async () => {
    const { logger } = capturedLogger();
    const steps: string[] = [];
    await shutdown(
      {
        server: {
          markDraining: () => steps.push('draining'),
          close: async () => void steps.push('server closed'),
          forceCloseConnections: () => steps.push('forced'),
        },
        limiter: { close: () => steps.push('waiters released') },
        closeOthers: async () => void steps.push('simulator closed'),
        logger,
      },
      'SIGTERM',
    );
    expect(steps).toEqual(['draining', 'waiters released', 'server closed', 'simulator closed']);
  });

  it('closes open connections once the grace period is over', async () => {
    const { logger, lines } = capturedLogger();
    let release = () => {};
    const started = Date.now();
    await shutdown(
      {
        server: {
          markDraining: () => {},
          close: () => new Promise<void>((done) => (release = done)),
          forceCloseConnections: () => release(),
        },
        limiter: { close: () => {} },
        logger,
      },
      'SIGTERM',
      { gracePeriodMs: 50 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(lines.at(-1)).toMatchObject({ msg: 'defender-graph: stopped', forced: true });
  });
});
