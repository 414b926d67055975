import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto, UserDto } from '../../src/defender/types.js';
import type { Simulator } from '../../src/simulator/server.js';
import { values } from '../helpers/http.js';
import { TOKEN, call, testSimulator } from '../helpers/simulator.js';

const LIMITED = 'limited-token';
let sim: Simulator;
let groups: Set<number>;
let seen: (m: MachineDto) => boolean;
let hidden: MachineDto;
let shown: MachineDto;

beforeAll(async () => {
  // Pick two real groups after generating once, so the test holds whatever the seed's group ids are.
  const probe = await testSimulator();
  const ids = probe.tenant.deviceGroups.map((g) => g.id).filter((id) => id !== 0);
  await probe.close();
  groups = new Set(ids.slice(0, 2));
  sim = await testSimulator({ tokens: [{ token: TOKEN }, { token: LIMITED, rbacGroupIds: [...groups] }] });
  seen = (m) => groups.has(m.rbacGroupId);
  const t = sim.tenant;
  hidden = t.machines.find((m) => !seen(m) && t.alertsOfMachine(m.id).some((a) => a.relatedUser))!;
  shown = t.machines.find((m) => seen(m) && t.logonUsers(m.id).length > 0)!;
});
afterAll(() => sim.close());

describe('a token limited to device groups', () => {
  it('lists only the machines of its groups', async () => {
    const machines = values<MachineDto>(await call(sim, '/api/machines', LIMITED));
    expect(machines.map((m) => m.id)).toEqual(sim.tenant.machines.filter(seen).map((m) => m.id));
    expect(machines.length).toBeGreaterThan(0);
    expect(machines.length).toBeLessThan(sim.tenant.machines.length);
  });

  it('lists only the alerts of those machines', async () => {
    const alerts = values<AlertDto>(await call(sim, '/api/alerts', LIMITED));
    const expected = sim.tenant.alerts.filter((a) => seen(sim.tenant.machineById(a.machineId)!));
    expect(alerts.map((a) => a.id)).toEqual(expected.map((a) => a.id));
  });

  it('finds no machine, alert, user or logon user outside its groups', async () => {
    const alert = sim.tenant.alertsOfMachine(hidden.id).find((a) => a.relatedUser)!;
    for (const path of [
      `/api/machines/${hidden.id}`,
      `/api/machines/${hidden.id}/alerts`,
      `/api/machines/${hidden.id}/logonusers`,
      `/api/alerts/${alert.id}`,
      `/api/alerts/${alert.id}/user`,
      `/api/alerts/${alert.id}/machine`,
    ]) {
      expect((await call(sim, path, LIMITED)).status, path).toBe(404);
      expect((await call(sim, path, TOKEN)).status, path).toBe(200);
    }
  });

  it("trims a user's machines and alerts to its groups", async () => {
    const user = sim.tenant.users.find(
      (u) => sim.tenant.machinesOfUser(u).some(seen) && sim.tenant.machinesOfUser(u).some((m) => !seen(m)),
    ) as UserDto | undefined;
    const name = encodeURIComponent((user ?? sim.tenant.logonUsers(shown.id)[0]!).accountName);
    const machines = values<MachineDto>(await call(sim, `/api/users/${name}/machines`, LIMITED));
    expect(machines.length).toBeGreaterThan(0);
    expect(machines.every(seen)).toBe(true);
    const all = values<MachineDto>(await call(sim, `/api/users/${name}/machines`, TOKEN));
    expect(all.filter(seen).map((m) => m.id)).toEqual(machines.map((m) => m.id));
    const alerts = values<AlertDto>(await call(sim, `/api/users/${name}/alerts`, LIMITED));
    expect(alerts.every((a) => seen(sim.tenant.machineById(a.machineId)!))).toBe(true);
  });

  it('sees its own machines in full', async () => {
    const answer = await call(sim, `/api/machines/${shown.id}/logonusers`, LIMITED);
    expect(values(answer)).toEqual(sim.tenant.logonUsers(shown.id));
  });
});
