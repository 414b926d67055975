import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UserDto } from '../../src/defender/types.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';
import type { LiveClient, Stream, Transport } from '../helpers/live.js';
import { eventually, liveClient } from '../helpers/live.js';

/*
 * Subscription.alertChanges against the simulator, over both transports with the real clients: a change made
 * in the simulator (sim.createAlert, sim.updateAlert) reaches the subscribers whose filter it passes, and no
 * other; the poll costs what one subscriber costs; nested selections resolve; unsubscribing stops the poll.
 */

const POLL_MS = 150;
const SMALL = { machines: 40, users: 20, alerts: 150 };
const ROOMY = parseRateLimits('100000/60s');

let gw: TestGateway;
const clients: LiveClient[] = [];

beforeAll(async () => {
  // Polls every 150 ms would spend Defender's 100 calls a minute (and polling's share of them) in seconds.
  gw = await startTestGateway({
    simulator: { sizes: SMALL, rateLimits: ROOMY },
    rateLimits: ROOMY,
    server: { live: { pollIntervalMs: POLL_MS } },
  });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  // Every subscriber gone: the next test starts with no poller.
  await eventually(async () => (await pollers()) === 0);
  gw.sim.resetCalls();
});
afterAll(() => gw.close());

function client(transport: Transport): LiveClient {
  const c = liveClient(transport, gw.url);
  clients.push(c);
  return c;
}

interface Change {
  alertChanges: { kind: string; alert: Record<string, unknown> };
}

const CHANGES = `subscription ($filter: AlertFilter) {
  alertChanges(filter: $filter) { kind alert { id title severity status } }
}`;

/** A machine with a user logged on, to raise alerts on. */
function machineWithUser(): { machineId: string; user: UserDto } {
  const { tenant } = gw.sim;
  const machine = tenant.machines.find(
    (m) => m.onboardingStatus === 'Onboarded' && tenant.logonUsers(m.id).length > 0,
  )!;
  return { machineId: machine.id, user: tenant.logonUsers(machine.id)[0]! };
}

/** The live_alert_pollers gauge, read from /metrics. */
async function pollers(): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(/^live_alert_pollers (\d+)/m.exec(text)?.[1] ?? NaN);
}

/**
 * Resolves once the poller has its watermark (its first call finds it; the calls after it use it): a change
 * made from now on is found by a later tick.
 */
async function polling(): Promise<void> {
  await eventually(() => pollCalls().some((c) => c.query['$filter']?.startsWith('lastUpdateTime ge')));
}

/** The poll's calls the simulator saw: `GET /api/alerts` with a `$orderby` on `lastUpdateTime`. */
function pollCalls() {
  return callsTo(gw.sim.calls, 'alerts').filter((c) => c.query['$orderby']?.startsWith('lastUpdateTime'));
}

/** Waits a few ticks to let anything that would arrive arrive. */
const afewTicks = () => new Promise((resolve) => setTimeout(resolve, POLL_MS * 4));

