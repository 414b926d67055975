import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

type Up = { calls: number; cacheHits: number; responseCacheHit?: boolean };
const up = (res: { extensions?: { upstream?: unknown } }) => res.extensions!.upstream as Up;

describe('the response cache', () => {
  it('answers an identical operation from its stored result while its answers are fresh', async () => {
    gw = await startTestGateway();
    const query =
      '{ alerts(first: 5) { nodes { id machine { computerDnsName } user { machines { id } } } } }';
    const first = await gw.query(query);
    const calls = gw.sim.calls.length;
    const second = await gw.query(query);
    expect(second.data).toEqual(first.data);
    expect(up(second)).toMatchObject({ calls: 0, responseCacheHit: true, cacheHits: up(first).calls });
    expect(gw.sim.calls).toHaveLength(calls);
    // Other variables are another operation.
    const other = await gw.query('query($n: Int) { alerts(first: $n) { nodes { id } } }', { n: 2 });
    expect(up(other).responseCacheHit).toBeUndefined();
  });

  it('stops reusing a result when its least fresh answer expires', async () => {
    gw = await startTestGateway({ cacheTtlMs: 300 });
    const query = `{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id } }`;
    await gw.query(query);
    expect(up(await gw.query(query)).responseCacheHit).toBe(true);
    await sleep(350);
    expect(up(await gw.query(query))).toMatchObject({ calls: 1 });
  });

  it('never stores a result with errors, nor one showing the rate-limit budget', async () => {
    gw = await startTestGateway();
    const id = gw.sim.tenant.machines[0]!.id;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 500 }, times: 3 });
    const failed = await gw.query(`{ machine(id: "${id}") { id } }`);
    expect(failed.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    const again = await gw.query(`{ machine(id: "${id}") { id } }`);
    expect(again.data).toEqual({ machine: { id } });
    expect(up(again).responseCacheHit).toBeUndefined();

    const budget = '{ rateLimit { api remaining windowSeconds } }';
    const before = await gw.query<{ rateLimit: { api: string; remaining: number; windowSeconds: number }[] }>(
      budget,
    );
    await gw.query(`{ machine(id: "${gw.sim.tenant.machines[1]!.id}") { id } }`);
    const after = await gw.query<{ rateLimit: { api: string; remaining: number; windowSeconds: number }[] }>(
      budget,
    );
    expect(up(after).responseCacheHit).toBeUndefined();
    const minute = (r: typeof after) =>
      r.data!.rateLimit.find((b) => b.api === 'machines/{id}' && b.windowSeconds === 60)!;
    expect(minute(after).remaining).toBe(minute(before).remaining - 1);
  });

  it('is bypassed by Cache-Control: no-cache', async () => {
    gw = await startTestGateway();
    const query = `{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id } }`;
    await gw.query(query);
    const fresh = await gw.query(query, undefined, { 'cache-control': 'no-cache' });
    expect(up(fresh)).toMatchObject({ calls: 1 });
    expect(up(fresh).responseCacheHit).toBeUndefined();
  });

  it('does not keep a result too large for its share of CACHE_MAX_MB, but still serves it from cached answers', async () => {
    // 2 MiB in all: 614 kB for results, at most 77 kB each; 15 pages of 200 alerts' titles are ~300 kB of JSON.
    gw = await startTestGateway({ cacheMaxMb: 2 });
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: alerts(first: 200) { nodes { id title } }`);
    const wide = `{ ${aliases.join(' ')} }`;
    const first = await gw.query(wide);
    expect(up(first)).toMatchObject({ calls: 1 });
    const second = await gw.query(wide);
    expect(second.data).toEqual(first.data);
    expect(up(second)).toMatchObject({ calls: 0, cacheHits: 15 });
    expect(up(second).responseCacheHit).toBeUndefined();
    // A narrow result is kept as before.
    const narrow = '{ alerts(first: 5) { nodes { id title } } }';
    await gw.query(narrow);
    expect(up(await gw.query(narrow)).responseCacheHit).toBe(true);
    expect(gw.sim.calls).toHaveLength(2);
  });
});
