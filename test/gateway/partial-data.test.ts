import { afterEach, describe, expect, it } from 'vitest';
import { FanoutRecorder, FanoutStats } from '../../src/planner/fanout.js';
import type { MachineDto } from '../../src/defender/types.js';
import type { FaultRule } from '../../src/simulator/faults.js';
import type { SimulatorCall } from '../../src/simulator/server.js';
import type { TestGateway, TestGatewayOptions } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

/**
 * Partial data that survives: a relationship list that fails is null with its error at exactly its path,
 * while its parent's record and its sibling fields (and sibling items of a list) keep their data. Every
 * failure kind the client knows is produced by the simulator on one route, or one entity of a route.
 */

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

/** Each call as `api id?query status`, sorted: concurrent relationships arrive in no fixed order. */
function callsWithStatus(calls: readonly SimulatorCall[]): string[] {
  const keys = callKeys(calls);
  return calls.map((c, i) => `${keys[i]} ${c.status}`).sort();
}

const MACHINE_QUERY = (id: string) =>
  `{ machine(id: "${id}") { id osPlatform logonUsers { id } alerts { id } } }`;

/** A machine with logon users and alerts, so that both relationships have data to keep or lose. */
function machineWithBoth(gateway: TestGateway, skip = 0): MachineDto {
  const t = gateway.sim.tenant;
  const found = t.machines.filter((m) => t.logonUsers(m.id).length > 0 && t.alertsOfMachine(m.id).length > 0);
  return found[skip]!;
}

/** What `MACHINE_QUERY` answers when `/logonusers` failed: the record and its alerts, `logonUsers` null. */
function withoutLogonUsers(gateway: TestGateway, m: MachineDto) {
  const alerts = gateway.sim.tenant.alertsOfMachine(m.id).map((a) => ({ id: a.id }));
  return { machine: { id: m.id, osPlatform: m.osPlatform, logonUsers: null, alerts } };
}

/** One error at `machine.logonUsers`, with exactly these extensions. */
function logonUsersError(message: string, extensions: Record<string, unknown>) {
  return [{ message, locations: expect.any(Array), path: ['machine', 'logonUsers'], extensions }];
}

/** A gateway without an upstream cache whose every `/logonusers` call meets `fault`. */
async function failingLogonUsers(
  options: TestGatewayOptions,
  fault: FaultRule['fault'],
): Promise<TestGateway> {
  gw = await startTestGateway({ cacheTtlMs: 0, ...options });
  gw.sim.injectFault({ api: 'machines/{id}/logonusers', fault });
  return gw;
}

