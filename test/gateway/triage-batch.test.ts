import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import type { TestGateway, TestGatewayOptions } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';

/**
 * `updateAlerts`: the same change on many alerts, by one PATCH each up to 10 ids and by `POST
 * alerts/batchUpdate` (per 100 ids) above. What is asserted is what Defender saw (the call log's routes and
 * bodies), what each entry of the answer says, and what the next query shows.
 */

const UPDATE_MANY = `mutation Many($ids: [ID!]!, $input: UpdateAlertInput!) {
  updateAlerts(ids: $ids, input: $input) { id status comments { comment } }
}`;
const READ = `query Read($id: ID!) { alert(id: $id) { id status } }`;

interface Many {
  updateAlerts: ({ id: string; status: string; comments: { comment: string }[] } | null)[] | null;
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function start(options: TestGatewayOptions = {}) {
  gw = await startTestGateway({ simulator: { sizes: { machines: 60, users: 30, alerts: 300 } }, ...options });
  return gw;
}

const patches = (g: TestGateway) => g.sim.calls.filter((c) => c.method === 'PATCH');
const batches = (g: TestGateway) => g.sim.calls.filter((c) => c.api === 'POST alerts/batchUpdate');
const someAlerts = (g: TestGateway, n: number) => g.sim.tenant.alerts.slice(0, n).map((a) => a.id);
const newAlerts = (g: TestGateway, n: number) => {
  const ids = g.sim.tenant.alerts.filter((a) => a.status === 'New').map((a) => a.id);
  expect(ids.length).toBeGreaterThanOrEqual(n);
  return ids.slice(0, n);
};

describe('updateAlerts', () => {
  it('sends one PATCH per alert up to 10, and answers each alert in the order of the ids', async () => {
    const g = await start();
    const ids = newAlerts(g, 3);
    const res = await g.query<Many>(UPDATE_MANY, { ids, input: { status: 'IN_PROGRESS' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateAlerts!.map((a) => [a?.id, a?.status])).toEqual(
      ids.map((id) => [id, 'IN_PROGRESS']),
    );
    expect(patches(g).map((c) => [c.id, JSON.parse(c.body!)])).toEqual(
      expect.arrayContaining(ids.map((id) => [id, { status: 'InProgress' }])),
    );
    expect(patches(g)).toHaveLength(3);
    expect(batches(g)).toEqual([]);
    expect(res.extensions?.upstream).toMatchObject({ calls: 3 });
  });

  it('above 10 alerts sends one batchUpdate per 100, reads the alerts back, and the next query shows them', async () => {
    const g = await start();
    const ids = someAlerts(g, 150);
    const res = await g.query<Many>(UPDATE_MANY, {
      ids,
      input: { status: 'RESOLVED', comment: 'bulk close' },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateAlerts!.map((a) => a?.id)).toEqual(ids);
    for (const alert of res.data!.updateAlerts!) {
      expect(alert!.status).toBe('RESOLVED');
      expect(alert!.comments.filter((c) => c.comment === 'bulk close')).toHaveLength(1);
    }
    expect(patches(g)).toEqual([]);
    expect(batches(g).map((c) => JSON.parse(c.body!))).toEqual([
      { alertIds: ids.slice(0, 100), status: 'Resolved', comment: 'bulk close' },
      { alertIds: ids.slice(100), status: 'Resolved', comment: 'bulk close' },
    ]);
    // Read before (nothing cached: 150 ids, 50 a call) and back after the write.
    expect(callsTo(g.sim.calls, 'alerts')).toHaveLength(6);

    const calls = g.sim.calls.length;
    const read = await g.query<{ alert: { status: string } }>(READ, { id: ids[120] });
    expect(read.data).toEqual({ alert: { id: ids[120], status: 'RESOLVED' } });
    expect(g.sim.calls.length).toBe(calls);
  });

  it('leaves out of the batch the alerts Defender does not have: null for them, the others updated', async () => {
    const g = await start();
    const ids = [...newAlerts(g, 11)];
    ids.splice(4, 0, 'da000000000000000000_1');
    const res = await g.query<Many>(UPDATE_MANY, { ids, input: { status: 'IN_PROGRESS' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateAlerts![4]).toBeNull();
    expect(res.data!.updateAlerts!.filter((a) => a?.status === 'IN_PROGRESS')).toHaveLength(11);
    expect(batches(g).map((c) => (JSON.parse(c.body!) as { alertIds: string[] }).alertIds)).toEqual([
      ids.filter((id) => id !== 'da000000000000000000_1'),
    ]);
  });

  it('shows a failure on its own entry, and never sends a comment again after a 5xx', async () => {
    const g = await start();
    const ids = newAlerts(g, 3);
    g.sim.injectFault({
      api: 'PATCH alerts/{id}',
      id: ids[1]!,
      fault: { kind: 'status', status: 500 },
      times: 1,
    });
    const res = await g.query<Many>(UPDATE_MANY, { ids, input: { comment: 'seen' } });
    expect(res.data!.updateAlerts!.map((a) => a?.id ?? null)).toEqual([ids[0], null, ids[2]]);
    expect(res.errors).toEqual([
      expect.objectContaining({
        path: ['updateAlerts', 1],
        extensions: { code: 'UPSTREAM_UNAVAILABLE', outcome: 'unknown' },
      }),
    ]);
    expect(patches(g).filter((c) => c.id === ids[1])).toHaveLength(1);
  });

  it('never sends a comment-bearing batch again after a 503: every alert of it says the outcome is unknown', async () => {
    const g = await start();
    const ids = newAlerts(g, 12);
    g.sim.injectFault({ api: 'POST alerts/batchUpdate', fault: { kind: 'status', status: 503 }, times: 1 });
    const res = await g.query<Many>(UPDATE_MANY, { ids, input: { comment: 'escalated' } });
    expect(res.data!.updateAlerts).toEqual(ids.map(() => null));
    expect(res.errors).toHaveLength(12);
    expect(res.errors!.map((e) => [e.path, e.extensions?.['outcome']])).toEqual(
      ids.map((_, i) => [['updateAlerts', i], 'unknown']),
    );
    expect(batches(g)).toHaveLength(1);
  });

  it('retries a comment-free batch after a 503', async () => {
    const g = await start();
    const ids = newAlerts(g, 12);
    g.sim.injectFault({ api: 'POST alerts/batchUpdate', fault: { kind: 'status', status: 503 }, times: 1 });
    const res = await g.query<Many>(UPDATE_MANY, { ids, input: { status: 'RESOLVED' } });
    expect(res.errors).toBeUndefined();
    expect(batches(g).map((c) => c.status)).toEqual([503, 200]);
  });

  it.each([
    ['no id', []],
    ['201 ids', Array.from({ length: 201 }, (_, i) => `da00000000000000000${String(i).padStart(3, '0')}_1`)],
    ['an id twice', ['da000000000000000001_1', 'da000000000000000002_1', 'da000000000000000001_1']],
    ['a malformed id', ['da000000000000000001_1', '../machines']],
  ])('refuses %s with BAD_USER_INPUT and no call', async (_, ids) => {
    const g = await start();
    const res = await g.query(UPDATE_MANY, { ids, input: { status: 'RESOLVED' } });
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(g.sim.calls).toEqual([]);
  });

  it('refuses a caller who may not write with FORBIDDEN and no call', async () => {
    const g = await start({ server: { writesDisabled: true } });
    const res = await g.query(UPDATE_MANY, { ids: newAlerts(g, 20), input: { status: 'RESOLVED' } });
    expect(res.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(g.sim.calls).toEqual([]);
  });

  it('counts its calls before any: past MAX_OPERATION_CALLS it is refused with none sent', async () => {
    const g = await start({ server: { maxOperationCalls: 5 } });
    // 2 batchUpdate calls, 3 reads before and 3 after.
    const res = await g.query(UPDATE_MANY, { ids: someAlerts(g, 150), input: { status: 'RESOLVED' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_EXPENSIVE' });
    expect(g.sim.calls).toEqual([]);
  });

  it('writes one audit line per alert, with its values before when they were at hand', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const g = await start({ server: { logger: createLogger('info', stream) } });
    const ids = newAlerts(g, 12);
    await g.query(UPDATE_MANY, { ids, input: { status: 'IN_PROGRESS' } });
    const audit = lines.filter((l) => l['audit'] === 'alert-write');
    expect(audit.map((l) => l['alertIds'])).toEqual(ids.map((id) => [id]));
    for (const line of audit)
      expect(line).toMatchObject({
        outcome: 'updated',
        changes: { status: { from: 'New', to: 'InProgress' } },
        who: 'anonymous',
      });
    expect(JSON.stringify(audit)).not.toMatch(/simulator-token|Bearer|127\.0\.0\.1/);
  });
});
