import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { redisGenerations } from '../../src/cache/alert-generation.js';
import type { RedisConnection } from '../../src/cache/redis.js';
import { closeRedis, connectRedis } from '../../src/cache/redis.js';
import { createRedisCache } from '../../src/cache/redis-cache.js';
import type { Simulator } from '../../src/simulator/server.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { eventually } from '../helpers/live.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * No stale read after a write: every cached answer that shows alerts (a page of `alerts`, a machine's alerts,
 * an alert by id) and every stored result built on them carries the alerts' generation, which a write moves on
 * (cache/alert-generation.ts), in this process or, through Redis, on every replica.
 */

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const UPDATE = `mutation($id: ID!, $input: UpdateAlertInput!) { updateAlert(id: $id, input: $input) { id } }`;
const PAGE = `{ alerts(first: 5) { nodes { id status assignedTo } } }`;
const ONE = `query($id: ID!) { alert(id: $id) { id status assignedTo } }`;
const MACHINE_ALERTS = `query($id: ID!) { machine(id: $id) { alerts { id status } } }`;

interface Alert {
  id: string;
  status: string;
  assignedTo: string | null;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startTestGateway(options);
  cleanups.push(() => gw.close());
  return gw;
}

/** A status other than the alert's, as the mutation's enum spells it. */
const otherStatus = (status: string) => (status === 'RESOLVED' ? 'IN_PROGRESS' : 'RESOLVED');

async function page(gw: TestGateway): Promise<Alert[]> {
  const res = await gw.query<{ alerts: { nodes: Alert[] } }>(PAGE);
  expect(res.errors).toBeUndefined();
  return res.data!.alerts.nodes;
}

describe('reads after a write', () => {
  it('show the new status in a cached page, a cached alert and a machine’s cached alerts', async () => {
    const gw = await gateway();
    const [first] = await page(gw);
    const machineId = gw.sim.tenant.alerts.find((a) => a.id === first!.id)!.machineId;
    await gw.query(ONE, { id: first!.id });
    await gw.query(MACHINE_ALERTS, { id: machineId });
    // All three are cached now: reading them again costs nothing.
    const before = gw.sim.calls.length;
    await page(gw);
    await gw.query(ONE, { id: first!.id });
    await gw.query(MACHINE_ALERTS, { id: machineId });
    expect(gw.sim.calls.length).toBe(before);

    const status = otherStatus(first!.status);
    const write = await gw.query(UPDATE, { id: first!.id, input: { status } });
    expect(write.errors).toBeUndefined();

    expect((await page(gw)).find((a) => a.id === first!.id)!.status).toBe(status);
    const one = await gw.query<{ alert: Alert }>(ONE, { id: first!.id });
    expect(one.data!.alert.status).toBe(status);
    const onMachine = await gw.query<{ machine: { alerts: Alert[] } }>(MACHINE_ALERTS, { id: machineId });
    expect(onMachine.data!.machine.alerts.find((a) => a.id === first!.id)!.status).toBe(status);
  });

  it('never return a value older than the last write that resolved before they started (reads racing writes)', async () => {
    const gw = await gateway();
    const { reads, stale } = await readsRacingWrites(gw, gw);
    expect(reads).toBeGreaterThan(30);
    expect(stale).toBe(0);
  });
});

/**
 * Four clients read a page and one alert over and over through `reader`, while `writer` assigns the alert to
 * `analyst-0`, `analyst-1`, … one write after the other. A read is stale when it shows an assignment older
 * than the last write that had resolved when the read started.
 */
async function readsRacingWrites(
  writer: TestGateway,
  reader: TestGateway,
): Promise<{ reads: number; stale: number }> {
  const [target] = await page(reader);
  const id = target!.id;
  let lastResolved = -1;
  let writing = true;
  let stale = 0;
  let reads = 0;
  const version = (assignedTo: string | null | undefined) =>
    assignedTo?.startsWith('analyst-') ? Number(assignedTo.slice('analyst-'.length)) : -1;
  const client = async (n: number) => {
    const headers = { 'x-client-name': `dashboard-${n}` };
    while (writing) {
      const floor = lastResolved;
      const [list, one] = await Promise.all([
        reader.query<{ alerts: { nodes: Alert[] } }>(PAGE, {}, headers),
        reader.query<{ alert: Alert }>(ONE, { id }, headers),
      ]);
      reads += 2;
      const seen = [list.data?.alerts.nodes.find((a) => a.id === id)?.assignedTo, one.data?.alert.assignedTo];
      for (const assignedTo of seen) if (version(assignedTo) < floor) stale++;
    }
  };
  const clients = Array.from({ length: 4 }, (_, i) => client(i));
  for (let k = 0; k < 15; k++) {
    const res = await writer.query(UPDATE, { id, input: { assignedTo: `analyst-${k}` } });
    expect(res.errors).toBeUndefined();
    lastResolved = k;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  writing = false;
  await Promise.all(clients);
  return { reads, stale };
}

describe('two replicas sharing Redis', () => {
  async function redis(): Promise<RedisConnection> {
    const client = connectRedis(REDIS_URL, { onError: () => {} });
    cleanups.push(() => closeRedis(client));
    await eventually(() => client.isReady);
    return client;
  }

  async function replica(sim: Simulator, prefix: string): Promise<TestGateway> {
    const connection = await redis();
    return gateway({
      sharedSimulator: sim,
      cache: createRedisCache(connection, { namespace: `${prefix}:cache` }),
      client: { alertGenerations: redisGenerations(connection, { key: `${prefix}:alerts-generation` }) },
    });
  }

  it('agree after a write: B’s cached alert and page show what A wrote', async () => {
    const sim = await testSimulator();
    cleanups.push(() => sim.close());
    const prefix = `test:triage:${randomUUID()}`;
    const a = await replica(sim, prefix);
    const b = await replica(sim, prefix);

    const [first] = await page(b);
    await b.query(ONE, { id: first!.id });
    // B has both cached (Redis, and its own stored results): reading again costs nothing.
    const before = sim.calls.length;
    await page(b);
    await b.query(ONE, { id: first!.id });
    expect(sim.calls.length).toBe(before);

    const status = otherStatus(first!.status);
    const write = await a.query(UPDATE, {
      id: first!.id,
      input: { status, assignedTo: 'alice@contoso.com' },
    });
    expect(write.errors).toBeUndefined();

    const one = await b.query<{ alert: Alert }>(ONE, { id: first!.id });
    expect(one.data!.alert).toEqual({ id: first!.id, status, assignedTo: 'alice@contoso.com' });
    // The alert A stored after its write is what B reads: no call for it.
    expect(one.extensions?.upstream).toMatchObject({ calls: 0 });
    expect((await page(b)).find((a) => a.id === first!.id)).toMatchObject({ status });
  });

  it('agree under load: reads on B racing writes on A never show an assignment older than the last write', async () => {
    const sim = await testSimulator();
    cleanups.push(() => sim.close());
    const prefix = `test:triage:${randomUUID()}`;
    const a = await replica(sim, prefix);
    const b = await replica(sim, prefix);
    const { reads, stale } = await readsRacingWrites(a, b);
    expect(reads).toBeGreaterThan(30);
    expect(stale).toBe(0);
  });
});
