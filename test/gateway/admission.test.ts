import { afterEach, describe, expect, it } from 'vitest';
import Keyv from 'keyv';
import { UpstreamCache } from '../../src/cache/entity-cache.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { call } from '../helpers/simulator.js';
import { values } from '../helpers/http.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

type Up = { calls: number; responseCacheHit?: boolean; estimate?: { min: number; max: number } };

describe('admission and the response cache', () => {
  it('serves a stored result without estimating it, even when admission would refuse the operation now', async () => {
    const store = new Keyv({ serialization: false });
    const cache = new UpstreamCache(store);
    // One call a minute: the first query spends it, so any estimate of one more call is refused (429).
    gw = await startTestGateway({ cache, rateLimits: parseRateLimits('1/60s') });
    const query = `{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id osPlatform } }`;
    const first = await gw.query(query);
    expect(first.status).toBe(200);
    // The entity answers are gone (evicted), the stored result is not: an estimate would count one call again.
    await store.clear();
    const second = await gw.query(query);
    expect([second.status, second.errors, second.data]).toEqual([200, undefined, first.data]);
    expect(second.extensions!.upstream as unknown as Up).toMatchObject({ calls: 0, responseCacheHit: true });
    expect(gw.sim.calls).toHaveLength(1);
    // The same operation asked afresh is estimated, and refused before any call.
    const fresh = await gw.query(query, undefined, { 'cache-control': 'no-cache' });
    expect(fresh.status).toBe(429);
    expect(fresh.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);
    expect(gw.sim.calls).toHaveLength(1);
  });
});

/** The AlertQueue tab: the user of each alert, its machines, and who else logs on to each of them. */
const WALK = '{ alerts(first: 20) { nodes { user { machines { computerDnsName logonUsers { id } } } } } }';

interface Walked {
  alerts: {
    nodes: {
      id: string;
      user: { accountName: string; machines: { id: string; logonUsers: { id: string }[] }[] } | null;
    }[];
  };
}

describe('admission on the expected cost', () => {
  it("refuses the alert queue's walk at the default cap with zero calls, naming the costliest path and a cheaper form", async () => {
    gw = await startTestGateway();
    const res = await gw.query(WALK);
    expect(gw.sim.calls).toEqual([]);
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    const [error] = res.errors!;
    expect(error!.extensions).toMatchObject({
      code: 'QUERY_TOO_EXPENSIVE',
      cost: { max: 100, costliestPath: ['alerts', 'nodes', 'user', 'machines', 'logonUsers'] },
    });
    const cost = error!.extensions!['cost'] as { expected: number; estimated: number };
    expect(cost.expected * 1.25).toBeGreaterThan(100);
    expect(cost.estimated).toBeLessThanOrEqual(100); // admitted on its minimum before
    expect(error!.message).toMatch(
      /`alerts\.nodes\.user\.machines\.logonUsers` fans out to about \d+ Defender calls; ask `machines\(first: \d+\)` or query `logonUsers` per machine \(`machine\(id: …\) \{ logonUsers \{ … \} \}`\)\./,
    );
  });

  it('admits the same walk bounded with first on its nested relationships, and answers it as Defender would', async () => {
    gw = await startTestGateway();
    const bounded =
      '{ alerts(first: 20) { nodes { id user { accountName machines(first: 2) { id logonUsers(first: 2) { id } } } } } }';
    const res = await gw.query<Walked>(bounded);
    expect(res.errors).toBeUndefined();
    const up = res.extensions!.upstream as unknown as { calls: number; estimate: { expected: number } };
    expect(up.calls).toBe(gw.sim.calls.length);
    expect(up.calls).toBeLessThanOrEqual(100);
    expect(up.estimate.expected * 1.25).toBeLessThanOrEqual(100);
    // What Defender says, asked directly: the first 2 machines of each user, the first 2 logon users of each.
    const sim = gw.sim;
    const page = values<{ id: string; relatedUser: { userName: string } | null }>(
      await call(sim, '/api/alerts?$top=20'),
    );
    const expected = await Promise.all(
      page.map(async (alert) => {
        if (!alert.relatedUser) return { id: alert.id, user: null };
        const name = alert.relatedUser.userName;
        const machines = values<{ id: string }>(
          await call(sim, `/api/users/${encodeURIComponent(name)}/machines`),
        ).slice(0, 2);
        return {
          id: alert.id,
          user: {
            accountName: name,
            machines: await Promise.all(
              machines.map(async (m) => ({
                id: m.id,
                logonUsers: values<{ id: string }>(await call(sim, `/api/machines/${m.id}/logonusers`))
                  .slice(0, 2)
                  .map((u) => ({ id: u.id })),
              })),
            ),
          },
        };
      }),
    );
    expect(res.data!.alerts.nodes).toEqual(expected);
    expect(expected.some((n) => n.user && n.user.machines.length === 2)).toBe(true);
  });

  it('refuses with RATE_LIMITED and zero calls when the budget cannot serve the expected calls before the deadline', async () => {
    // Five calls a minute per API: the page fits, its ten machines' logon users do not.
    gw = await startTestGateway({ rateLimits: parseRateLimits('5/60s') });
    const res = await gw.query('{ machines(first: 10) { nodes { id logonUsers { id } } } }');
    expect(gw.sim.calls).toEqual([]);
    expect(res.status).toBe(429);
    expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);
    expect(res.errors?.[0]?.extensions).toMatchObject({
      retryAfterSeconds: expect.any(Number),
      cost: { estimated: 1, expected: 11 },
    });
  });
});
