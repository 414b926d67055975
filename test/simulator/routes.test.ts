import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto, UserDto } from '../../src/defender/types.js';
import type { Simulator } from '../../src/simulator/server.js';
import { values } from '../helpers/http.js';
import { call, testSimulator } from '../helpers/simulator.js';

let sim: Simulator;
let machine: MachineDto; // has logon users and alerts
let alertWithUser: AlertDto;
let alertWithoutUser: AlertDto;
const MISSING_MACHINE = '0'.repeat(40);
const MISSING_ALERT = 'da638000000000000000_123456789';

beforeAll(async () => {
  sim = await testSimulator();
  const t = sim.tenant;
  machine = t.machines.find((m) => t.logonUsers(m.id).length > 1 && t.alertsOfMachine(m.id).length > 1)!;
  alertWithUser = t.alerts.find((a) => a.relatedUser !== null)!;
  alertWithoutUser = t.alerts.find((a) => a.relatedUser === null)!;
});
afterAll(() => sim.close());

const ids = (items: { id: string }[]) => items.map((i) => i.id);

function expectDefenderError(answer: { status: number; json: unknown }, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.json).toEqual({
    error: { code, message: expect.any(String), target: expect.stringMatching(/^\|[0-9a-f]{16}\.$/) },
  });
}

describe('machines', () => {
  it('lists machines as an OData collection with Defender headers', async () => {
    const answer = await call(sim, '/api/machines');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(
      'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8',
    );
    expect(answer.headers.get('odata-version')).toBe('4.0');
    expect((answer.json as Record<string, unknown>)['@odata.context']).toBe(
      `${sim.url}/api/$metadata#Machines`,
    );
    expect(values(answer)).toEqual(sim.tenant.machines);
  });

  it('answers a machine by id, and by computer DNS name in any case', async () => {
    const byId = await call(sim, `/api/machines/${machine.id}`);
    expect(byId.json).toEqual({ '@odata.context': `${sim.url}/api/$metadata#Machines/$entity`, ...machine });
    const byName = await call(
      sim,
      `/api/machines/${encodeURIComponent(machine.computerDnsName!.toUpperCase())}`,
    );
    expect((byName.json as MachineDto).id).toBe(machine.id);
  });

  it('answers 404 with a JSON error for a missing machine on every machine route', async () => {
    for (const path of ['', '/alerts', '/logonusers']) {
      const answer = await call(sim, `/api/machines/${MISSING_MACHINE}${path}`);
      expectDefenderError(answer, 404, 'ResourceNotFound');
      expect((answer.json as { error: { message: string } }).error.message).toBe(
        `Machine ${MISSING_MACHINE} was not found`,
      );
    }
  });

  it("lists a machine's alerts and logon users", async () => {
    const alerts = await call(sim, `/api/machines/${machine.id}/alerts`);
    expect(ids(values(alerts))).toEqual(ids([...sim.tenant.alertsOfMachine(machine.id)]));
    const users = await call(sim, `/api/machines/${machine.id}/logonusers`);
    expect((users.json as Record<string, unknown>)['@odata.context']).toBe(`${sim.url}/api/$metadata#Users`);
    expect(values(users)).toEqual(sim.tenant.logonUsers(machine.id));
  });

  it('finds machines by tag, exactly or by prefix', async () => {
    const tagged = sim.tenant.machines.find((m) => m.machineTags.length > 0)!;
    const tag = tagged.machineTags[0]!;
    const exact = await call(
      sim,
      `/api/machines/findbytag?tag=${encodeURIComponent(tag)}&useStartsWithFilter=false`,
    );
    expect(ids(values(exact))).toEqual(
      sim.tenant.machines
        .filter((m) => m.machineTags.some((t) => t.toLowerCase() === tag.toLowerCase()))
        .map((m) => m.id),
    );
    expect(ids(values(exact))).toContain(tagged.id);
    const prefix = await call(
      sim,
      `/api/machines/findbytag?tag=${encodeURIComponent(tag.slice(0, 2))}&useStartsWithFilter=true`,
    );
    expect(values(prefix).length).toBeGreaterThanOrEqual(values(exact).length);
    expectDefenderError(await call(sim, '/api/machines/findbytag'), 400, 'MissingRequiredParameter');
  });

  it('finds machines by IP within the past 30 days, and refuses an older timestamp', async () => {
    const ip = machine.ipAddresses.find((a) => a.type !== 'SoftwareLoopback')!.ipAddress;
    const now = new Date().toISOString();
    const found = await call(sim, `/api/machines/findbyip(ip='${ip}',timestamp=${now})`);
    expect(found.status).toBe(200);
    expect(ids(values(found))).toContain(machine.id);
    const old = new Date(Date.now() - 31 * 86_400_000).toISOString();
    expectDefenderError(
      await call(sim, `/api/machines/findbyip(ip='${ip}',timestamp=${old})`),
      400,
      'InvalidInput',
    );
  });
});

