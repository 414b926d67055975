import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertDto, UserDto } from '../../src/defender/types.js';
import { AlertChangeError } from '../../src/simulator/alert-changes.js';
import { readSimulatorEnv } from '../../src/simulator/config.js';
import type { SimulatorOptions } from '../../src/simulator/config.js';
import type { Simulator } from '../../src/simulator/server.js';
import { httpGet, values } from '../helpers/http.js';
import { call, testSimulator } from '../helpers/simulator.js';
import { SMALL, changedSince, getAlert, latestUpdate, manualClock, write } from './alert-helpers.js';

/** Alerts changing over time (`docs/defender-api.md` §10), and how a poller finds the changes. */

let sim: Simulator | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await sim?.close();
  sim = undefined;
});

async function start(overrides: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  sim = await testSimulator({ sizes: SMALL, ...overrides });
  return sim;
}

/** .NET ticks (100 ns since 0001-01-01) of an ISO time with seven fractional digits. */
function dotNetTicks(iso: string): string {
  const [whole, fraction] = iso.replace('Z', '').split('.');
  const ms = BigInt(Date.parse(`${whole!}Z`));
  return (ms * 10_000n + BigInt(fraction!.padEnd(7, '0')) + 621_355_968_000_000_000n).toString();
}

function loggedOnMachine(s: Simulator): { machineId: string; user: UserDto } {
  const machine = s.tenant.machines.find(
    (m) => m.onboardingStatus === 'Onboarded' && s.tenant.logonUsers(m.id).length > 0,
  )!;
  return { machineId: machine.id, user: s.tenant.logonUsers(machine.id)[0]! };
}

describe("the simulator's time", () => {
  it('is SIMULATOR_NOW plus the time its clock moved since it started', async () => {
    const clock = manualClock();
    const s = await start({ clock, tenantNow: new Date('2026-06-15T12:00:00Z') });
    expect(s.now().toISOString()).toBe('2026-06-15T12:00:00.000Z');
    clock.advance(90_500);
    expect(s.now().toISOString()).toBe('2026-06-15T12:01:30.500Z');
    const { machineId } = loggedOnMachine(s);
    expect(s.createAlert({ machineId }).alertCreationTime).toBe('2026-06-15T12:01:30.5000000Z');
  });

  it('gives changes made in one instant increasing times, one tick apart, after every generated date', async () => {
    const s = await start({ clock: manualClock() });
    const newestGenerated = await latestUpdate(s);
    const { machineId } = loggedOnMachine(s);
    const first = s.createAlert({ machineId });
    const second = s.updateAlert(s.tenant.alerts[0]!.id, { comment: 'x' });
    const third = s.createAlert({ machineId });
    expect([first, second, third].map((a) => a.lastUpdateTime)).toEqual([
      '2026-11-01T00:00:00.0000001Z',
      '2026-11-01T00:00:00.0000002Z',
      '2026-11-01T00:00:00.0000003Z',
    ]);
    expect(newestGenerated <= '2026-11-01T00:00:00.0000000Z').toBe(true);
  });

  it('runs on the system clock by default', async () => {
    const s = await start();
    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const elapsed = s.now().getTime() - s.tenant.now.getTime();
    expect(elapsed).toBeGreaterThanOrEqual(20);
    expect(elapsed).toBeLessThanOrEqual(Date.now() - before + 5);
  });
});

