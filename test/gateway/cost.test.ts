import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { FanoutRecorder, FanoutStats } from '../../src/planner/fanout.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

const ROOMY = parseRateLimits('10000/60s');
/**
 * The realistic queries fan out past MAX_OPERATION_CALLS' default (100), the more so on the source table's priors
 * (a fresh gateway has learnt nothing): raised so that each runs whole.
 */
const UNCAPPED = { maxOperationCalls: 10_000 };

/** Realistic queries, from the tenant; `exact` ones have no fan-out the estimate cannot see. */
function queries(g: TestGateway): { name: string; query: string; exact: boolean }[] {
  const t = g.sim.tenant;
  const m = t.machines.find((x) => t.logonUsers(x.id).length > 1 && t.alertsOfMachine(x.id).length > 1)!;
  const user = t.users.find((u) => t.machinesOfUser(u).length > 1 && !u.accountName.includes(' '))!;
  const alerts = t.alerts.slice(10, 15);
  return [
    { name: 'one machine', query: `{ machine(id: "${m.id}") { id osPlatform } }`, exact: true },
    {
      name: 'five alerts by id, with their machines',
      query: `{ ${alerts.map((a, i) => `a${i}: alert(id: "${a.id}") { id machine { computerDnsName } }`).join(' ')} }`,
      exact: true,
    },
    {
      name: 'an alert page',
      query: '{ alerts(first: 50) { nodes { id machine { id computerDnsName } } } }',
      exact: true,
    },
    {
      name: 'a user by name',
      query: `{ user(id: "${user.accountName}") { machines { id } alerts { id } } }`,
      exact: true,
    },
    {
      name: 'a machine with its users and alerts',
      query: `{ machine(id: "${m.id}") { logonUsers { id machines { id } } alerts { id user { accountName } } } }`,
      exact: false,
    },
    {
      name: 'the alert queue',
      query:
        '{ alerts(first: 20) { nodes { id user { machines { logonUsers { id } } } machine { osPlatform } } } }',
      exact: false,
    },
    {
      name: 'a machine page with relationships',
      query:
        '{ machines(first: 10, filter: { healthStatus: [ACTIVE] }) { nodes { id logonUsers { id } alerts { id evidence { sha1 } } } } }',
      exact: false,
    },
  ];
}

type Upstream = {
  calls: number;
  estimate: { min: number; max: number; expected: number };
  byApi: Record<string, { calls: number; estimate?: { min: number; max: number } }>;
};

