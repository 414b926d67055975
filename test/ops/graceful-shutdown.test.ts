import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function graphql(
  url: string,
  query: string,
  requestId: string,
): Promise<Answer & { headers: Headers }> {
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
    headers: res.headers,
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

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('SIGTERM', () => {
  /** Short here; long enough to ask readiness and run an operation in it. */
  const READINESS_DELAY_MS = 1_500;
  let child: Child;
  let url: string;
  let inFlight: Answer;
  let queued: Answer;
  let duringDrain: Answer & { headers: Headers };
  let readyAfterSignal: number;
  /** `/readyz`'s answers after the drain request, every 50 ms, up to the first refused connection. */
  const readiness: number[] = [];
  let exitCode: number | null;
  let exitMs: number;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = await startProgram(
      'src/index.ts',
      // One call per 5 s per API: of two operations calling `machines` at once, one waits in the limiter.
      {
        PORT: String(port),
        SIMULATOR_LATENCY_MS: '300',
        DEFENDER_RATE_LIMITS: '1/5s',
        SHUTDOWN_READINESS_DELAY_MS: String(READINESS_DELAY_MS),
      },
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
    await sleep(100);
    readyAfterSignal = await readyz(url);
    duringDrain = await graphql(url, 'query DuringDrain { __typename }', 'req-during-drain');
    while (readiness.at(-1) !== 0 && readiness.length < 300) {
      readiness.push(await readyz(url));
      await sleep(50);
    }
    [inFlight, queued] = await Promise.all([first, second]);
    exitCode = await exited;
    exitMs = Date.now() - signalled;
  }, 40_000);

  afterAll(async () => {
    await child?.stop();
  });

  it('fails readiness at once: /readyz answers 503, the connection is not refused', () => {
    expect(readyAfterSignal).toBe(503);
  });

  it('still serves a request that arrives during the readiness delay, and closes its connection', () => {
    expect(duringDrain.status).toBe(200);
    expect(duringDrain.json.errors).toBeUndefined();
    expect(duringDrain.json.data).toEqual({ __typename: 'Query' });
    expect(duringDrain.headers.get('connection')).toBe('close');
  });

  it('then closes the listener: /readyz answers 503 until its connection is refused, never 200', () => {
    expect(readiness.at(-1)).toBe(0);
    expect(readiness.slice(0, -1).length).toBeGreaterThan(0);
    expect(new Set(readiness.slice(0, -1))).toEqual(new Set([503]));
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
      ['req-during-drain', 'DuringDrain'],
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