describe('Simulator.createAlert and updateAlert', () => {
  it("raise an alert on the machine and user, with a new id in Defender's form, created and updated now", async () => {
    const clock = manualClock();
    const s = await start({ clock });
    const { machineId, user } = loggedOnMachine(s);
    const machine = s.tenant.machineById(machineId)!;
    const maxIncident = Math.max(...s.tenant.alerts.map((a) => a.incidentId ?? 0));
    clock.advance(3_600_000);

    const created = s.createAlert({
      machineId,
      user: user.id,
      title: 'Ransomware behavior detected',
      severity: 'High',
    });
    expect(created).toMatchObject({
      title: 'Ransomware behavior detected',
      severity: 'High',
      status: 'New',
      alertCreationTime: '2026-11-01T01:00:00.0000000Z',
      lastUpdateTime: '2026-11-01T01:00:00.0000000Z',
      resolvedTime: null,
      machineId,
      computerDnsName: machine.computerDnsName,
      rbacGroupName: machine.rbacGroupName,
      aadTenantId: s.tenant.tenantId,
      relatedUser: { userName: user.accountName, domainName: user.accountDomain },
      comments: [],
    });
    expect(created.id).toMatch(/^da\d{18}_-?\d{1,10}$/);
    expect(created.id.slice(2, 20)).toBe(dotNetTicks(created.alertCreationTime!));
    expect(created.incidentId).toBeGreaterThan(maxIncident);
    expect(Object.keys(created)).toEqual(Object.keys(s.tenant.alerts[0]!));

    expect(await getAlert(s, created.id)).toEqual({
      '@odata.context': `${s.url}/api/$metadata#Alerts/$entity`,
      ...created,
    });
    expect(values<AlertDto>(await call(s, '/api/alerts')).at(-1)?.id).toBe(created.id);
    expect(values<AlertDto>(await call(s, `/api/machines/${machineId}/alerts`)).map((a) => a.id)).toContain(
      created.id,
    );
    expect(
      values<AlertDto>(await call(s, `/api/users/${user.accountName}/alerts`)).map((a) => a.id),
    ).toContain(created.id);
    expect(((await call(s, `/api/alerts/${created.id}/user`)).json as UserDto).id).toBe(user.id);
    expect(((await call(s, `/api/machines/${machineId}`)).json as { riskScore: string }).riskScore).toBe(
      'High',
    );
  });

  it('fill what is left out from a detection template of the machine, and choose it from the seed', async () => {
    const options = { clock: manualClock() };
    const a = await testSimulator({ sizes: SMALL, ...options });
    const b = await testSimulator({ sizes: SMALL, ...options });
    try {
      const { machineId } = loggedOnMachine(a);
      const [x, y] = [a.createAlert({ machineId }), b.createAlert({ machineId })];
      expect(x).toEqual(y);
      expect(x.title).not.toBe('');
      expect(x.relatedUser).toBeNull();
      expect(x.evidence).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('update any triage field, moving lastUpdateTime and resolvedTime and commenting as Automation', async () => {
    const clock = manualClock();
    const s = await start({ clock });
    const alert = s.tenant.alerts.find((a) => a.status === 'New')!;
    clock.advance(10_000);
    const updated = s.updateAlert(alert.id, {
      status: 'Resolved',
      severity: 'Low',
      investigationState: 'SuccessfullyRemediated',
      classification: 'TruePositive',
      determination: 'Malware',
      comment: 'Remediated by AIR',
    });
    expect(updated).toMatchObject({
      status: 'Resolved',
      severity: 'Low',
      investigationState: 'SuccessfullyRemediated',
      lastUpdateTime: '2026-11-01T00:00:10.0000000Z',
      resolvedTime: '2026-11-01T00:00:10.0000000Z',
    });
    expect(updated.comments.at(-1)).toEqual({
      comment: 'Remediated by AIR',
      createdBy: 'Automation',
      createdTime: '2026-11-01T00:00:10.0000000Z',
    });
    expect(
      s.updateAlert(alert.id, { assignedTo: null, comment: 'c', author: 'bob@contoso.com' }),
    ).toMatchObject({
      assignedTo: null,
      comments: expect.arrayContaining([
        expect.objectContaining({ comment: 'c', createdBy: 'bob@contoso.com' }),
      ]),
    });
    // A copy: changing it changes nothing in the tenant.
    updated.title = 'changed by the test';
    expect((await getAlert(s, alert.id)).title).not.toBe('changed by the test');
  });

  it('refuse unknown machines, users and alerts, and values outside the documented ones', async () => {
    const s = await start();
    const { machineId } = loggedOnMachine(s);
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof AlertChangeError ? [error.status, error.message] : error;
      }
      return 'no error';
    };
    expect(refusal(() => s.createAlert({ machineId: 'f'.repeat(40) }))).toEqual([
      404,
      `Machine ${'f'.repeat(40)} was not found`,
    ]);
    expect(refusal(() => s.createAlert({ machineId, user: 'NOBODY\\nobody' }))).toEqual([
      404,
      'User NOBODY\\nobody was not found',
    ]);
    expect(refusal(() => s.createAlert({ machineId, severity: 'Severe' as never }))).toEqual([
      400,
      "Invalid value 'Severe' for 'severity'; expected one of UnSpecified, Informational, Low, Medium, High.",
    ]);
    expect(refusal(() => s.createAlert({} as never))).toEqual([400, "Property 'machineId' is required."]);
    expect(refusal(() => s.updateAlert('nope', { status: 'New' }))).toEqual([
      404,
      'Alert nope was not found',
    ]);
    expect(refusal(() => s.updateAlert(s.tenant.alerts[0]!.id, {}))).toEqual([
      400,
      'Nothing to update: send at least one of status, assignedTo, classification, determination, severity, title, description, category, investigationState or comment.',
    ]);
  });

  it('are hidden from a token limited to other device groups, like every alert of those groups', async () => {
    const probe = await testSimulator({ sizes: SMALL });
    const group = probe.tenant.machines.find((m) => m.rbacGroupId !== 0)!.rbacGroupId;
    await probe.close();
    const s = await start({ tokens: [{ token: 'all' }, { token: 'limited', rbacGroupIds: [group] }] });
    const outside = s.tenant.machines.find((m) => m.rbacGroupId !== group)!;
    const created = s.createAlert({ machineId: outside.id });
    expect((await call(s, `/api/alerts/${created.id}`, 'limited')).status).toBe(404);
    expect((await call(s, `/api/alerts/${created.id}`, 'all')).status).toBe(200);
  });
});

describe('admin routes for alerts', () => {
  const headers = { 'x-simulator-admin': 'admin-secret', 'content-type': 'application/json' };
  const admin = (s: Simulator, method: string, path: string, body?: unknown, h = headers) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: h,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('create (201) and update (200) alerts over HTTP, answering them as the in-process methods do', async () => {
    const clock = manualClock();
    const s = await start({ adminToken: 'admin-secret', clock });
    const { machineId, user } = loggedOnMachine(s);
    clock.advance(1_000);
    const created = await admin(s, 'POST', '/_simulator/alerts', {
      machineId,
      user: user.accountName,
      status: 'InProgress',
    });
    expect(created.status).toBe(201);
    const alert = (await created.json()) as AlertDto;
    expect(alert).toMatchObject({
      machineId,
      status: 'InProgress',
      lastUpdateTime: '2026-11-01T00:00:01.0000000Z',
    });
    expect(await getAlert(s, alert.id)).toMatchObject({ id: alert.id, status: 'InProgress' });

    clock.advance(1_000);
    const updated = await admin(s, 'PATCH', `/_simulator/alerts/${alert.id}`, { status: 'Resolved' });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      status: 'Resolved',
      resolvedTime: '2026-11-01T00:00:02.0000000Z',
    });

    const now = await httpGet(`${s.url}/_simulator/now`, headers);
    expect(now.json).toEqual({ now: '2026-11-01T00:00:02.0000000Z' });
  });

  it('answer 404 for an unknown alert or machine, 400 for a bad body, and nothing without the admin token', async () => {
    const s = await start({ adminToken: 'admin-secret' });
    const missing = await admin(s, 'PATCH', '/_simulator/alerts/nope', { status: 'New' });
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'Alert nope was not found' }]);
    const bad = await admin(s, 'POST', '/_simulator/alerts', {
      machineId: s.tenant.machines[0]!.id,
      severity: 1,
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: "Invalid value 1 for 'severity'; expected one of UnSpecified, Informational, Low, Medium, High.",
    });
    const notJson = await fetch(`${s.url}/_simulator/alerts`, { method: 'POST', headers, body: '{' });
    expect(notJson.status).toBe(400);
    const count = s.tenant.alerts.length;
    const anonymous = await admin(s, 'POST', '/_simulator/alerts', { machineId: s.tenant.machines[0]!.id }, {
      'content-type': 'application/json',
    } as typeof headers);
    expect(anonymous.status).toBe(404);
    expect(s.tenant.alerts.length).toBe(count);
  });
});