describe('the cost estimate', () => {
  it('brackets the calls of every query on a cold cache, equals them for simple ones, and is zero when warm', async () => {
    gw = await startTestGateway({ rateLimits: ROOMY, simulator: { rateLimits: ROOMY }, server: UNCAPPED });
    for (const { name, query, exact } of queries(gw)) {
      // A fresh cache per query: the cold figure of each stands alone.
      await gw.close();
      gw = await startTestGateway({ rateLimits: ROOMY, simulator: { rateLimits: ROOMY }, server: UNCAPPED });
      const q = queries(gw).find((x) => x.name === name)!.query;
      const cold = await gw.query(q);
      expect(cold.errors, name).toBeUndefined();
      const up = cold.extensions!.upstream as unknown as Upstream;
      expect(up.calls, name).toBe(gw.sim.calls.length);
      expect(up.estimate.min, name).toBeLessThanOrEqual(up.calls);
      expect(up.estimate.max, name).toBeGreaterThanOrEqual(up.calls);
      for (const [api, { calls, estimate }] of Object.entries(up.byApi)) {
        expect(estimate, `${name} ${api}`).toBeDefined();
        expect(calls, `${name} ${api}`).toBeGreaterThanOrEqual(estimate!.min);
        expect(calls, `${name} ${api}`).toBeLessThanOrEqual(estimate!.max);
      }
      expect(up.estimate.expected, name).toBeGreaterThanOrEqual(up.estimate.min);
      expect(up.estimate.expected, name).toBeLessThanOrEqual(up.estimate.max);
      if (exact)
        expect(up.estimate, name).toMatchObject({ min: up.calls, max: up.calls, expected: up.calls });

      const warm = await gw.query(q);
      expect((warm.extensions!.upstream as unknown as Upstream).estimate, name).toMatchObject({
        min: 0,
        max: 0,
        expected: 0,
      });
      expect((warm.extensions!.upstream as unknown as Upstream).calls, name).toBe(0);
      void query;
    }
  });

  it("estimates from a cached alert's user record (a single entity, not a list): zero, not an error", async () => {
    gw = await startTestGateway();
    const alert = gw.sim.tenant.alerts.find((a) => a.relatedUser !== null)!;
    const query = 'query($id: ID!) { alert(id: $id) { user { accountName firstSeen } } }';
    const cold = await gw.query(query, { id: alert.id });
    expect(cold.errors).toBeUndefined();
    gw.sim.resetCalls();
    // Other (unused) variables: not the same operation for the response cache, so the estimate runs again,
    // over the cached `alerts/{id}` and `alerts/{id}/user` answers.
    const warm = await gw.query(query, { id: alert.id, unused: 1 });
    expect([warm.status, warm.errors, warm.data]).toEqual([200, undefined, cold.data]);
    expect((warm.extensions!.upstream as unknown as Upstream).estimate).toMatchObject({
      min: 0,
      max: 0,
      expected: 0,
    });
    expect(gw.sim.calls).toEqual([]);
  });

  it('refuses an operation whose minimum exceeds the cap, with its cost and zero calls', async () => {
    gw = await startTestGateway({ server: { maxOperationCalls: 5 } });
    const names = [...new Set(gw.sim.tenant.users.map((u) => u.accountName.toLowerCase()))].slice(0, 3);
    const query = `{ ${names.map((n, i) => `u${i}: user(id: ${JSON.stringify(n)}) { machines { id } alerts { id } }`).join(' ')} }`;
    const res = await gw.query(query);
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([
      {
        message:
          'This operation needs at least 6 Defender calls; the cap is 5. `user.machines` fans out to about 3 ' +
          'Defender calls; split the operation into smaller ones.',
        extensions: {
          code: 'QUERY_TOO_EXPENSIVE',
          cost: {
            estimated: 6,
            estimatedMax: 6,
            expected: 6,
            max: 5,
            costliestPath: ['user', 'machines'],
            byApi: {
              'users/{id}/machines': { min: 3, max: 3, expected: 3 },
              'users/{id}/alerts': { min: 3, max: 3, expected: 3 },
            },
          },
        },
      },
    ]);
    expect(gw.sim.calls).toEqual([]);
  });

  it('stops before a fan-out level whose calls would pass the cap when the estimate was too low, and counts it', async () => {
    // Learnt, wrongly, that machines have no logon users: the operation is admitted on 11 expected calls.
    const fanout = new FanoutStats();
    const recorder = new FanoutRecorder();
    for (let i = 0; i < 500; i++) recorder.observe('Machine(record).logonUsers', `m${i}`, 0, []);
    fanout.record(recorder.seen());
    const metrics = createMetrics({ processMetrics: false });
    gw = await startTestGateway({ server: { maxOperationCalls: 16, fanout, metrics } });
    const t = gw.sim.tenant;
    const page = t.machines.slice(0, 10);
    const users = new Set(page.flatMap((m) => t.logonUsers(m.id).map((u) => u.accountName.toLowerCase())));
    // The page and its 10 logon-user lists fit (11 calls); their users' machines (one call each) would not.
    expect(11 + users.size).toBeGreaterThan(16);
    const res = await gw.query('{ machines(first: 10) { nodes { id logonUsers { id machines { id } } } } }');
    const estimate = (res.extensions!.upstream as unknown as Upstream).estimate;
    expect(estimate.expected * 1.25).toBeLessThanOrEqual(16);
    expect(gw.sim.calls.map((c) => c.api).sort()).toEqual([
      'machines',
      ...Array<string>(10).fill('machines/{id}/logonusers'),
    ]);
    expect(res.extensions!.upstream!.calls).toBe(11);
    const codes = new Set(res.errors?.map((e) => e.extensions?.['code']));
    expect([...codes]).toEqual(['QUERY_TOO_EXPENSIVE']);
    expect(res.errors?.[0]?.message).toMatch(/^Stopped before \d+ more Defender calls/);
    expect(res.errors?.[0]?.extensions?.['cost']).toMatchObject({ spent: 11, max: 16 });
    const scrape = await metrics.registry.metrics();
    expect(scrape).toMatch(/^defender_operations_cut_total 1$/m);
    expect(scrape).toMatch(/^defender_wasted_calls_total 11$/m);
  });

  it('refuses bad input before estimating, with no call', async () => {
    gw = await startTestGateway();
    const res = await gw.query('{ machine(id: "nope/../x") { id } alerts(first: 1) { nodes { id } } }');
    expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(res.data).toEqual({ machine: null, alerts: { nodes: [{ id: gw.sim.tenant.alerts[0]!.id }] } });
    expect(gw.sim.calls).toHaveLength(1);
  });
});