describe('a failed relationship is null with its error; its parent and siblings keep their data', () => {
  it('Defender failing with 5xx after the retries: UPSTREAM_UNAVAILABLE at machine.logonUsers', async () => {
    const g = await failingLogonUsers({ client: { maxRetries: 2 } }, { kind: 'status', status: 500 });
    const m = machineWithBoth(g);
    const res = await g.query(MACHINE_QUERY(m.id));
    expect(res.status).toBe(200);
    expect(res.data).toEqual(withoutLogonUsers(g, m));
    expect(res.errors).toEqual(
      logonUsersError('Defender did not answer machines/{id}/logonusers.', { code: 'UPSTREAM_UNAVAILABLE' }),
    );
    expect(callsWithStatus(g.sim.calls)).toEqual(
      [
        `machines/{id} ${m.id} 200`,
        `machines/{id}/alerts ${m.id} 200`,
        ...Array.from({ length: 3 }, () => `machines/{id}/logonusers ${m.id} 500`),
      ].sort(),
    );
    expect(res.extensions!.upstream).toMatchObject({ calls: 5, cacheHits: 0 });
  });

  it('a call that times out: UPSTREAM_UNAVAILABLE at machine.logonUsers', async () => {
    const g = await failingLogonUsers({ client: { timeoutMs: 200, maxRetries: 1 } }, { kind: 'hang' });
    const m = machineWithBoth(g);
    const res = await g.query(MACHINE_QUERY(m.id));
    expect(res.data).toEqual(withoutLogonUsers(g, m));
    expect(res.errors).toEqual(
      logonUsersError('Defender did not answer machines/{id}/logonusers.', { code: 'UPSTREAM_UNAVAILABLE' }),
    );
    // Two attempts left hanging (status 0), each cut at the timeout.
    expect(callsWithStatus(g.sim.calls)).toEqual(
      [
        `machines/{id} ${m.id} 200`,
        `machines/{id}/alerts ${m.id} 200`,
        `machines/{id}/logonusers ${m.id} 0`,
        `machines/{id}/logonusers ${m.id} 0`,
      ].sort(),
    );
    expect(res.extensions!.upstream).toMatchObject({ calls: 4, cacheHits: 0 });
  });

  it('Defender throttling beyond the retries: RATE_LIMITED with retryAfterSeconds at machine.logonUsers, HTTP 200', async () => {
    const g = await failingLogonUsers(
      { client: { maxThrottleRetries: 0 } },
      { kind: 'throttle', retryAfterSeconds: 7 },
    );
    const m = machineWithBoth(g);
    const res = await g.query(MACHINE_QUERY(m.id));
    // Not a 429: the operation was answered, only one field was refused.
    expect(res.status).toBe(200);
    expect(res.data).toEqual(withoutLogonUsers(g, m));
    expect(res.errors).toEqual(
      logonUsersError('Defender is throttling machines/{id}/logonusers; retry later.', {
        code: 'RATE_LIMITED',
        retryAfterSeconds: 7,
      }),
    );
    expect(callsWithStatus(g.sim.calls)).toEqual(
      [
        `machines/{id} ${m.id} 200`,
        `machines/{id}/alerts ${m.id} 200`,
        `machines/{id}/logonusers ${m.id} 429`,
      ].sort(),
    );
    expect(res.extensions!.upstream).toMatchObject({ calls: 3, cacheHits: 0 });
  });

  it('an answer that is not the documented shape: UPSTREAM_BAD_RESPONSE at machine.logonUsers, not retried', async () => {
    const g = await failingLogonUsers({}, { kind: 'malformed' });
    const m = machineWithBoth(g);
    const res = await g.query(MACHINE_QUERY(m.id));
    expect(res.data).toEqual(withoutLogonUsers(g, m));
    expect(res.errors).toEqual(
      logonUsersError('Defender answered something that is not JSON.', {
        code: 'UPSTREAM_BAD_RESPONSE',
      }),
    );
    expect(callsWithStatus(g.sim.calls)).toEqual(
      [
        `machines/{id} ${m.id} 200`,
        `machines/{id}/alerts ${m.id} 200`,
        `machines/{id}/logonusers ${m.id} 200`,
      ].sort(),
    );
  });

  it('an open circuit breaker: UPSTREAM_UNAVAILABLE at machine.logonUsers with no call to it', async () => {
    const g = await failingLogonUsers(
      { client: { maxRetries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000 } },
      { kind: 'status', status: 503 },
    );
    const [m1, m2] = [machineWithBoth(g, 0), machineWithBoth(g, 1)];
    // One failed call opens the breaker of /logonusers.
    const first = await g.query(MACHINE_QUERY(m1.id));
    expect(first.data).toEqual(withoutLogonUsers(g, m1));
    g.sim.resetCalls();

    const res = await g.query(MACHINE_QUERY(m2.id));
    expect(res.data).toEqual(withoutLogonUsers(g, m2));
    expect(res.errors).toEqual(
      logonUsersError('Defender is failing on machines/{id}/logonusers; retry later.', {
        code: 'UPSTREAM_UNAVAILABLE',
        retryAfterSeconds: 60,
      }),
    );
    expect(callsWithStatus(g.sim.calls)).toEqual(
      [`machines/{id} ${m2.id} 200`, `machines/{id}/alerts ${m2.id} 200`].sort(),
    );
    expect(res.extensions!.upstream).toMatchObject({ calls: 2, cacheHits: 0 });
  });

  it('never keeps a result with errors: the same query, once Defender recovers, calls the failed route again', async () => {
    gw = await startTestGateway({ client: { maxRetries: 2 } });
    const m = machineWithBoth(gw);
    gw.sim.injectFault({ api: 'machines/{id}/logonusers', fault: { kind: 'status', status: 500 }, times: 3 });
    const failed = await gw.query(MACHINE_QUERY(m.id));
    expect(failed.data).toEqual(withoutLogonUsers(gw, m));
    gw.sim.resetCalls();

    const res = await gw.query(MACHINE_QUERY(m.id));
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      machine: {
        ...withoutLogonUsers(gw, m).machine,
        logonUsers: gw.sim.tenant.logonUsers(m.id).map((u) => ({ id: u.id })),
      },
    });
    // The machine and its alerts come from the upstream cache; only the failed route is called again.
    expect(callsWithStatus(gw.sim.calls)).toEqual([`machines/{id}/logonusers ${m.id} 200`]);
    expect(res.extensions!.upstream).toMatchObject({ calls: 1, cacheHits: 2 });
  });
});

