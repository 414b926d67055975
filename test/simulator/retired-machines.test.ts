import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto } from '../../src/defender/types.js';
import type { Simulator } from '../../src/simulator/server.js';
import { values } from '../helpers/http.js';
import { call, testSimulator } from '../helpers/simulator.js';

let sim: Simulator;
let retired: MachineDto;
let alert: AlertDto;

beforeAll(async () => {
  sim = await testSimulator();
  const t = sim.tenant;
  retired = t.machines.find(
    (m) => t.alertsOfMachine(m.id).length > 0 && t.logonUsers(m.id).length > 0 && m.machineTags.length > 0,
  )!;
  alert = t.alertsOfMachine(retired.id)[0]!;
  sim.retireMachine(retired.id.toUpperCase());
});
afterAll(() => sim.close());

describe('a machine Defender no longer returns (retireMachine)', () => {
  it('answers 404 on its own routes, by id or by name', async () => {
    for (const path of [
      `/api/machines/${retired.id}`,
      `/api/machines/${retired.computerDnsName}`,
      `/api/machines/${retired.id}/alerts`,
      `/api/machines/${retired.id}/logonusers`,
      `/api/alerts/${alert.id}/machine`,
    ]) {
      expect((await call(sim, path)).status, path).toBe(404);
    }
  });

  it('is left out of lists and filters, the others still listed', async () => {
    const other = sim.tenant.machines.find((m) => m !== retired)!;
    const filter = encodeURIComponent(`id in ('${retired.id}','${other.id}')`);
    const filtered = values<MachineDto>(await call(sim, `/api/machines?$filter=${filter}`));
    expect(filtered.map((m) => m.id)).toEqual([other.id]);
    const all = values<MachineDto>(await call(sim, '/api/machines'));
    expect(all).toHaveLength(sim.tenant.machines.length - 1);
    expect(all.some((m) => m.id === retired.id)).toBe(false);
    const tag = encodeURIComponent(retired.machineTags[0]!);
    const tagged = values<MachineDto>(await call(sim, `/api/machines/findbytag?tag=${tag}`));
    expect(tagged.some((m) => m.id === retired.id)).toBe(false);
    const user = sim.tenant.logonUsers(retired.id)[0]!;
    const ofUser = values<MachineDto>(await call(sim, `/api/users/${user.accountName}/machines`));
    expect(ofUser.some((m) => m.id === retired.id)).toBe(false);
  });

  it('keeps its alerts, which still name it', async () => {
    const answer = await call(sim, `/api/alerts/${alert.id}`);
    expect(answer.status).toBe(200);
    expect((answer.json as AlertDto).machineId).toBe(retired.id);
    const listed = values<AlertDto>(await call(sim, '/api/alerts'));
    expect(listed.filter((a) => a.machineId === retired.id).length).toBe(
      sim.tenant.alertsOfMachine(retired.id).length,
    );
  });
});
