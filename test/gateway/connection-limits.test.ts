import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import type { GatewayMetrics } from '../../src/ops/metrics.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';
import type { RawConnection } from '../helpers/socket.js';
import { httpRequest, rawConnection } from '../helpers/socket.js';

/**
 * What one caller's connections may hold: each limit is configured short, and a raw socket does what an
 * attacker does (sends slowly, sends nothing, stays idle, opens too many connections).
 */

/** The value of a metric without labels, as scraped. */
async function metricValue(metrics: GatewayMetrics, name: string): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('timeouts and header size', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({
      server: {
        http: {
          requestTimeoutMs: 1_000,
          headersTimeoutMs: 500,
          keepAliveTimeoutMs: 300,
          maxHeaderBytes: 4_096,
        },
      },
    });
  });
  afterAll(() => gateway.close());

  it('closes a connection whose body comes one byte at a time once the request timeout passes (408)', async () => {
    const conn = await rawConnection(gateway.url);
    const body = JSON.stringify({ query: `{ machines(first: 1) { nodes { id } } }`.padEnd(200) });
    conn.socket.write(
      httpRequest('POST', '/graphql', {
        'content-type': 'application/json',
        'content-length': String(body.length),
      }),
    );
    let sent = 0;
    const drip = setInterval(() => {
      if (!conn.isClosed() && sent < body.length) conn.socket.write(body[sent++]!);
    }, 100);
    try {
      expect(await conn.closedWithin(5_000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(sent).toBeLessThan(body.length);
    expect(gateway.sim.calls).toEqual([]);
  });

  it('closes a connection that sends nothing once the headers timeout passes (408)', async () => {
    const conn = await rawConnection(gateway.url);
    expect(await conn.closedWithin(5_000)).toBe(true);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose headers never end once the headers timeout passes (408)', async () => {
    const conn = await rawConnection(gateway.url);
    conn.socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n');
    const drip = setInterval(() => conn.isClosed() || conn.socket.write('x-slow: 1\r\n'), 100);
    try {
      expect(await conn.closedWithin(5_000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a kept-alive connection that stays idle after its answer', async () => {
    const conn = await rawConnection(gateway.url);
    conn.socket.write(httpRequest('GET', '/healthz'));
    await conn.receive(/\r\n\r\n\{"status":"ok"\}/);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(conn.received()).toMatch(/\r\nconnection: keep-alive\r\n/i);
    expect(await conn.closedWithin(5_000)).toBe(true);
    // Closed quietly by the keep-alive timeout, not answered 408 as a request that never came.
    expect(conn.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('refuses headers larger than the limit with 431 and closes the connection', async () => {
    const conn = await rawConnection(gateway.url);
    conn.socket.write(httpRequest('GET', '/healthz', { 'x-padding': 'a'.repeat(6_000) }));
    expect(await conn.closedWithin(5_000)).toBe(true);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers a request whose headers are within the limit', async () => {
    const conn = await rawConnection(gateway.url);
    try {
      conn.socket.write(httpRequest('GET', '/healthz', { 'x-padding': 'a'.repeat(3_000) }));
      expect(await conn.receive(/\{"status":"ok"\}/)).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      conn.close();
    }
  });
});

describe('the connection cap', () => {
  let gateway: TestGateway;
  const metrics = createMetrics({ processMetrics: false });
  const open: RawConnection[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({ server: { http: { maxConnections: 3 }, metrics } });
  });
  afterAll(async () => {
    for (const conn of open) conn.close();
    await gateway.close();
  });

  /** Resolves once the server counts `n` open connections (it accepts them a moment after the client connects). */
  async function serverHolds(n: number): Promise<void> {
    for (let i = 0; i < 100; i += 1) {
      const count = await new Promise<number>((done, fail) =>
        gateway.server.app.server.getConnections((error, c) => (error ? fail(error) : done(c))),
      );
      if (count === n) return;
      await sleep(20);
    }
    throw new Error(`the server never held ${n} connections`);
  }

  it('closes connections beyond the cap at once, while the first ones still work', async () => {
    for (let i = 0; i < 3; i += 1) open.push(await rawConnection(gateway.url));
    await serverHolds(3);

    const extra = await rawConnection(gateway.url);
    expect(await extra.closedWithin(2_000)).toBe(true);
    expect(extra.received()).toBe('');
    expect(await metricValue(metrics, 'http_connections_dropped_total')).toBe(1);

    for (const conn of open) {
      conn.socket.write(httpRequest('GET', '/healthz'));
      expect(await conn.receive(/\{"status":"ok"\}/)).toMatch(/^HTTP\/1\.1 200 /);
    }
  });

  it('accepts a new connection once one of them closes', async () => {
    open.shift()!.close();
    await serverHolds(2);
    const next = await rawConnection(gateway.url);
    open.push(next);
    next.socket.write(httpRequest('GET', '/healthz'));
    expect(await next.receive(/\{"status":"ok"\}/)).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('the in-flight operations cap', () => {
  let gateway: TestGateway;
  const metrics = createMetrics({ processMetrics: false });
  // Every upstream call takes a second, which holds operations in flight.
  const LATENCY_MS = 1_000;

  beforeAll(async () => {
    gateway = await startTestGateway({
      simulator: { latencyMs: LATENCY_MS },
      server: {
        maxInFlightOperations: 2,
        metrics,
        responseCache: false,
        // Shorter than one operation: the request timeout counts while the request arrives, not while it runs.
        http: { requestTimeoutMs: 400, headersTimeoutMs: 200 },
      },
    });
  });
  afterAll(() => gateway.close());

  it('answers the operation past the cap at once with 503, Retry-After and RATE_LIMITED, calling nothing', async () => {
    const first = gateway.query('{ machines(first: 1) { nodes { id } } }');
    const second = gateway.query('{ machines(first: 2) { nodes { id } } }');
    while (gateway.sim.calls.length < 2) await sleep(10);
    expect(await metricValue(metrics, 'graphql_operations_in_flight')).toBe(2);

    const res = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ machines(first: 3) { nodes { id } } }' }),
    });
    const callsWhenRefused = gateway.sim.calls.length;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      errors: [
        {
          message: expect.any(String),
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
        },
      ],
    });
    expect(callsWhenRefused).toBe(2);
    expect(await metricValue(metrics, 'graphql_operations_shed_total')).toBe(1);

    const answers = await Promise.all([first, second]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
    }
    // Each page is asked for with one more row (`first` + 1, for hasNextPage): the refused operation's
    // `$top=4` never reached Defender.
    expect(callKeys(gateway.sim.calls).sort()).toEqual(['machines?$top=2', 'machines?$top=3']);
  });

  it('takes operations again once the running ones are answered', async () => {
    while ((await metricValue(metrics, 'graphql_operations_in_flight')) !== 0) await sleep(10);
    const answers = await Promise.all([
      gateway.query('{ machines(first: 4) { nodes { id } } }'),
      gateway.query('{ machines(first: 5) { nodes { id } } }'),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
    }
  });

  it('frees the place of an operation whose client went away', async () => {
    const calls = gateway.sim.calls.length;
    const abort = new AbortController();
    const abandoned = fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ machines(first: 6) { nodes { id } } }' }),
      signal: abort.signal,
    }).catch(() => undefined);
    while (gateway.sim.calls.length === calls) await sleep(10);
    abort.abort();
    await abandoned;
    while ((await metricValue(metrics, 'graphql_operations_in_flight')) !== 0) await sleep(10);
  });
});

describe('the socket timeout', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    // An upstream call slower than the socket timeout: the connection is silent both ways while it runs.
    // (config.ts refuses HTTP_SOCKET_TIMEOUT_MS ≤ REQUEST_DEADLINE_MS + DEFENDER_TIMEOUT_MS for this reason.)
    gateway = await startTestGateway({
      simulator: { latencyMs: 3_000 },
      server: { http: { socketTimeoutMs: 500 } },
    });
  });
  afterAll(() => gateway.close());

  it('destroys a connection on which nothing moves either way for that long', async () => {
    const conn = await rawConnection(gateway.url);
    const body = JSON.stringify({ query: '{ machines(first: 1) { nodes { id } } }' });
    conn.socket.write(
      httpRequest('POST', '/graphql', {
        'content-type': 'application/json',
        'content-length': String(body.length),
      }) + body,
    );
    expect(await conn.closedWithin(2_500)).toBe(true);
    expect(conn.received()).toBe('');
    expect(gateway.sim.calls).toHaveLength(1);
  });
});
