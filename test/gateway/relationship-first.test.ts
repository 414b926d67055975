import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * `first` on the relationship lists (`Machine.logonUsers`, `Machine.alerts`, `User.machines`, `User.alerts`):
 * the first n in Defender's order; left out, the whole list; a negative one or one over MAX_PAGE_SIZE is
 * BAD_USER_INPUT with no call for it.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ server: { maxOperationCalls: 1_000 } });
});
afterAll(() => gw?.close());

describe('first on a relationship list', () => {
  it('keeps the first n of each list in Defender’s order, and the whole list without it', async () => {
    const t = gw.sim.tenant;
    const m = t.machines.find((x) => t.logonUsers(x.id).length >= 2 && t.alertsOfMachine(x.id).length >= 3)!;
    const name = t.logonUsers(m.id)[0]!.accountName;
    gw.sim.resetCalls();
    const res = await gw.query<{
      machine: { logonUsers: { id: string }[]; alerts: { id: string }[]; all: { id: string }[] };
      user: { machines: { id: string }[]; alerts: { id: string }[] };
    }>(
      `{ machine(id: "${m.id}") { logonUsers(first: 1) { id } alerts(first: 2) { id } all: alerts { id } }
         user(id: ${JSON.stringify(name)}) { machines(first: 1) { id } alerts(first: 0) { id } } }`,
    );
    expect(res.errors).toBeUndefined();
    // Asked twice with different `first`, each list is still one call.
    expect(gw.sim.calls.map((c) => c.api).sort()).toEqual([
      'machines/{id}',
      'machines/{id}/alerts',
      'machines/{id}/logonusers',
      'users/{id}/alerts',
      'users/{id}/machines',
    ]);
    const alerts = t.alertsOfMachine(m.id).map((a) => a.id);
    expect(res.data!.machine.all.map((a) => a.id)).toEqual(alerts);
    expect(res.data!.machine.alerts.map((a) => a.id)).toEqual(alerts.slice(0, 2));
    expect(res.data!.machine.logonUsers.map((u) => u.id)).toEqual([t.logonUsers(m.id)[0]!.id]);
    expect(res.data!.user.machines).toHaveLength(1);
    expect(res.data!.user.alerts).toEqual([]);
  });

  it('refuses a negative first, or one over MAX_PAGE_SIZE, with no call for it', async () => {
    for (const first of [-1, 501]) {
      gw.sim.resetCalls();
      const res = await gw.query(
        `{ user(id: "nobody-${first}") { accountName machines(first: ${first}) { id } } }`,
      );
      expect(res.errors?.map((e) => [e.extensions?.['code'], e.path])).toEqual([
        ['BAD_USER_INPUT', ['user', 'machines']],
      ]);
      expect(res.errors?.[0]?.message).toBe(`\`first\` must be between 0 and 500, got ${first}.`);
      expect(gw.sim.calls).toEqual([]);
    }
  });
});
