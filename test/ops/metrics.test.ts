import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_MAX_MB, splitCacheBudget } from '../../src/cache/budget.js';
import type { GatewayMetrics } from '../../src/ops/metrics.js';
import { createMetrics } from '../../src/ops/metrics.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/** One sample of the Prometheus text format: name, labels and value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses the text format line by line (no escaped quotes in our label values). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with this name and these labels (among others); undefined when absent. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe('GET /metrics', () => {
  let gw: TestGateway;
  let metrics: GatewayMetrics;
  let samples: Sample[];
  let contentType: string | null;

  beforeAll(async () => {
    // The gateway's limiter exists only once it starts; the gauge reads it at scrape time.
    metrics = createMetrics({ limiter: { queueDepths: () => gw.limiter.queueDepths() } });
    gw = await startTestGateway({ client: { observer: metrics.observer }, server: { metrics } });

    const list = '{ machines(first: 2) { nodes { id } } }';
    expect((await gw.query(`query Cold ${list}`)).status).toBe(200);
    // Another operation text, so the response cache does not answer it: the upstream cache does.
    const warm = await gw.query(`query Warm ${list}`);
    expect(warm.extensions?.upstream).toMatchObject({ calls: 0, cacheHits: 1 });
    gw.sim.injectFault({ api: 'alerts', fault: { kind: 'throttle', retryAfterSeconds: 1 }, times: 1 });
    const throttled = await gw.query('query Throttled { alerts(first: 1) { nodes { id } } }');
    expect(throttled.status).toBe(200);
    expect(throttled.extensions?.upstream?.calls).toBe(2);
    expect((await gw.query('{ __typename }')).status).toBe(200);

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    contentType = res.headers.get('content-type');
    samples = parse(await res.text());
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('is in the Prometheus text format, with the process metrics', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts upstream calls by API and status, and 429s by API', () => {
    expect(valueOf(samples, 'defender_upstream_calls_total', { api: 'machines', status: '200' })).toBe(1);
    expect(valueOf(samples, 'defender_upstream_calls_total', { api: 'alerts', status: '429' })).toBe(1);
    expect(valueOf(samples, 'defender_upstream_calls_total', { api: 'alerts', status: '200' })).toBe(1);
    expect(valueOf(samples, 'defender_upstream_throttled_total', { api: 'alerts' })).toBe(1);
    expect(valueOf(samples, 'defender_upstream_throttled_total', { api: 'machines' })).toBeUndefined();
  });

  it('counts cache reads by API and result', () => {
    expect(valueOf(samples, 'defender_cache_requests_total', { api: 'machines', result: 'miss' })).toBe(1);
    expect(valueOf(samples, 'defender_cache_requests_total', { api: 'machines', result: 'hit' })).toBe(1);
    expect(valueOf(samples, 'defender_cache_requests_total', { api: 'alerts', result: 'miss' })).toBe(1);
  });

  it('shows the limiter wait per admitted call, the Retry-After pause included', () => {
    expect(valueOf(samples, 'defender_limiter_wait_seconds_count', { api: 'machines' })).toBe(1);
    expect(valueOf(samples, 'defender_limiter_wait_seconds_count', { api: 'alerts' })).toBe(2);
    expect(valueOf(samples, 'defender_limiter_wait_seconds_sum', { api: 'alerts' })).toBeGreaterThan(0.9);
  });

  it('reads the limiter queue depth of every API at scrape time', () => {
    expect(valueOf(samples, 'defender_limiter_queue_depth', { api: 'machines' })).toBe(0);
    expect(valueOf(samples, 'defender_limiter_queue_depth', { api: 'alerts/{id}' })).toBe(0);
  });

  it('has no limiter-sharing series without a budget shared through Redis', () => {
    expect(valueOf(samples, 'defender_limiter_shared')).toBeUndefined();
  });

  it('times GraphQL operations by name, "anonymous" without one', () => {
    for (const operation of ['Cold', 'Warm', 'Throttled', 'anonymous']) {
      expect(valueOf(samples, 'graphql_request_duration_seconds_count', { operation })).toBe(1);
    }
    expect(
      valueOf(samples, 'graphql_request_duration_seconds_sum', { operation: 'Throttled' }),
    ).toBeGreaterThan(0.9);
  });

  it('shows the bytes each in-process cache holds, within its share of CACHE_MAX_MB', () => {
    const budget = splitCacheBudget(DEFAULT_CACHE_MAX_MB);
    for (const cache of ['entities', 'responses', 'documents', 'compiled'] as const) {
      const bytes = valueOf(samples, 'gateway_cache_bytes', { cache });
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThanOrEqual(budget[cache]);
    }
    // No persisted query was registered.
    expect(valueOf(samples, 'gateway_cache_bytes', { cache: 'persistedQueries' })).toBe(0);
  });

  it('needs no token and shows no secret', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).not.toContain('simulator-token');
    expect(text).not.toMatch(/Bearer/i);
  });
});

describe('operation names as labels', () => {
  it('keeps the first names, then counts the rest as "other"', async () => {
    const metrics = createMetrics({ maxOperationNames: 2, processMetrics: false });
    for (const name of ['A', 'B', 'C', 'A', 'D', null]) metrics.observeOperation(name, 0.01);
    const samples = parse(await metrics.registry.metrics());
    const count = (operation: string) =>
      valueOf(samples, 'graphql_request_duration_seconds_count', { operation });
    expect([count('A'), count('B'), count('other'), count('anonymous')]).toEqual([2, 1, 2, 1]);
    expect(count('C')).toBeUndefined();
  });
});

describe('defender_limiter_shared', () => {
  it('reads 1 while the budget is shared and 0 while this replica keeps to its share, at scrape time', async () => {
    const limiter = { shared: true, queueDepths: () => ({}) };
    const metrics = createMetrics({ limiter, processMetrics: false });
    expect(valueOf(parse(await metrics.registry.metrics()), 'defender_limiter_shared')).toBe(1);
    limiter.shared = false;
    expect(valueOf(parse(await metrics.registry.metrics()), 'defender_limiter_shared')).toBe(0);
  });
});