describe.each(['websocket', 'sse'] as const)('alertChanges over %s', (transport) => {
  it('delivers a created alert to the subscribers whose filter it passes, and to no other', async () => {
    const high = client(transport).subscribe<Change>(CHANGES, { filter: { severity: ['HIGH'] } });
    const low = client(transport).subscribe<Change>(CHANGES, { filter: { severity: ['LOW'] } });
    const all = client(transport).subscribe<Change>(CHANGES);
    await polling();

    const created = gw.sim.createAlert({
      machineId: machineWithUser().machineId,
      severity: 'High',
      title: 'Live one',
    });

    const event = await high.nth(1);
    expect(event.errors).toBeUndefined();
    expect(event.data?.alertChanges).toEqual({
      kind: 'CREATED',
      alert: { id: created.id, title: 'Live one', severity: 'HIGH', status: 'NEW' },
    });
    expect((await all.nth(1)).data?.alertChanges.alert['id']).toBe(created.id);
    await afewTicks();
    expect(low.results).toEqual([]);
    expect(high.results).toHaveLength(1);
  });

  it('delivers an updated alert as UPDATED to the subscribers whose filter it passes, and to no other', async () => {
    const existing = gw.sim.tenant.alerts.find((a) => a.status === 'New')!;
    const inProgress = client(transport).subscribe<Change>(CHANGES, { filter: { status: ['IN_PROGRESS'] } });
    const fresh = client(transport).subscribe<Change>(CHANGES, { filter: { status: ['NEW'] } });
    const byId = client(transport).subscribe<Change>(CHANGES, { filter: { ids: [existing.id] } });
    await polling();

    gw.sim.updateAlert(existing.id, { status: 'InProgress', assignedTo: 'analyst@contoso.com' });

    const event = await inProgress.nth(1);
    expect(event.data?.alertChanges.kind).toBe('UPDATED');
    expect(event.data?.alertChanges.alert).toMatchObject({ id: existing.id, status: 'IN_PROGRESS' });
    expect((await byId.nth(1)).data?.alertChanges.alert['id']).toBe(existing.id);
    await afewTicks();
    expect(fresh.results).toEqual([]);
  });

  it('refuses a malformed filter with BAD_USER_INPUT before any poll', async () => {
    gw.sim.resetCalls();
    const bad = client(transport).subscribe<Change>(CHANGES, { filter: { ids: ['../machines'] } });
    await bad.ended();
    expect(bad.results[0]?.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(gw.sim.calls).toEqual([]);
  });
});

describe('one poll for every subscriber', () => {
  it('200 subscribers over 10 filters cost the alerts calls of one, and share the calls of their selections', async () => {
    const statuses = ['NEW', 'IN_PROGRESS', 'RESOLVED'];
    const severities = ['HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];
    const filters = [
      ...severities.map((s) => ({ severity: [s] })),
      ...statuses.map((s) => ({ status: [s] })),
      { severity: ['HIGH'], status: ['NEW'] },
      { severity: ['HIGH', 'MEDIUM'] },
      {},
    ];
    expect(filters).toHaveLength(10);
    const nested = `subscription ($filter: AlertFilter) {
      alertChanges(filter: $filter) { kind alert { id machine { id osPlatform healthStatus } } }
    }`;
    // 10 connections of 20 subscriptions each (LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION's default).
    const streams: Stream<Change>[] = [];
    for (let c = 0; c < 10; c++) {
      const connection = client('websocket');
      for (let s = 0; s < 20; s++)
        streams.push(connection.subscribe<Change>(nested, { filter: filters[(c * 20 + s) % 10] }));
    }
    await polling();
    gw.sim.resetCalls();
    const started = Date.now();

    const created = gw.sim.createAlert({ machineId: machineWithUser().machineId, severity: 'High' });
    // A new HIGH alert passes HIGH, NEW, HIGH and NEW, HIGH or MEDIUM, and no filter at all.
    const passes = [0, 4, 7, 8, 9];
    const matching = streams.filter((_, i) => passes.includes(i % 10));
    await Promise.all(matching.map((s) => s.nth(1)));
    const elapsed = Date.now() - started;

    for (const s of matching) {
      expect(s.results[0]!.errors).toBeUndefined();
      expect(s.results[0]!.data?.alertChanges.alert['machine']).toMatchObject({ id: created.machineId });
    }
    // One poll per tick, whatever the number of subscribers: the ticks that fit in the time elapsed, and one more.
    expect(pollCalls().length).toBeLessThanOrEqual(Math.ceil(elapsed / POLL_MS) + 1);
    // 100 subscribers asked for the alert's machine: one call, shared by all of them.
    expect(callsTo(gw.sim.calls, 'machines/{id}').length + callsTo(gw.sim.calls, 'machines').length).toBe(1);
    await afewTicks();
    const others = streams.filter((_, i) => !passes.includes(i % 10));
    expect(others).toHaveLength(100);
    expect(others.every((s) => s.results.length === 0)).toBe(true);
  });
});

describe('nested selections', () => {
  it('resolve the alert’s machine and user with their relationships, as a query would', async () => {
    const { machineId, user } = machineWithUser();
    const selection = `{ id machine { id computerDnsName healthStatus } user { id machines { id } } }`;
    const stream = client('websocket').subscribe<Change>(
      `subscription { alertChanges { kind alert ${selection} } }`,
    );
    await polling();

    const created = gw.sim.createAlert({ machineId, user: `${user.accountDomain}\\${user.accountName}` });
    const event = await stream.nth(1);

    expect(event.errors).toBeUndefined();
    const queried = await gw.query<{ alert: unknown }>(`{ alert(id: "${created.id}") ${selection} }`);
    expect(event.data?.alertChanges.alert).toEqual(queried.data?.alert);
    expect(event.data?.alertChanges.alert['user']).toMatchObject({
      machines: expect.arrayContaining([{ id: machineId }]),
    });
  });
});

describe('the poller’s life', () => {
  it('runs only while someone is subscribed: unsubscribing or disconnecting everyone stops the polling', async () => {
    const a = client('websocket').subscribe<Change>(CHANGES);
    const sse = client('sse');
    sse.subscribe<Change>(CHANGES, { filter: { severity: ['LOW'] } });
    await polling();
    expect(await pollers()).toBe(1);

    a.unsubscribe();
    await afewTicks();
    expect(await pollers()).toBe(1);
    // The last one goes away without unsubscribing: its connection closes.
    await sse.dispose();
    await eventually(async () => (await pollers()) === 0);
    gw.sim.resetCalls();
    await afewTicks();

    expect(pollCalls()).toEqual([]);
  });
});
