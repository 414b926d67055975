import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { Simulator } from '../../src/simulator/server.js';
import { callsTo } from '../helpers/gateway.js';
import type { LiveClient, Stream } from '../helpers/live.js';
import { eventually, wsClient } from '../helpers/live.js';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';
import type { PrivateRedis } from '../helpers/redis.js';
import { startPrivateRedis } from '../helpers/redis.js';
import { TOKEN, testSimulator } from '../helpers/simulator.js';

/*
 * A poller that dies for real: two gateway processes (`src/index.ts`, as operators run them) share a private
 * redis-server (CACHE_URL), each with a real graphql-ws subscriber, so that exactly one of them holds the poll
 * lease for the identity. That process is SIGKILLed: it cannot give the lease back nor say goodbye to Redis. The
 * survivor must take the lease over within one ALERT_POLL_SECONDS and find, from the watermark in Redis, a change
 * made after the kill. Polls are counted where Defender would see them, in the simulator's call log (the
 * simulator runs in this process, so the test creates alerts and reads its calls directly).
 * test/live/replicas.test.ts covers the same in one process, with the holder's Redis connection cut instead.
 */

const POLL_SECONDS = 1;
const POLL_MS = POLL_SECONDS * 1000;
/** Room enough that no poll is skipped for budget (the poll share of Defender's 100/min is 20 a minute). */
const ROOMY = '100000/60s';
const CHANGES = 'subscription Changes { alertChanges { kind alert { id title } } }';

interface Change {
  readonly alertChanges: {
    readonly kind: string;
    readonly alert: { readonly id: string; readonly title: string };
  };
}

let sim: Simulator;
let redis: PrivateRedis;
const replicas: { child: Child; url: string }[] = [];
const clients: LiveClient[] = [];

/** The polls of the alert queue (one per tick of the identity's one poller), oldest first. */
const polls = () =>
  callsTo(sim.calls, 'alerts').filter((c) => c.query['$orderby']?.startsWith('lastUpdateTime'));

async function pollers(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^live_alert_pollers (\d+)/m.exec(text)?.[1] ?? NaN);
}

beforeAll(async () => {
  sim = await testSimulator({
    sizes: { machines: 40, users: 20, alerts: 150 },
    rateLimits: parseRateLimits(ROOMY),
  });
  redis = await startPrivateRedis();
  const ports = await Promise.all([freePort(), freePort()]);
  const children = await Promise.all(
    ports.map((port) =>
      startProgram(
        'src/index.ts',
        {
          PORT: String(port),
          DEFENDER_API_URL: sim.url,
          DEFENDER_TOKEN: TOKEN,
          AUTH_MODE: 'none',
          CACHE_URL: redis.url,
          GATEWAY_REPLICAS: '2',
          DEFENDER_RATE_LIMITS: ROOMY,
          ALERT_POLL_SECONDS: String(POLL_SECONDS),
        },
        /GraphQL on/,
        60_000,
      ),
    ),
  );
  children.forEach((child, i) => replicas.push({ child, url: `http://127.0.0.1:${ports[i]}` }));
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await Promise.all(replicas.map((r) => r.child.stop()));
  await redis?.kill();
  await sim?.close();
});

describe('two gateway processes sharing Redis, one of them the poller', () => {
  it('the survivor takes over within one interval when the poller is SIGKILLed, and a later change reaches it', async () => {
    const streams: Stream<Change>[] = [];
    for (const { url } of replicas) {
      const client = wsClient(url);
      clients.push(client);
      streams.push(client.subscribe<Change>(CHANGES));
      // One after the other, so that the first one's process takes the lease.
      await eventually(
        async () => (await pollers(replicas[0]!.url)) + (await pollers(replicas[1]!.url)) === 1,
      );
    }
    // The poller has its watermark once a poll from it went out.
    await eventually(() => polls().some((c) => c.query['$filter']?.startsWith('lastUpdateTime ge')), 10_000);
    const counts = await Promise.all(replicas.map((r) => pollers(r.url)));
    expect([...counts].sort()).toEqual([0, 1]);
    const holder = counts.indexOf(1);
    const survivor = 1 - holder;

    // Both subscribers see a change: one poll between the two processes, through Redis to the other.
    const before = sim.createAlert({ machineId: onboardedMachine(), title: 'Before the kill' });
    for (const stream of streams) expect((await stream.nth(1)).data?.alertChanges.alert.id).toBe(before.id);

    // SIGKILL: no shutdown, no lease given back, its connection to Redis simply gone.
    const killed = replicas[holder]!.child;
    const exited = new Promise((resolve) => killed.process.once('exit', resolve));
    killed.process.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    const pollsAtKill = polls().length;
    const after = sim.createAlert({ machineId: onboardedMachine(), title: 'After the kill' });

    // The survivor's subscriber gets the change made after the kill (its first event after the one before).
    const event = await streams[survivor]!.nth(2, 10_000);
    expect(event.data?.alertChanges).toMatchObject({ kind: 'CREATED', alert: { id: after.id } });
    expect(streams[survivor]!.error).toBeUndefined();
    expect(await pollers(replicas[survivor]!.url)).toBe(1);

    // At the simulator: the first poll after the kill came within one interval of the lease running out (the
    // lease lasts two thirds of an interval), and from then on one poll per interval, the survivor's alone.
    const taken = polls().slice(pollsAtKill);
    expect(taken.length).toBeGreaterThan(0);
    const takeoverMs = taken[0]!.at - killedAt;
    console.log(`live takeover: first poll ${takeoverMs} ms after the SIGKILL (interval ${POLL_MS} ms)`);
    expect(takeoverMs).toBeLessThanOrEqual(POLL_MS + (2 * POLL_MS) / 3);
    const watched = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3 * POLL_MS));
    const steady = polls().filter((c) => c.at >= watched);
    expect(steady.length).toBeLessThanOrEqual(Math.ceil((Date.now() - watched) / POLL_MS) + 1);
  });
});

/** A machine the simulator's tenant has onboarded, for its alerts. */
function onboardedMachine(): string {
  return sim.tenant.machines.find((m) => m.onboardingStatus === 'Onboarded')!.id;
}