describe('inside a list, only the failed item loses its relationship', () => {
  it("one user's machines failing nulls that user's machines alone", async () => {
    gw = await startTestGateway({ cacheTtlMs: 0, client: { maxRetries: 2 } });
    const t = gw.sim.tenant;
    const query = '{ alerts(first: 5) { nodes { id user { accountName machines { id } } } } }';
    const healthy = await gw.query<{
      alerts: { nodes: { id: string; user: { accountName: string; machines: { id: string }[] } | null }[] };
    }>(query);
    expect(healthy.errors).toBeUndefined();
    const nodes = healthy.data!.alerts.nodes;
    expect(nodes.map((n) => n.id)).toEqual(t.alerts.slice(0, 5).map((a) => a.id));
    const users = nodes.filter((n) => n.user !== null).map((n) => n.user!);
    const { accountName } = users[0]!;
    const same = (u: { accountName: string } | null) =>
      u?.accountName.toLowerCase() === accountName.toLowerCase();
    // Other users in the page, with machines, to keep theirs.
    expect(users.filter((u) => !same(u) && u.machines.length > 0).length).toBeGreaterThan(0);
    gw.sim.resetCalls();

    gw.sim.injectFault({
      api: 'users/{id}/machines',
      id: accountName,
      fault: { kind: 'status', status: 503 },
    });
    // The healthy result may be stored: ask past the response cache.
    const res = await gw.query(query, undefined, { 'cache-control': 'no-cache' });
    expect(res.status).toBe(200);
    const failed = nodes.flatMap((n, i) => (same(n.user) ? [i] : []));
    expect(res.data).toEqual({
      alerts: {
        nodes: nodes.map((n, i) => (failed.includes(i) ? { ...n, user: { ...n.user!, machines: null } } : n)),
      },
    });
    expect(res.errors).toEqual(
      failed.map((i) => ({
        message: 'Defender did not answer users/{id}/machines.',
        locations: expect.any(Array),
        path: ['alerts', 'nodes', i, 'user', 'machines'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      })),
    );
    // The page, each distinct account's machines once, and the failing one's attempts (three, all 503).
    const accounts = [...new Set(users.map((u) => u.accountName.toLowerCase()))];
    const statuses = callsWithStatus(gw.sim.calls).map((k) => k.toLowerCase());
    expect(statuses.filter((k) => k.startsWith('alerts?'))).toHaveLength(1);
    expect(statuses.filter((k) => !k.startsWith('alerts?'))).toEqual(
      accounts
        .flatMap((a) =>
          a === accountName.toLowerCase()
            ? Array.from({ length: 3 }, () => `users/{id}/machines ${a} 503`)
            : [`users/{id}/machines ${a} 200`],
        )
        .sort(),
    );
  });

  it('a fan-out level cut at the operation cap is null with QUERY_TOO_EXPENSIVE; the level above keeps its data', async () => {
    // Learnt, wrongly, that an account logs on to one machine: admitted on 2 expected calls under a cap of 3.
    const fanout = new FanoutStats();
    const recorder = new FanoutRecorder();
    for (let i = 0; i < 500; i++) recorder.observe('User(nameRef).machines', `u${i}`, 1, [`m${i}`]);
    fanout.record(recorder.seen());
    gw = await startTestGateway({ cacheTtlMs: 0, server: { maxOperationCalls: 3, fanout } });
    const t = gw.sim.tenant;
    const user = t.users.find(
      (u) => t.machinesOfUser(u).length >= 3 && t.usersByAccountName(u.accountName).length === 1,
    )!;
    const machines = t.machinesOfUser(user);
    const res = await gw.query<{ user: { machines: { id: string; logonUsers: { id: string }[] | null }[] } }>(
      `{ user(id: ${JSON.stringify(user.accountName)}) { accountName machines { id logonUsers { id } } } }`,
    );
    expect(res.status).toBe(200);
    // The machines' logon users need one call each, more than the cap leaves: none of them is started.
    expect(callKeys(gw.sim.calls)).toEqual([`users/{id}/machines ${user.accountName}`]);
    expect(res.data).toEqual({
      user: {
        accountName: user.accountName,
        machines: machines.map((m) => ({ id: m.id, logonUsers: null })),
      },
    });
    expect(res.errors?.map((e) => [e.path, e.extensions?.['code']])).toEqual(
      machines.map((_, i) => [['user', 'machines', i, 'logonUsers'], 'QUERY_TOO_EXPENSIVE']),
    );
    expect(res.extensions!.upstream).toMatchObject({ calls: 1, cacheHits: 0 });
  });
});

describe('a failed item of a batched lookup never fails its siblings', () => {
  it("one alert's machine failing nulls that alert's machine alone; the cached one keeps its record", async () => {
    gw = await startTestGateway({ client: { maxRetries: 2 } });
    const t = gw.sim.tenant;
    const [a1, a2] = [t.alerts[0]!, t.alerts.find((a) => a.machineId !== t.alerts[0]!.machineId)!];
    const [m1, m2] = [t.machineById(a1.machineId!)!, t.machineById(a2.machineId!)!];
    expect((await gw.query(`{ machine(id: "${m1.id}") { id } }`)).errors).toBeUndefined();
    gw.sim.resetCalls();
    gw.sim.injectFault({ api: 'machines/{id}', id: m2.id, fault: { kind: 'status', status: 500 } });

    const res = await gw.query<{ alerts: { nodes: { id: string }[] } }>(
      `{ alerts(filter: { ids: ["${a1.id}", "${a2.id}"] }) { nodes { id machine { id osPlatform } } } }`,
    );
    const order = res.data!.alerts.nodes.map((n) => n.id);
    expect([...order].sort()).toEqual([a1.id, a2.id].sort());
    const i2 = order.indexOf(a2.id);
    expect(res.data!.alerts.nodes).toEqual(
      order.map((id) =>
        id === a1.id ? { id, machine: { id: m1.id, osPlatform: m1.osPlatform } } : { id, machine: null },
      ),
    );
    expect(res.errors).toEqual([
      {
        message: 'Defender did not answer machines/{id}.',
        locations: expect.any(Array),
        path: ['alerts', 'nodes', i2, 'machine'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      },
    ]);
    // The page, then the one machine not cached, three times (all 500); the other came from the cache.
    const keys = callsWithStatus(gw.sim.calls);
    expect(keys.filter((k) => !k.startsWith('alerts?'))).toEqual(
      Array.from({ length: 3 }, () => `machines/{id} ${m2.id} 500`),
    );
    expect(keys.filter((k) => k.startsWith('alerts?'))).toHaveLength(1);
    expect(res.extensions!.upstream).toMatchObject({ calls: 4, cacheHits: 1 });
  });

  it("a failed chunk of a batched lookup nulls its own alerts' machines alone", async () => {
    // One machine per `$filter=id in (…)` call, no retry: the first chunk's call fails, the others answer.
    gw = await startTestGateway({ client: { maxRetries: 0 }, server: { machineBatchSize: 1 } });
    const t = gw.sim.tenant;
    const picked = [
      ...new Map(t.alerts.filter((a) => a.machineId).map((a) => [a.machineId, a])).values(),
    ].slice(0, 3);
    gw.sim.injectFault({ api: 'machines', fault: { kind: 'status', status: 500 }, times: 1 });

    const res = await gw.query<{ alerts: { nodes: { id: string }[] } }>(
      `{ alerts(filter: { ids: ${JSON.stringify(picked.map((a) => a.id))} }) { nodes { id machine { osPlatform } } } }`,
    );
    const chunks = gw.sim.calls.filter((c) => c.api === 'machines');
    expect(chunks.map((c) => c.query['$top'])).toEqual(['1', '1', '1']);
    const failedCall = chunks.find((c) => c.status === 500)!;
    expect(chunks.filter((c) => c.status === 200)).toHaveLength(2);
    const failedMachine = /'([0-9a-f]{40})'/.exec(failedCall.query['$filter']!)![1];
    const order = res.data!.alerts.nodes.map((n) => n.id);
    expect(res.data!.alerts.nodes).toEqual(
      order.map((id) => {
        const machineId = t.alertById(id)!.machineId!;
        return {
          id,
          machine: machineId === failedMachine ? null : { osPlatform: t.machineById(machineId)!.osPlatform },
        };
      }),
    );
    const failedAt = order.findIndex((id) => t.alertById(id)!.machineId === failedMachine);
    expect(res.errors).toEqual([
      {
        message: 'Defender did not answer machines.',
        locations: expect.any(Array),
        path: ['alerts', 'nodes', failedAt, 'machine'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      },
    ]);
    expect(res.extensions!.upstream).toMatchObject({ calls: 4, cacheHits: 0 });
  });

  it("one alert's evidence failing nulls that evidence alone; the machine's other alerts keep theirs", async () => {
    gw = await startTestGateway({ client: { maxRetries: 2 } });
    const t = gw.sim.tenant;
    const m = t.machines.find((x) => t.alertsOfMachine(x.id).length >= 2)!;
    const alerts = t.alertsOfMachine(m.id);
    const [failing, ...others] = [alerts.at(-1)!, ...alerts.slice(0, -1)];
    // Every alert but one is cached with its evidence, so the failing one is its own `alerts/{id}` call.
    const warm = others.map((a, i) => `w${i}: alert(id: "${a.id}") { id }`).join(' ');
    expect((await gw.query(`{ ${warm} }`)).errors).toBeUndefined();
    gw.sim.resetCalls();
    gw.sim.injectFault({ api: 'alerts/{id}', id: failing.id, fault: { kind: 'status', status: 500 } });

    const res = await gw.query(`{ machine(id: "${m.id}") { id alerts { id evidence { entityType } } } }`);
    const evidence = (a: (typeof alerts)[number]) => a.evidence.map((e) => ({ entityType: e.entityType }));
    expect(res.data).toEqual({
      machine: {
        id: m.id,
        alerts: alerts.map((a) => ({ id: a.id, evidence: a === failing ? null : evidence(a) })),
      },
    });
    expect(others.some((a) => a.evidence.length > 0)).toBe(true);
    expect(res.errors).toEqual([
      {
        message: 'Defender did not answer alerts/{id}.',
        locations: expect.any(Array),
        path: ['machine', 'alerts', alerts.length - 1, 'evidence'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      },
    ]);
    expect(callsWithStatus(gw.sim.calls)).toEqual(
      [
        `machines/{id} ${m.id} 200`,
        `machines/{id}/alerts ${m.id} 200`,
        ...Array.from({ length: 3 }, () => `alerts/{id} ${failing.id} 500`),
      ].sort(),
    );
    expect(res.extensions!.upstream).toMatchObject({ calls: 5, cacheHits: others.length });
  });
});