describe('a poll of lastUpdateTime gt <watermark>', () => {
  it('returns exactly the alerts changed after the watermark, oldest change first', async () => {
    const clock = manualClock();
    const s = await start({ clock });
    const start0 = await latestUpdate(s);
    expect(await changedSince(s, start0)).toEqual([]);

    const { machineId } = loggedOnMachine(s);
    const [b, c] = s.tenant.alerts.filter((a) => a.status === 'New');
    clock.advance(1_000);
    const a = s.createAlert({ machineId });
    clock.advance(1_000);
    await write(s, 'PATCH', `/api/alerts/${b!.id}`, { status: 'InProgress' });
    clock.advance(1_000);
    s.updateAlert(c!.id, { severity: 'High' });
    clock.advance(1_000);
    const d = s.createAlert({ machineId });
    clock.advance(1_000);
    await write(s, 'PATCH', `/api/alerts/${a.id}`, { comment: 'again' });

    const changed = await changedSince(s, start0);
    expect(changed.map((x) => x.id)).toEqual([b!.id, c!.id, d.id, a.id]);
    expect(changed.map((x) => x.lastUpdateTime)).toEqual([
      '2026-11-01T00:00:02.0000000Z',
      '2026-11-01T00:00:03.0000000Z',
      '2026-11-01T00:00:04.0000000Z',
      '2026-11-01T00:00:05.0000000Z',
    ]);
    const newest = values<AlertDto>(
      await call(
        s,
        `/api/alerts?$filter=${encodeURIComponent(`lastUpdateTime gt ${start0}`)}&$orderby=lastUpdateTime desc`,
      ),
    );
    expect(newest.map((x) => x.id)).toEqual([a.id, d.id, c!.id, b!.id]);

    // The next poll starts from the newest time seen, and sees only what changed after it.
    const watermark = changed.at(-1)!.lastUpdateTime!;
    expect(await changedSince(s, watermark)).toEqual([]);
    clock.advance(1_000);
    s.updateAlert(b!.id, { status: 'Resolved' });
    expect((await changedSince(s, watermark)).map((x) => [x.id, x.status])).toEqual([[b!.id, 'Resolved']]);
  });

  it('compares all seven fractional digits of the watermark', async () => {
    const s = await start({ clock: manualClock() });
    const { machineId } = loggedOnMachine(s);
    const ids = [
      s.createAlert({ machineId }).id,
      s.createAlert({ machineId }).id,
      s.createAlert({ machineId }).id,
    ];
    expect((await changedSince(s, '2026-11-01T00:00:00.0000001Z')).map((a) => a.id)).toEqual(ids.slice(1));
    expect((await changedSince(s, '2026-11-01T00:00:00.0000002Z')).map((a) => a.id)).toEqual(ids.slice(2));
    const ge = values<AlertDto>(
      await call(
        s,
        `/api/alerts?$filter=${encodeURIComponent('lastUpdateTime ge 2026-11-01T00:00:00.0000002Z')}`,
      ),
    );
    expect(ge.map((a) => a.id)).toEqual(ids.slice(1));
  });

  it('pages across a boundary, by next link and by $top and $skip', async () => {
    const clock = manualClock();
    const s = await start({ clock, pageSize: 2 });
    const watermark = await latestUpdate(s);
    const { machineId } = loggedOnMachine(s);
    const open = s.tenant.alerts.filter((a) => a.status === 'New').slice(0, 2);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(500);
      order.push(
        i % 2 === 0
          ? s.createAlert({ machineId }).id
          : s.updateAlert(open[i >> 1]!.id, { comment: `${i}` }).id,
      );
    }
    expect((await changedSince(s, watermark)).map((a) => a.id)).toEqual(order);
    const filter = encodeURIComponent(`lastUpdateTime gt ${watermark}`);
    const second = values<AlertDto>(
      await call(s, `/api/alerts?$filter=${filter}&$orderby=lastUpdateTime&$top=2&$skip=2`),
    );
    expect(second.map((a) => a.id)).toEqual(order.slice(2, 4));
  });
});

