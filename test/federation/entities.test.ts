import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

/** What the router sends a subgraph to resolve entities by key. */
const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Machine { id computerDnsName osPlatform }
    ... on Alert { id title machineId }
    ... on User { id accountName accountDomain }
  }
}`;

type Entity = Record<string, unknown> | null;

function entities(g: TestGateway, representations: unknown[], query = ENTITIES) {
  return g.query<{ _entities: Entity[] | null }>(query, { representations });
}

const inList = (ids: readonly string[]) => `id in (${ids.map((id) => `'${id}'`).join(',')})`;

describe('_entities', () => {
  it('resolves 7 machines by id with one batched call, in the order asked', async () => {
    gw = await startTestGateway();
    const machines = gw.sim.tenant.machines.slice(0, 7);
    const res = await entities(
      gw,
      machines.map((m) => ({ __typename: 'Machine', id: m.id })),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual(
      machines.map((m) => ({
        __typename: 'Machine',
        id: m.id,
        computerDnsName: m.computerDnsName,
        osPlatform: m.osPlatform,
      })),
    );
    expect(gw.sim.calls).toHaveLength(1);
    expect(gw.sim.calls[0]!.api).toBe('machines');
    expect(gw.sim.calls[0]!.query).toEqual({ $filter: inList(machines.map((m) => m.id)), $top: '7' });
    expect(res.extensions!.upstream!.calls).toBe(1);
  });

  it('splits the batch into chunks of the configured size: 7 machines in 3 calls of 3, 3 and 1', async () => {
    gw = await startTestGateway({ server: { machineBatchSize: 3 } });
    const ids = gw.sim.tenant.machines.slice(0, 7).map((m) => m.id);
    const res = await entities(
      gw,
      ids.map((id) => ({ __typename: 'Machine', id })),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities!.map((e) => e!['id'])).toEqual(ids);
    expect(gw.sim.calls.map((c) => `${c.api} ${c.query['$filter']}`).sort()).toEqual(
      [
        `machines ${inList(ids.slice(0, 3))}`,
        `machines ${inList(ids.slice(3, 6))}`,
        `machines id eq '${ids[6]}'`,
      ].sort(),
    );
  });

  it('batches alerts, and answers users by name with no call, all in one request', async () => {
    gw = await startTestGateway();
    const t = gw.sim.tenant;
    const alerts = t.alerts.slice(0, 4);
    const machines = t.machines.slice(10, 12);
    const [u1, u2] = t.users.filter((u) => !u.accountName.includes(' '));
    const representations = [
      { __typename: 'Alert', id: alerts[0]!.id },
      { __typename: 'User', id: u1!.id },
      { __typename: 'Machine', id: machines[0]!.id },
      { __typename: 'Alert', id: alerts[1]!.id },
      { __typename: 'User', accountName: u2!.accountName },
      { __typename: 'Alert', id: alerts[2]!.id },
      { __typename: 'Machine', id: machines[1]!.id },
      { __typename: 'Alert', id: alerts[3]!.id },
    ];
    const res = await entities(gw, representations);
    expect(res.errors).toBeUndefined();
    const alert = (i: number) => ({
      __typename: 'Alert',
      id: alerts[i]!.id,
      title: alerts[i]!.title,
      machineId: alerts[i]!.machineId,
    });
    const machine = (i: number) => ({
      __typename: 'Machine',
      id: machines[i]!.id,
      computerDnsName: machines[i]!.computerDnsName,
      osPlatform: machines[i]!.osPlatform,
    });
    expect(res.data!._entities).toEqual([
      alert(0),
      { __typename: 'User', id: u1!.id, accountName: u1!.accountName, accountDomain: u1!.accountDomain },
      machine(0),
      alert(1),
      { __typename: 'User', id: u2!.accountName, accountName: u2!.accountName, accountDomain: null },
      alert(2),
      machine(1),
      alert(3),
    ]);
    expect(callKeys(gw.sim.calls).sort()).toEqual(
      [
        `alerts?$expand=evidence&$filter=${inList(alerts.map((a) => a.id))}&$top=4`,
        `machines?$filter=${inList(machines.map((m) => m.id))}&$top=2`,
      ].sort(),
    );
  });

  it("costs a user's relationships as Query.user does: one call per distinct account name", async () => {
    gw = await startTestGateway();
    const t = gw.sim.tenant;
    const users = t.users.filter((u) => !u.accountName.includes(' ')).slice(0, 3);
    const res = await entities(
      gw,
      [...users.map((u) => ({ __typename: 'User', id: u.id })), { __typename: 'User', id: users[0]!.id }],
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { machines { id } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const machinesOf = (name: string) =>
      t
        .usersByAccountName(name)
        .flatMap((u) => t.machinesOfUser(u))
        .map((m) => m.id)
        .sort();
    expect(
      res.data!._entities!.map((e) => (e!['machines'] as { id: string }[]).map((m) => m.id).sort()),
    ).toEqual([...users, users[0]!].map((u) => machinesOf(u.accountName)));
    // Accounts of the same name in two domains are one call: Defender's route takes the name alone.
    const names = new Set(users.map((u) => u.accountName.toLowerCase()));
    expect(
      callKeys(gw.sim.calls)
        .map((k) => k.toLowerCase())
        .sort(),
    ).toEqual([...names].map((name) => `users/{id}/machines ${name}`).sort());
  });

  it('resolves machines by computer name in one batched filter call, never with a name in the path', async () => {
    gw = await startTestGateway();
    const machines = gw.sim.tenant.machines.filter((m) => m.computerDnsName).slice(0, 3);
    const res = await entities(
      gw,
      machines.map((m) => ({ __typename: 'Machine', computerDnsName: m.computerDnsName })),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities!.map((e) => e!['id'])).toEqual(machines.map((m) => m.id));
    const names = machines.map((m) => `'${m.computerDnsName!.toLowerCase()}'`).join(',');
    expect(callKeys(gw.sim.calls)).toEqual([`machines?$filter=computerDnsName in (${names})&$top=6`]);
  });

  it('answers null for a machine or alert Defender does not have, within the same batch', async () => {
    gw = await startTestGateway();
    const t = gw.sim.tenant;
    const [m1, m2] = t.machines;
    const missing = 'f'.repeat(40);
    const res = await entities(gw, [
      { __typename: 'Machine', id: m1!.id },
      { __typename: 'Machine', id: missing },
      { __typename: 'Machine', id: m2!.id },
      { __typename: 'Alert', id: 'da000000000000000000_1' },
    ]);
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities!.map((e) => e && e['id'])).toEqual([m1!.id, null, m2!.id, null]);
    expect(callKeys(gw.sim.calls).sort()).toEqual(
      [
        'alerts/{id} da000000000000000000_1',
        `machines?$filter=${inList([m1!.id, missing, m2!.id])}&$top=3`,
      ].sort(),
    );
  });

  it('refuses malformed keys with BAD_USER_INPUT and no call, resolving the others', async () => {
    gw = await startTestGateway();
    const machine = gw.sim.tenant.machines.find((m) => m.computerDnsName)!;
    const res = await entities(gw, [
      { __typename: 'Machine', id: 'abc' },
      { __typename: 'Machine', id: machine.id },
      // A computer name is not a machine id: the `id` key does not fall back to the other key.
      { __typename: 'Machine', id: machine.computerDnsName },
      { __typename: 'Machine', id: '../alerts' },
      { __typename: 'Machine', computerDnsName: 'a/../b' },
      { __typename: 'Machine' },
      { __typename: 'Alert', id: "da1' or 1 eq 1" },
      { __typename: 'Alert', id: 42 },
      { __typename: 'User', id: 'contoso\\a/b' },
      { __typename: 'User', accountName: 'contoso\\user1' },
      { __typename: 'User', accountName: 'user1@contoso.com' },
    ]);
    expect(res.data!._entities!.map((e) => e && e['id'])).toEqual([
      null,
      machine.id,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(res.errors!.map((e) => [e.path, e.extensions!['code']])).toEqual(
      [0, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => [['_entities', i], 'BAD_USER_INPUT']),
    );
    expect(callKeys(gw.sim.calls)).toEqual([`machines/{id} ${machine.id}`]);
  });

  it('refuses a representation that is not an entity, with no call at all', async () => {
    gw = await startTestGateway();
    const id = gw.sim.tenant.machines[0]!.id;
    for (const bad of [{ __typename: 'Query' }, { __typename: 'ApiBudget' }, { id }, 'Machine', [id], null]) {
      const res = await entities(gw, [{ __typename: 'Machine', id }, bad]);
      expect(res.data?._entities ?? null, JSON.stringify(bad)).toBeNull();
      expect(
        res.errors!.map((e) => e.extensions!['code']),
        JSON.stringify(bad),
      ).toEqual(['BAD_USER_INPUT']);
    }
    expect(gw.sim.calls).toHaveLength(0);
  });

  it('refuses more representations than the call cap could look up, with no call', async () => {
    // At most 2 calls of 2 machines each: 4 representations.
    gw = await startTestGateway({ server: { maxOperationCalls: 2, machineBatchSize: 2 } });
    const ids = gw.sim.tenant.machines.slice(0, 5).map((m) => m.id);
    const over = await entities(
      gw,
      ids.map((id) => ({ __typename: 'Machine', id })),
    );
    expect(over.data?._entities ?? null).toBeNull();
    expect(over.errors!.map((e) => [e.extensions!['code'], e.message])).toEqual([
      ['BAD_USER_INPUT', '_entities takes at most 4 representations, got 5.'],
    ]);
    expect(gw.sim.calls).toHaveLength(0);
    const within = await entities(
      gw,
      ids.slice(0, 4).map((id) => ({ __typename: 'Machine', id })),
    );
    expect(within.errors).toBeUndefined();
    expect(gw.sim.calls).toHaveLength(2);
  });
});