describe('alerts', () => {
  it('answers an alert by id with its evidence, in the live key order', async () => {
    const answer = await call(sim, `/api/alerts/${alertWithUser.id}`);
    expect(answer.json).toEqual({
      '@odata.context': `${sim.url}/api/$metadata#Alerts/$entity`,
      ...alertWithUser,
    });
    expect(Object.keys(answer.json as object).slice(1)).toEqual(Object.keys(alertWithUser));
    expect(alertWithUser.evidence.length).toBeGreaterThan(0);
  });

  it("answers an alert's user and machine", async () => {
    const user = await call(sim, `/api/alerts/${alertWithUser.id}/user`);
    const expected = sim.tenant.userById(
      `${alertWithUser.relatedUser!.domainName}\\${alertWithUser.relatedUser!.userName}`,
    )!;
    expect(user.json).toEqual({ '@odata.context': `${sim.url}/api/$metadata#Users/$entity`, ...expected });
    const owner = await call(sim, `/api/alerts/${alertWithUser.id}/machine`);
    expect((owner.json as MachineDto).id).toBe(alertWithUser.machineId);
  });

  it('answers 404 for an alert without a user, as Defender does', async () => {
    const answer = await call(sim, `/api/alerts/${alertWithoutUser.id}/user`);
    expectDefenderError(answer, 404, 'ResourceNotFound');
    expect((answer.json as { error: { message: string } }).error.message).toBe(
      `There is no User related to alert ${alertWithoutUser.id}`,
    );
  });

  it('answers 404 for a missing alert on every alert route', async () => {
    for (const path of ['', '/user', '/machine']) {
      expectDefenderError(await call(sim, `/api/alerts/${MISSING_ALERT}${path}`), 404, 'ResourceNotFound');
    }
  });

  it('blanks evidence in lists unless $expand=evidence', async () => {
    const plain = values<AlertDto>(await call(sim, '/api/alerts?$top=50'));
    expect(plain.every((a) => a.evidence.length === 0)).toBe(true);
    const expanded = values<AlertDto>(await call(sim, '/api/alerts?$top=50&$expand=evidence'));
    expect(expanded).toEqual(sim.tenant.alerts.slice(0, 50));
  });
});

describe('users', () => {
  it("lists a user's machines and alerts by account name, in any case", async () => {
    const user = sim.tenant.users.find(
      (u) => sim.tenant.alertsOfUser(u).length > 0 && !u.accountName.includes(' '),
    )!;
    const sameName = sim.tenant.usersByAccountName(user.accountName);
    const machines = await call(
      sim,
      `/api/users/${encodeURIComponent(user.accountName.toUpperCase())}/machines`,
    );
    expect(new Set(ids(values(machines)))).toEqual(
      new Set(sameName.flatMap((u) => sim.tenant.machinesOfUser(u)).map((m) => m.id)),
    );
    const alerts = await call(sim, `/api/users/${encodeURIComponent(user.accountName)}/alerts`);
    expect(new Set(ids(values(alerts)))).toEqual(
      new Set(sameName.flatMap((u) => sim.tenant.alertsOfUser(u)).map((a) => a.id)),
    );
  });

  it('answers an account name with a space', async () => {
    const user = sim.tenant.users.find(
      (u) => u.accountName.includes(' ') && sim.tenant.machinesOfUser(u).length > 0,
    )!;
    const answer = await call(sim, `/api/users/${encodeURIComponent(user.accountName)}/machines`);
    expect(ids(values(answer))).toEqual(expect.arrayContaining(ids([...sim.tenant.machinesOfUser(user)])));
  });

  it('answers 200 with an empty collection for an unknown user, and for a UPN or domain\\name', async () => {
    const user = sim.tenant.users.find((u) => sim.tenant.machinesOfUser(u).length > 0)!;
    for (const name of ['nobody-here', `${user.accountName}@contoso.com`, user.id]) {
      for (const rel of ['machines', 'alerts']) {
        const answer = await call(sim, `/api/users/${encodeURIComponent(name)}/${rel}`);
        expect(answer.status).toBe(200);
        expect(values(answer)).toEqual([]);
      }
    }
  });
});

