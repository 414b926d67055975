import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

/** NESTED fans out past MAX_OPERATION_CALLS' default (100): the cap is raised so that it runs whole. */
// On the source table's priors (a fresh gateway has learnt nothing), NESTED is expected to fan out to thousands.
const UNCAPPED = { maxOperationCalls: 100_000 };
const NESTED = `{ alerts(first: 20) { nodes { id user { machines { logonUsers { id } } } machine { computerDnsName } } } }`;

/**
 * Every call the nested query needs at the least, computed from the tenant: each distinct (route, key) once.
 * The alert already names its user (`relatedUser`) and its machine (`machineId`, `computerDnsName`), so neither
 * `/alerts/{id}/user` nor a machine lookup is needed.
 */
function expectedCalls(gateway: TestGateway): string[] {
  const t = gateway.sim.tenant;
  const alerts = t.alerts.slice(0, 20);
  const withUser = alerts.filter((a) => a.relatedUser !== null);
  const names = [...new Set(withUser.map((a) => a.relatedUser!.userName.toLowerCase()))];
  const userMachines = new Set(
    names.flatMap((n) => t.usersByAccountName(n).flatMap((u) => t.machinesOfUser(u))).map((m) => m.id),
  );
  return [
    'alerts?$top=21&$expand=evidence',
    ...names.map((n) => `users/{id}/machines ${n}`),
    ...[...userMachines].map((id) => `machines/{id}/logonusers ${id}`),
  ].sort();
}

describe('batching and deduplication', () => {
  it('sends each distinct (route, key) of a nested query once, and nothing else', async () => {
    // Admins log on to many machines: this query needs more than a minute's budget of logonusers calls.
    const roomy = parseRateLimits('100000/60s');
    gw = await startTestGateway({ rateLimits: roomy, simulator: { rateLimits: roomy }, server: UNCAPPED });
    const res = await gw.query<{ alerts: { nodes: { machine: { computerDnsName: string | null } }[] } }>(
      NESTED,
    );
    expect(res.errors).toBeUndefined();
    const expected = expectedCalls(gw);
    // The account names arrive as Defender spells them; compare case-insensitively on user routes only.
    const seen = callKeys(gw.sim.calls)
      .map((k) => (k.startsWith('users/') ? k.toLowerCase() : k))
      .sort();
    expect(seen).toEqual(expected);
    expect(res.extensions!.upstream!.calls).toBe(expected.length);
    expect(res.data!.alerts.nodes.map((n) => n.machine.computerDnsName)).toEqual(
      gw.sim.tenant.alerts.slice(0, 20).map((a) => gw!.sim.tenant.machineById(a.machineId)!.computerDnsName),
    );
  });

  it("loads an alert's machine and user records only when asked for properties the alert lacks", async () => {
    gw = await startTestGateway();
    const t = gw.sim.tenant;
    const alerts = t.alerts.slice(0, 10);
    const res = await gw.query<{
      alerts: { nodes: { machine: { osPlatform: string }; user: { logonTypes: string } | null }[] };
    }>('{ alerts(first: 10) { nodes { machine { osPlatform } user { logonTypes } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.alerts.nodes).toEqual(
      alerts.map((a) => ({
        machine: { osPlatform: t.machineById(a.machineId)!.osPlatform },
        user: a.relatedUser && {
          logonTypes: t.userById(`${a.relatedUser.domainName}\\${a.relatedUser.userName}`)!.logonTypes,
        },
      })),
    );
    const machineIds = [...new Set(alerts.map((a) => a.machineId))];
    expect(callKeys(gw.sim.calls).sort()).toEqual(
      [
        'alerts?$top=11&$expand=evidence',
        ...alerts.filter((a) => a.relatedUser).map((a) => `alerts/{id}/user ${a.id}`),
        `machines?$filter=id in (${machineIds.map((id) => `'${id}'`).join(',')})&$top=${machineIds.length}`,
      ].sort(),
    );
  });

  it('matches batched machines to keys by id, whatever order Defender answers in', async () => {
    gw = await startTestGateway();
    const ids = gw.sim.tenant.machines.slice(0, 4).map((m) => m.id);
    const order = [ids[3], 'f'.repeat(40), ids[0], ids[2], ids[1]] as string[];
    const fields = order.map((id, i) => `m${i}: machine(id: "${id}") { id }`).join(' ');
    const res = await gw.query<Record<string, { id: string } | null>>(`{ ${fields} }`);
    expect(order.map((_, i) => res.data![`m${i}`]?.id ?? null)).toEqual([
      ids[3],
      null,
      ids[0],
      ids[2],
      ids[1],
    ]);
    expect(gw.sim.calls).toHaveLength(1);
    expect(gw.sim.calls[0]!.query['$filter']).toBe(`id in (${order.map((id) => `'${id}'`).join(',')})`);
  });

  it('splits machine lookups into chunks of the configured size', async () => {
    gw = await startTestGateway({ server: { machineBatchSize: 3 } });
    const ids = gw.sim.tenant.machines.slice(0, 7).map((m) => m.id);
    const res = await gw.query(`{ ${ids.map((id, i) => `m${i}: machine(id: "${id}") { id }`).join(' ')} }`);
    expect(res.errors).toBeUndefined();
    const filters = gw.sim.calls.map((c) => c.query['$filter'] ?? `${c.api} ${c.id}`);
    expect(filters.sort()).toEqual(
      [
        `id in (${ids
          .slice(0, 3)
          .map((id) => `'${id}'`)
          .join(',')})`,
        `id in (${ids
          .slice(3, 6)
          .map((id) => `'${id}'`)
          .join(',')})`,
        `id eq '${ids[6]}'`,
      ].sort(),
    );
  });

  it('serves a second identical query within the TTL with zero calls', async () => {
    const roomy = parseRateLimits('100000/60s');
    gw = await startTestGateway({ rateLimits: roomy, simulator: { rateLimits: roomy }, server: UNCAPPED });
    const first = await gw.query(NESTED);
    const calls = gw.sim.calls.length;
    const second = await gw.query(NESTED);
    expect(second.data).toEqual(first.data);
    expect(gw.sim.calls.length).toBe(calls);
    expect(second.extensions!.upstream).toMatchObject({ calls: 0 });
    expect(second.extensions!.upstream!.cacheHits).toBeGreaterThan(0);
  });

  it('calls again once the TTL has passed', async () => {
    gw = await startTestGateway({ cacheTtlMs: 200 });
    const id = gw.sim.tenant.machines[0]!.id;
    await gw.query(`{ machine(id: "${id}") { id } }`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await gw.query(`{ machine(id: "${id}") { id } }`);
    expect(again.extensions!.upstream).toMatchObject({ calls: 1, cacheHits: 0 });
  });

  it('reuses machines seen in a list page for lookups by id', async () => {
    gw = await startTestGateway();
    await gw.query(`{ machines(first: 10) { nodes { id } } }`);
    const ids = gw.sim.tenant.machines.slice(0, 10).map((m) => m.id);
    gw.sim.resetCalls();
    const res = await gw.query(
      `{ ${ids.map((id, i) => `m${i}: machine(id: "${id}") { computerDnsName }`).join(' ')} }`,
    );
    expect(res.errors).toBeUndefined();
    expect(gw.sim.calls).toHaveLength(0);
  });
});
