import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisConnection } from '../../src/cache/redis.js';
import { closeRedis, connectRedis } from '../../src/cache/redis.js';
import { createRedisCache } from '../../src/cache/redis-cache.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { Simulator } from '../../src/simulator/server.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';
import type { LiveClient } from '../helpers/live.js';
import { eventually, wsClient } from '../helpers/live.js';
import { testSimulator } from '../helpers/simulator.js';

/*
 * Two replicas sharing Redis (REDIS_URL, a prefix of the test's own): one polls for the identity, the other
 * gets the changes through Redis, and when the poller dies another takes over within one interval.
 */

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const POLL_MS = 300;
const ROOMY = parseRateLimits('100000/60s');
const CHANGES = 'subscription { alertChanges { kind alert { id } } }';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redis(): Promise<RedisConnection> {
  const client = connectRedis(REDIS_URL, { onError: () => {} });
  cleanups.push(() => closeRedis(client));
  await eventually(() => client.isReady);
  return client;
}

/** One replica: its own Redis connection (so a test can cut it), the shared prefix, cache and simulator. */
async function replica(sim: Simulator, prefix: string): Promise<{ gw: TestGateway; redis: RedisConnection }> {
  const connection = await redis();
  const gw = await startTestGateway({
    sharedSimulator: sim,
    rateLimits: ROOMY,
    cache: createRedisCache(connection, { namespace: `${prefix}:cache` }),
    server: { live: { pollIntervalMs: POLL_MS, shared: { redis: connection, prefix } } },
  });
  cleanups.push(() => gw.close());
  return { gw, redis: connection };
}

function client(gw: TestGateway): LiveClient {
  const c = wsClient(gw.url);
  cleanups.push(() => c.dispose());
  return c;
}

async function pollers(gw: TestGateway): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(/^live_alert_pollers (\d+)/m.exec(text)?.[1] ?? NaN);
}

const pollCalls = (sim: Simulator) =>
  callsTo(sim.calls, 'alerts').filter((c) => c.query['$orderby']?.startsWith('lastUpdateTime'));

function machine(sim: Simulator): string {
  return sim.tenant.machines.find((m) => m.onboardingStatus === 'Onboarded')!.id;
}

describe('live alerts across replicas sharing Redis', () => {
  it('poll once between them, and deliver every change to the subscribers of both', async () => {
    const sim = await testSimulator({ sizes: { machines: 40, users: 20, alerts: 150 }, rateLimits: ROOMY });
    cleanups.push(() => sim.close());
    const prefix = `test:live:${randomUUID()}`;
    const a = await replica(sim, prefix);
    const b = await replica(sim, prefix);

    const onA = client(a.gw).subscribe<{ alertChanges: { alert: { id: string } } }>(CHANGES);
    await eventually(async () => (await pollers(a.gw)) === 1);
    const onB = client(b.gw).subscribe<{ alertChanges: { alert: { id: string } } }>(CHANGES);
    await eventually(() => pollCalls(sim).some((c) => c.query['$filter']?.startsWith('lastUpdateTime ge')));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 2));
    expect(await pollers(b.gw)).toBe(0);

    sim.resetCalls();
    const started = Date.now();
    const created = sim.createAlert({ machineId: machine(sim) });
    expect((await onA.nth(1)).data?.alertChanges.alert.id).toBe(created.id);
    expect((await onB.nth(1)).data?.alertChanges.alert.id).toBe(created.id);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
    const elapsed = Date.now() - started;

    // What one replica alone would send: one poll per tick, not one per replica.
    expect(pollCalls(sim).length).toBeLessThanOrEqual(Math.ceil(elapsed / POLL_MS) + 1);
    expect(await pollers(a.gw)).toBe(1);
    expect(await pollers(b.gw)).toBe(0);
  });

  it('replace a poller that died within one interval, from where it stopped', async () => {
    const sim = await testSimulator({ sizes: { machines: 40, users: 20, alerts: 150 }, rateLimits: ROOMY });
    cleanups.push(() => sim.close());
    const prefix = `test:live:${randomUUID()}`;
    const a = await replica(sim, prefix);
    const b = await replica(sim, prefix);
    const viaA = wsClient(a.gw.url);
    viaA.subscribe(CHANGES);
    await eventually(async () => (await pollers(a.gw)) === 1);
    const onB = client(b.gw).subscribe<{ alertChanges: { alert: { id: string } } }>(CHANGES);
    await eventually(() => pollCalls(sim).some((c) => c.query['$filter']?.startsWith('lastUpdateTime ge')));
    expect(await pollers(b.gw)).toBe(0);

    // Replica A dies: it no longer reaches Redis (so it cannot give the lease back) and its subscribers are gone.
    a.redis.destroy();
    await viaA.dispose();
    await eventually(async () => (await pollers(a.gw)) === 0);
    const died = Date.now();
    // A change while nobody polls: the replica taking over finds it from the watermark A left.
    const created = sim.createAlert({ machineId: machine(sim) });

    await eventually(async () => (await pollers(b.gw)) === 1, POLL_MS * 5);
    expect(Date.now() - died).toBeLessThanOrEqual(POLL_MS + 200);
    expect((await onB.nth(1)).data?.alertChanges.alert.id).toBe(created.id);
  });
});