describe('routing', () => {
  it('serves every route under /api/v1.0 too', async () => {
    const paths = [
      '/machines?$top=1',
      `/machines/${machine.id}`,
      `/machines/${machine.id}/alerts`,
      `/machines/${machine.id}/logonusers`,
      '/alerts?$top=1',
      `/alerts/${alertWithUser.id}`,
      `/alerts/${alertWithUser.id}/user`,
      `/alerts/${alertWithUser.id}/machine`,
      `/users/${encodeURIComponent(alertWithUser.relatedUser!.userName)}/machines`,
      `/users/${encodeURIComponent(alertWithUser.relatedUser!.userName)}/alerts`,
    ];
    for (const path of paths) {
      const [latest, versioned] = await Promise.all([
        call(sim, `/api${path}`),
        call(sim, `/api/v1.0${path}`),
      ]);
      expect(versioned.status, path).toBe(200);
      expect(versioned.text.replace('/api/v1.0', '/api')).toBe(latest.text);
    }
  });

  it('answers an unknown route with 404 and an empty body', async () => {
    for (const path of [
      '/api/ips/10.0.0.1/machines',
      '/api/machines/x/y/z',
      '/nothing',
      `/api/alerts/${MISSING_ALERT}/files`,
    ]) {
      const answer = await call(sim, path);
      expect(answer.status, path).toBe(404);
      expect(answer.text).toBe('');
      expect(answer.headers.get('content-length')).toBe('0');
    }
  });

  it('keeps an encoded slash inside one id segment', async () => {
    const answer = await call(sim, `/api/machines/${encodeURIComponent(`${machine.id}/alerts`)}`);
    expectDefenderError(answer, 404, 'ResourceNotFound');
    expect(sim.calls.at(-1)).toMatchObject({ api: 'machines/{id}', id: `${machine.id}/alerts` });
  });
});

describe('authentication', () => {
  it('answers 401 Unauthorized without a bearer token or with an unknown one', async () => {
    for (const token of [null, 'wrong-token']) {
      expectDefenderError(await call(sim, '/api/machines', token), 401, 'Unauthorized');
    }
  });
});

describe('call log', () => {
  it('records every request with its route template, path, query and status', async () => {
    sim.resetCalls();
    await call(sim, `/api/machines/${machine.id}/logonusers`);
    await call(sim, "/api/machines?$filter=riskScore eq 'High'&$top=2");
    await call(sim, '/api/unknown');
    await call(sim, '/api/alerts', null);
    expect(
      sim.calls.map(({ api, path, query, status, caller }) => ({ api, path, query, status, caller })),
    ).toEqual([
      {
        api: 'machines/{id}/logonusers',
        path: `/api/machines/${machine.id}/logonusers`,
        query: {},
        status: 200,
        caller: 'simulator-token',
      },
      {
        api: 'machines',
        path: '/api/machines',
        query: { $filter: "riskScore eq 'High'", $top: '2' },
        status: 200,
        caller: 'simulator-token',
      },
      { api: null, path: '/api/unknown', query: {}, status: 404, caller: 'simulator-token' },
      { api: 'alerts', path: '/api/alerts', query: {}, status: 401, caller: null },
    ]);
  });
});

describe('users in lists', () => {
  it('emits all twelve user keys, nulls included', async () => {
    const users = values<UserDto>(await call(sim, `/api/machines/${machine.id}/logonusers`));
    for (const u of users) expect(Object.keys(u)).toHaveLength(12);
  });
});