describe('background changes', () => {
  it('with a rate, bring that many changes a minute, chosen from the seed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const run = async () => {
      const s = await testSimulator({ sizes: SMALL, clock: manualClock(), alertChangesPerMinute: 6 });
      try {
        const watermark = await latestUpdate(s);
        vi.advanceTimersByTime(60_000);
        return { changed: await changedSince(s, watermark), count: s.tenant.alerts.length };
      } finally {
        await s.close();
      }
    };
    const first = await run();
    // On a clock that stands still, the n-th change is n ticks after the tenant's now: the last is the sixth.
    expect(first.changed.length).toBeGreaterThan(0);
    expect(first.changed.at(-1)?.lastUpdateTime).toBe('2026-11-01T00:00:00.0000006Z');
    expect(first.count).toBeGreaterThanOrEqual(SMALL.alerts);
    expect(await run()).toEqual(first);
  });

  it('are off by default, however long the simulator runs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const s = await start();
    const before = (await call(s, '/api/alerts')).text;
    vi.advanceTimersByTime(3_600_000);
    expect((await call(s, '/api/alerts')).text).toBe(before);
  });

  it('read SIMULATOR_ALERT_CHANGES_PER_MINUTE, off unless set, and refuse absurd rates', () => {
    expect(readSimulatorEnv({}).options.alertChangesPerMinute).toBeUndefined();
    expect(readSimulatorEnv({ SIMULATOR_ALERT_CHANGES_PER_MINUTE: '12' }).options.alertChangesPerMinute).toBe(
      12,
    );
    expect(() => readSimulatorEnv({ SIMULATOR_ALERT_CHANGES_PER_MINUTE: '-1' })).toThrow(
      /^SIMULATOR_ALERT_CHANGES_PER_MINUTE: /,
    );
    expect(() => readSimulatorEnv({ SIMULATOR_ALERT_CHANGES_PER_MINUTE: '100000' })).toThrow(/at most 6000/);
  });
});

describe('SIMULATOR_TOKENS', () => {
  it('names who writes with a token, after its device groups', () => {
    const { tokens } = readSimulatorEnv({
      SIMULATOR_TOKENS: 'alice-token:41|42:alice@contoso.com,app-token::triage-app,bob-token',
    }).options;
    expect(tokens.slice(1)).toEqual([
      { token: 'alice-token', rbacGroupIds: [41, 42], principal: 'alice@contoso.com' },
      { token: 'app-token', principal: 'triage-app' },
      { token: 'bob-token' },
    ]);
    expect(() => readSimulatorEnv({ SIMULATOR_TOKENS: 'x:1:a:b' })).toThrow(/^SIMULATOR_TOKENS: /);
  });
});
