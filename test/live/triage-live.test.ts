import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';
import type { LiveClient } from '../helpers/live.js';
import { eventually, wsClient } from '../helpers/live.js';

/*
 * A write reaches live subscribers at once: the gateway announces the alert Defender answered as UPDATED to
 * the writer's identity's subscribers, without waiting for the next poll, and the poll that later finds the
 * same change does not tell it again.
 */

const ROOMY = parseRateLimits('100000/60s');
const CHANGES = 'subscription { alertChanges { kind alert { id status assignedTo } } }';
const UPDATE = `mutation($id: ID!, $input: UpdateAlertInput!) { updateAlert(id: $id, input: $input) { id } }`;
const UPDATE_MANY = `mutation($ids: [ID!]!, $input: UpdateAlertInput!) { updateAlerts(ids: $ids, input: $input) { id } }`;

interface Change {
  alertChanges: { kind: string; alert: { id: string; status: string; assignedTo: string | null } };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(pollIntervalMs: number): Promise<TestGateway> {
  const gw = await startTestGateway({
    simulator: { sizes: { machines: 40, users: 20, alerts: 150 }, rateLimits: ROOMY },
    rateLimits: ROOMY,
    server: { live: { pollIntervalMs } },
  });
  cleanups.push(() => gw.close());
  return gw;
}

function client(gw: TestGateway): LiveClient {
  const c = wsClient(gw.url);
  cleanups.push(() => c.dispose());
  return c;
}

const pollCalls = (gw: TestGateway) =>
  callsTo(gw.sim.calls, 'alerts').filter((c) => c.query['$orderby']?.startsWith('lastUpdateTime'));

describe('a write seen by live subscribers', () => {
  it('arrives at once, long before the next poll', async () => {
    const gw = await gateway(60_000);
    const stream = client(gw).subscribe<Change>(CHANGES);
    // The first tick only finds the watermark; the next is a minute away.
    await eventually(() => pollCalls(gw).length === 1);
    const alert = gw.sim.tenant.alerts.find((a) => a.status === 'New')!;

    const res = await gw.query(UPDATE, { id: alert.id, input: { status: 'IN_PROGRESS', assignedTo: 'bob' } });
    expect(res.errors).toBeUndefined();
    const first = await stream.nth(1, 2_000);
    expect(first.data).toEqual({
      alertChanges: { kind: 'UPDATED', alert: { id: alert.id, status: 'IN_PROGRESS', assignedTo: 'bob' } },
    });
    expect(pollCalls(gw)).toHaveLength(1);
  });

  it('arrives once per alert for updateAlerts by batchUpdate, and the next polls do not tell it again', async () => {
    const gw = await gateway(400);
    const stream = client(gw).subscribe<Change>(CHANGES);
    await eventually(() => pollCalls(gw).some((c) => c.query['$filter']?.startsWith('lastUpdateTime ge')));
    const ids = gw.sim.tenant.alerts
      .filter((a) => a.status !== 'Resolved')
      .slice(0, 12)
      .map((a) => a.id);

    const res = await gw.query(UPDATE_MANY, { ids, input: { status: 'RESOLVED' } });
    expect(res.errors).toBeUndefined();
    await stream.nth(12, 2_000);
    // Let two more polls find the same changes.
    const polls = pollCalls(gw).length;
    await eventually(() => pollCalls(gw).length >= polls + 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.results.map((r) => r.data!.alertChanges.alert.id).sort()).toEqual([...ids].sort());
    expect(stream.results.every((r) => r.data!.alertChanges.kind === 'UPDATED')).toBe(true);
  });
});
