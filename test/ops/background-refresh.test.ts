import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayMetrics } from '../../src/ops/metrics.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { GraphQLResponse, TestGateway } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';

/**
 * Stale-while-revalidate: an operation that reads a stale answer gets it at once and shows a stale hit; the
 * refresh it triggers is the gateway's own call, which the simulator sees, which `/metrics` counts per API (in
 * `defender_upstream_calls_total` like every request, and by outcome in `defender_background_refreshes_total`),
 * and which no operation's `extensions.upstream.calls` includes.
 */

const API = 'machines/{id}';
/** Long enough that "fresh again" holds on a loaded machine; every wait past it is TTL_MS + 30. */
const TTL_MS = 250;

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

async function start(rateLimits: string): Promise<{ gw: TestGateway; metrics: GatewayMetrics }> {
  const metrics = createMetrics({ processMetrics: false });
  const started = await startTestGateway({
    rateLimits: parseRateLimits(rateLimits),
    cacheTtlMs: TTL_MS,
    client: { staleMs: 60_000, observer: metrics.observer },
    server: { metrics },
  });
  return { gw: started, metrics };
}

/** The value of one counter series; 0 when it has no series yet. */
async function counter(metrics: GatewayMetrics, name: string, labels: Record<string, string>) {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  const sample = metric.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return sample?.value ?? 0;
}

/** Waits (briefly, polling) until a background refresh with this outcome has been counted `n` times. */
async function refreshes(metrics: GatewayMetrics, outcome: string, n: number) {
  for (let i = 0; i < 200; i++) {
    if ((await counter(metrics, 'defender_background_refreshes_total', { api: API, outcome })) >= n) return;
    await sleep(5);
  }
  throw new Error(`no ${outcome} refresh counted`);
}

const upstream = (res: GraphQLResponse) => res.extensions!.upstream!;

describe('background refreshes', () => {
  it('are the gateway’s calls: seen upstream and in /metrics per API, never in the reading operation’s calls', async () => {
    const started = await start('100/60s');
    gw = started.gw;
    const { metrics } = started;
    const id = gw.sim.tenant.machines[0]!.id;
    const query = `{ machine(id: "${id}") { id } }`;

    const first = await gw.query(query);
    expect(upstream(first)).toMatchObject({ calls: 1, staleHits: 0 });
    await sleep(TTL_MS + 30);

    const stale = await gw.query(query);
    expect(stale.data).toEqual({ machine: { id } });
    expect(upstream(stale)).toMatchObject({
      calls: 0,
      cacheHits: 1,
      staleHits: 1,
      byApi: { [API]: { calls: 0, cacheHits: 1 } },
    });
    await refreshes(metrics, 'refreshed', 1);
    // The refresh reached Defender: the simulator saw it, after the operation's own call.
    expect(callsTo(gw.sim.calls, API).map((c) => [c.id, c.status])).toEqual([
      [id, 200],
      [id, 200],
    ]);
    // One request counted per API, whoever sent it: the operation's and the refresh's.
    expect(await counter(metrics, 'defender_upstream_calls_total', { api: API, status: '200' })).toBe(2);

    // The refreshed answer is fresh again: no stale hit, no call.
    const fresh = await gw.query(query);
    expect(upstream(fresh)).toMatchObject({ calls: 0, cacheHits: 1, staleHits: 0 });
    expect(callsTo(gw.sim.calls, API)).toHaveLength(2);
  });

  it('are counted by outcome: throttled, failed, and skipped when the budget has no free slot', async () => {
    // Four slots: the operation's call, then three refreshes; the fourth refresh finds none.
    const started = await start('4/60s');
    gw = started.gw;
    const { metrics } = started;
    const id = gw.sim.tenant.machines[0]!.id;
    const query = `{ machine(id: "${id}") { id } }`;
    const readStale = async () => {
      await sleep(TTL_MS + 30);
      const res = await gw!.query(query);
      expect(res.data).toEqual({ machine: { id } });
      expect(upstream(res)).toMatchObject({ calls: 0, staleHits: 1 });
    };

    await gw.query(query);
    gw.sim.injectFault({ api: API, fault: { kind: 'throttle', retryAfterSeconds: 0 }, times: 1 });
    await readStale();
    await refreshes(metrics, 'throttled', 1);
    gw.sim.injectFault({ api: API, fault: { kind: 'status', status: 500 }, times: 1 });
    await readStale();
    await refreshes(metrics, 'failed', 1);
    await readStale();
    await refreshes(metrics, 'refreshed', 1);
    await readStale();
    await refreshes(metrics, 'skipped', 1);

    expect(callsTo(gw.sim.calls, API).map((c) => c.status)).toEqual([200, 429, 500, 200]);
    const calls = (status: string) => counter(metrics, 'defender_upstream_calls_total', { api: API, status });
    expect([await calls('200'), await calls('429'), await calls('500')]).toEqual([2, 1, 1]);
    const outcomes = ['refreshed', 'throttled', 'failed', 'skipped'];
    const counted = await Promise.all(
      outcomes.map((outcome) =>
        counter(metrics, 'defender_background_refreshes_total', { api: API, outcome }),
      ),
    );
    expect(counted).toEqual([1, 1, 1, 1]);
  });
});
