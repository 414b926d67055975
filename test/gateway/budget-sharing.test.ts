import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

type Up = { calls: number; cacheHits: number; sharedCalls: number; staleHits: number };
const up = (res: { extensions?: { upstream?: unknown } }) => res.extensions!.upstream as Up;

describe('sharing the budget', () => {
  it('shares one upstream call between concurrent operations asking the same thing', async () => {
    gw = await startTestGateway({ simulator: { latencyMs: 150 } });
    const id = gw.sim.tenant.machines[0]!.id;
    const query = `{ machine(id: "${id}") { id logonUsers { id } } }`;
    const results = await Promise.all([gw.query(query), gw.query(query), gw.query(query)]);
    expect(results.map((r) => r.data)).toEqual([results[0]!.data, results[0]!.data, results[0]!.data]);
    expect(gw.sim.calls.map((c) => c.api).sort()).toEqual(['machines/{id}', 'machines/{id}/logonusers']);
    expect(results.reduce((n, r) => n + up(r).calls, 0)).toBe(2);
    expect(results.reduce((n, r) => n + up(r).sharedCalls, 0)).toBe(4);
  });

  it('serves a stale answer at once when the budget is spent, and refreshes it once a slot is free', async () => {
    const limits = parseRateLimits('1/2s');
    gw = await startTestGateway({ rateLimits: limits, cacheTtlMs: 400, client: { staleMs: 60_000 } });
    const id = gw.sim.tenant.machines[0]!.id;
    const query = `{ machine(id: "${id}") { id } }`;
    expect(up(await gw.query(query))).toMatchObject({ calls: 1 });
    await sleep(500);
    // Past its TTL, and the only slot of the window is spent: the stale answer, at once, without a call.
    const started = Date.now();
    const stale = await gw.query(query);
    expect(Date.now() - started).toBeLessThan(500);
    expect(stale.data).toEqual({ machine: { id } });
    expect(up(stale)).toMatchObject({ calls: 0, cacheHits: 1, staleHits: 1 });
    expect(gw.sim.calls).toHaveLength(1);
    // Once the window has room, a stale hit refreshes the answer in the background.
    await sleep(1_900); // the 2 s window and its 250 ms margin
    expect(up(await gw.query(query))).toMatchObject({ calls: 0, staleHits: 1 });
    for (let i = 0; i < 20 && gw.sim.calls.length < 2; i++) await sleep(10);
    expect(gw.sim.calls.map((c) => c.status)).toEqual([200, 200]);
    const fresh = await gw.query(query);
    expect(up(fresh)).toMatchObject({ calls: 0, cacheHits: 1, staleHits: 0 });
  });

  it('reads past the cache when the client sends Cache-Control: no-cache', async () => {
    gw = await startTestGateway();
    const id = gw.sim.tenant.machines[0]!.id;
    const query = `{ machine(id: "${id}") { id } }`;
    await gw.query(query);
    const fresh = await gw.query(query, undefined, { 'cache-control': 'no-cache' });
    expect(up(fresh)).toMatchObject({ calls: 1, cacheHits: 0 });
    expect(gw.sim.calls).toHaveLength(2);
    expect(up(await gw.query(query))).toMatchObject({ calls: 0, cacheHits: 1 });
  });

  it('gives a light caller its fair share while a heavy caller has queued far more', async () => {
    const limits = parseRateLimits('4/1s');
    gw = await startTestGateway({ rateLimits: limits, server: { requestDeadlineMs: 30_000 } });
    const machines = gw.sim.tenant.machines;
    const heavy = machines
      .slice(0, 24)
      .map((m) => gw!.query(`{ machine(id: "${m.id}") { id } }`, undefined, { 'x-client-name': 'heavy' }));
    await sleep(50);
    const light = machines
      .slice(100, 104)
      .map((m) => gw!.query(`{ machine(id: "${m.id}") { id } }`, undefined, { 'x-client-name': 'light' }));
    await Promise.all([...heavy, ...light]);
    const order = gw.sim.calls.map((c) =>
      machines.slice(100, 104).some((m) => m.id === c.id) ? 'light' : 'heavy',
    );
    expect(order.filter((o) => o === 'light')).toHaveLength(4);
    // Served in turn: the light caller's 4 calls go among the first 4 + 4 + the heavy calls already admitted,
    // not after the heavy caller's 24.
    const lastLight = order.lastIndexOf('light');
    expect(lastLight).toBeLessThan(4 + 8);
    expect(gw.sim.calls.filter((c) => c.status === 429)).toEqual([]);
  }, 30_000);
});
