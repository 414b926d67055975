import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Permit } from '../../src/rate-limit/limiter.js';
import type { RedisConnection } from '../../src/cache/redis.js';
import { closeRedis, connectRedis } from '../../src/cache/redis.js';
import { RedisRateLimiter } from '../../src/rate-limit/redis-limiter.js';
import { shareOf } from '../../src/rate-limit/local-share.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { PrivateRedis } from '../helpers/redis.js';
import { startPrivateRedis } from '../helpers/redis.js';

/** The real Redis (`.ci/run` starts one when nothing listens on 6379). */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Nothing listens there: every command fails. */
const DEAD_REDIS_URL = 'redis://127.0.0.1:1';

const clients: RedisConnection[] = [];
const limiters: RedisRateLimiter[] = [];
const errors: unknown[] = [];
afterEach(async () => {
  for (const limiter of limiters.splice(0)) limiter.close();
  await Promise.all(clients.splice(0).map((c) => closeRedis(c)));
  errors.length = 0;
});

async function redis(url = REDIS_URL): Promise<RedisConnection> {
  const client = connectRedis(url, { onError: (error) => errors.push(error) });
  clients.push(client);
  if (url !== DEAD_REDIS_URL) {
    const deadline = Date.now() + 5_000;
    while (!client.isReady && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(client.isReady, `Redis at ${REDIS_URL}`).toBe(true);
  }
  return client;
}

/** A limiter (one "replica") over its own connection, with keys under the test's own prefix. */
async function replica(
  prefix: string,
  limits: string,
  url = REDIS_URL,
  replicas = 1,
  settleMs?: number,
): Promise<RedisRateLimiter> {
  const limiter = new RedisRateLimiter(parseRateLimits(limits), {
    client: await redis(url),
    prefix,
    replicas,
    marginMs: () => 50,
    ...(settleMs !== undefined && { settleMs }),
  });
  limiters.push(limiter);
  return limiter;
}

const inSeconds = (s: number) => ({ deadline: Date.now() + s * 1000 });

describe('RedisRateLimiter: one budget for every replica', () => {
  it('admits at most the limit per sliding window across two replicas, the rest as the window slides', async () => {
    const prefix = `test:${randomUUID()}`;
    const [a, b] = [await replica(prefix, '5/1s'), await replica(prefix, '5/1s')];
    const start = Date.now();
    const times: number[] = [];
    const calls = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b)
        .acquire('machines', { ...inSeconds(10), caller: `c${i % 3}` })
        .then((p: Permit) => {
          times.push(Date.now());
          return p;
        }),
    );
    await Promise.all(calls);
    const elapsed = Date.now() - start;
    times.sort((x, y) => x - y);
    expect(times).toHaveLength(20);
    // No 1 s window (plus the margin) holds more than 5 admissions, counted on this process's clock.
    for (let i = 5; i < times.length; i++) expect(times[i]! - times[i - 5]!).toBeGreaterThanOrEqual(1_000);
    // Throughput about the limit: 20 calls at 5/s need 3 full windows after the first 5, and not much more.
    expect(elapsed).toBeGreaterThanOrEqual(3_000);
    expect(elapsed).toBeLessThan(5_500);
    expect(a.shared && b.shared).toBe(true);
    // Both replicas saw the shared log: at most 5 in the window now.
    const used = 5 - a.budget().find((x) => x.api === 'machines' && x.windowSeconds === 1)!.remaining;
    expect(used).toBeLessThanOrEqual(5);
  }, 15_000);

  it('counts a call from when it is over, for every replica: a slow call keeps its slot longer', async () => {
    const prefix = `test:${randomUUID()}`;
    const [a, b] = [await replica(prefix, '1/1s'), await replica(prefix, '1/1s')];
    const permit = await a.acquire('machines', inSeconds(5));
    const grantedAt = Date.now();
    // Its answer took 400 ms: it may have reached Defender only then.
    await new Promise((r) => setTimeout(r, 400));
    permit.done!();
    await b.acquire('machines', inSeconds(5));
    // One window (1 s and the 50 ms margin) after the call was over, not after it was let go.
    expect(Date.now() - grantedAt).toBeGreaterThanOrEqual(1_400);
    expect(Date.now() - grantedAt).toBeLessThan(2_400);
    // Background work's slot too, once this replica knows the API's state (budget() asks Redis for it).
    a.budget();
    await new Promise((r) => setTimeout(r, 100));
    const background = a.tryAcquire('alerts');
    expect(background).toBeDefined();
    const backgroundAt = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    background!.done!();
    await b.acquire('alerts', inSeconds(5));
    expect(Date.now() - backgroundAt).toBeGreaterThanOrEqual(1_300);
  }, 15_000);

  it('honours on one replica a Retry-After pause set by another', async () => {
    const prefix = `test:${randomUUID()}`;
    const [a, b] = [await replica(prefix, '100/60s'), await replica(prefix, '100/60s')];
    await b.acquire('alerts', inSeconds(2)); // b knows the API and Redis works
    a.pause('alerts', 1_200);
    await new Promise((r) => setTimeout(r, 50)); // the pause reaches Redis
    const start = Date.now();
    await b.acquire('alerts', inSeconds(5));
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - start).toBeLessThan(2_500);
    // Other APIs are not paused.
    const other = Date.now();
    await b.acquire('machines', inSeconds(2));
    expect(Date.now() - other).toBeLessThan(500);
    // A caller whose deadline falls inside the pause is refused at once, not after waiting.
    a.pause('alerts', 3_000);
    await new Promise((r) => setTimeout(r, 50));
    const refusedAt = Date.now();
    await expect(b.acquire('alerts', inSeconds(1))).rejects.toThrow(/cannot serve this in time/);
    expect(Date.now() - refusedAt).toBeLessThan(1_100);
  }, 15_000);

  it('falls back to its share (limit / GATEWAY_REPLICAS) when Redis is unreachable, without hanging or crashing', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (error: unknown) => unhandled.push(error);
    process.on('unhandledRejection', onUnhandled);
    try {
      const limiter = await replica(`test:${randomUUID()}`, '10/1s', DEAD_REDIS_URL, 2);
      expect(shareOf(limiter.windows, 2)).toEqual([{ limit: 5, windowSeconds: 1 }]);
      const start = Date.now();
      const times: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, () =>
          limiter.acquire('machines', inSeconds(5)).then(() => times.push(Date.now() - start)),
        ),
      );
      times.sort((x, y) => x - y);
      expect(limiter.shared).toBe(false);
      // The first 5 (the share) at once, after at most the failed Redis call; the other 3 a window later.
      expect(times[4]!).toBeLessThan(300);
      expect(times[5]!).toBeGreaterThanOrEqual(1_000);
      expect(times[7]!).toBeLessThan(2_000);
      expect(limiter.budget().find((b) => b.api === 'machines')).toMatchObject({ limit: 5 });
      // Background work takes only what is left of the share in the window: 3 of 5 are used.
      let extra = 0;
      while (limiter.tryAcquire('machines')) extra++;
      expect(extra).toBeLessThanOrEqual(2);
      expect(errors.length).toBeGreaterThan(0); // the client's errors reached the listener, not the process
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 10_000);

  it('goes back to the shared budget by itself once Redis answers', async () => {
    const prefix = `test:${randomUUID()}`;
    const limiter = await replica(prefix, '100/60s');
    await limiter.acquire('machines', inSeconds(2));
    expect(limiter.shared).toBe(true);
    // Redis "fails": the connection drops, the limiter goes local at once; then the client reconnects.
    const client = clients.at(-1)!;
    const id = Number(await client.sendCommand(['CLIENT', 'ID']));
    await (await redis()).sendCommand(['CLIENT', 'KILL', 'ID', String(id)]);
    await limiter.acquire('machines', inSeconds(2));
    const deadline = Date.now() + 5_000;
    while (!limiter.shared && Date.now() < deadline) {
      await limiter.acquire('machines', inSeconds(2));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(limiter.shared).toBe(true);
  }, 10_000);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The largest number of `times` (sorted) within any `windowMs`. */
function peakInWindow(times: readonly number[], windowMs: number): number {
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe('RedisRateLimiter when Redis dies and comes back empty', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    // DEBUG SLEEP stalls it, for the test of a Redis that answers too slowly.
    server = await startPrivateRedis(['--enable-debug-command', 'yes']);
  });
  afterAll(async () => {
    await server.kill();
  });

  it('gives Redis back the calls made in its local share (all of its own if Redis lost them) and the pause', async () => {
    const prefix = `test:${randomUUID()}`;
    const a = await replica(prefix, '100/60s', server.url, 2);
    const admin = await redis(server.url);
    const logged = async () => Number(await admin.sendCommand(['ZCARD', `${prefix}:{machines}:log`]));
    const backToRedis = async () => {
      const deadline = Date.now() + 5_000;
      while (!a.shared && Date.now() < deadline) await sleep(20);
      expect(a.shared).toBe(true);
    };
    for (let i = 0; i < 3; i++) await a.acquire('machines', inSeconds(2));
    expect(await logged()).toBe(3);

    // A dropped connection: Redis keeps its log, so only the 2 calls made meanwhile are added.
    const id = Number(await clients.at(-2)!.sendCommand(['CLIENT', 'ID']));
    await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)]);
    for (let i = 0; i < 2; i++) await a.acquire('machines', inSeconds(2));
    expect(a.shared).toBe(false);
    await backToRedis();
    expect(await logged()).toBe(5);

    // A restart: Redis comes back empty, and is given every call of this replica still in a window, and the
    // Retry-After pause set meanwhile.
    await server.kill();
    for (let i = 0; i < 2; i++) await a.acquire('machines', inSeconds(2));
    a.pause('alerts', 10_000);
    expect(a.shared).toBe(false);
    await server.start();
    await backToRedis();
    expect(await logged()).toBe(7);
    expect(Number(await admin.sendCommand(['PTTL', `${prefix}:{alerts}:pause`]))).toBeGreaterThan(5_000);
  }, 20_000);

  it('treats a Redis that stalls as down: nobody waits on it, and it is used again once it answers', async () => {
    const prefix = `test:${randomUUID()}`;
    const a = await replica(prefix, '10/10s', server.url, 2);
    const admin = await redis(server.url);
    await a.acquire('machines', inSeconds(2));
    expect(a.shared).toBe(true);
    // Redis blocks for 1.5 s (DEBUG SLEEP answers only when it is over).
    const stalled = admin.sendCommand(['DEBUG', 'SLEEP', '1.5']);
    await sleep(100);
    const started = Date.now();
    await a.acquire('machines', inSeconds(2));
    // Admitted in its local share once the Redis call timed out (100 ms), not after the stall.
    expect(Date.now() - started).toBeLessThan(600);
    expect(a.shared).toBe(false);
    await stalled;
    const deadline = Date.now() + 5_000;
    while (!a.shared && Date.now() < deadline) await sleep(20);
    expect(a.shared).toBe(true);
  }, 15_000);

  it('keeps two replicas together within every window, before, during and after the outage', async () => {
    const prefix = `test:${randomUUID()}`;
    // A window longer than the settling time after Redis returns, so that Redis must be given the calls made
    // in the local shares (it came back empty).
    const limiter = () => replica(prefix, '10/3s', server.url, 2, 1_500);
    const [a, b] = [await limiter(), await limiter()];
    const admitted: { at: number; shared: boolean }[] = [];
    let stop = false;
    // Demand far above the limit from both replicas, three callers each.
    const worker = async (limiter: RedisRateLimiter, caller: string) => {
      while (!stop) {
        try {
          await limiter.acquire('machines', { ...inSeconds(3), caller });
          admitted.push({ at: Date.now(), shared: limiter.shared });
        } catch {
          await sleep(20); // RATE_LIMITED: the turn would come after the deadline
        }
      }
    };
    const workers = [a, b].flatMap((limiter) => ['x', 'y', 'z'].map((c) => worker(limiter, c)));

    await sleep(3_500); // a full window through Redis
    const killedAt = Date.now();
    await server.kill();
    await sleep(4_500); // the local shares: each starts with half the full window Redis last reported
    expect([a.shared, b.shared]).toEqual([false, false]);
    const restartedAt = Date.now();
    await server.start(); // empty: the log and the epoch are gone
    const deadline = Date.now() + 6_000;
    while (!(a.shared && b.shared) && Date.now() < deadline) await sleep(50);
    expect([a.shared, b.shared]).toEqual([true, true]);
    await sleep(3_500); // through Redis again, past the settling time
    stop = true;
    await Promise.all(workers);

    const times = admitted.map((x) => x.at).sort((x, y) => x - y);
    // Never more than the limit in any window (3 s; the limiter's own margin is 50 ms), across both switches.
    expect(peakInWindow(times, 3_000)).toBeLessThanOrEqual(10);
    // And the budget was used in each phase, not just refused: 10 per 3 s while shared, 5 + 5 while not.
    const during = (from: number, to: number) => times.filter((t) => t >= from && t < to).length;
    expect(during(killedAt - 3_500, killedAt)).toBeGreaterThanOrEqual(9);
    expect(during(killedAt, restartedAt)).toBeGreaterThanOrEqual(8);
    expect(during(restartedAt + 3_500, Date.now())).toBeGreaterThanOrEqual(5);
    expect(admitted.some((x) => !x.shared)).toBe(true);
  }, 30_000);
});
