import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamCache } from '../../src/cache/entity-cache.js';
import type { RedisConnection } from '../../src/cache/redis.js';
import { closeRedis, connectRedis } from '../../src/cache/redis.js';
import { createRedisCache } from '../../src/cache/redis-cache.js';
import type { Simulator } from '../../src/simulator/server.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { testSimulator } from '../helpers/simulator.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DEAD_REDIS_URL = 'redis://127.0.0.1:1';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redis(url: string): Promise<RedisConnection> {
  const client = connectRedis(url, { onError: () => {} });
  cleanups.push(() => closeRedis(client));
  if (url === REDIS_URL) {
    const deadline = Date.now() + 5_000;
    while (!client.isReady && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(client.isReady, `Redis at ${REDIS_URL}`).toBe(true);
  }
  return client;
}

/** One gateway replica as `npm start` builds it, on the shared simulator, with the given cache. */
async function gateway(sim: Simulator, cache: UpstreamCache): Promise<TestGateway> {
  const gw = await startTestGateway({ sharedSimulator: sim, cache });
  cleanups.push(() => gw.close());
  return gw;
}

async function simulator(): Promise<Simulator> {
  const sim = await testSimulator();
  cleanups.push(() => sim.close());
  return sim;
}

const QUERY = `{ machines(first: 5) { nodes { id computerDnsName } } alerts(first: 3) { nodes { id title } } }`;

describe('the Redis cache shared by replicas', () => {
  it('serves on replica B what replica A fetched: B makes no upstream call', async () => {
    const sim = await simulator();
    const namespace = `test:${randomUUID()}`;
    const a = await gateway(sim, createRedisCache(await redis(REDIS_URL), { namespace }));
    const b = await gateway(sim, createRedisCache(await redis(REDIS_URL), { namespace }));

    const first = await a.query(QUERY);
    expect(first.errors).toBeUndefined();
    expect(sim.calls.length).toBeGreaterThan(0);
    sim.resetCalls();

    const second = await b.query(QUERY);
    expect(second.errors).toBeUndefined();
    expect(second.data).toEqual(first.data);
    expect(sim.calls).toHaveLength(0);
    expect(second.extensions?.upstream).toMatchObject({ calls: 0 });
    expect(second.extensions?.upstream?.cacheHits).toBeGreaterThan(0);

    // Values are JSON text in Redis, under the namespace.
    const client = await redis(REDIS_URL);
    const keys = await client.keys(`${namespace}*`);
    expect(keys.length).toBeGreaterThan(0);
    const text = (await client.get(keys[0]!))!;
    expect(typeof text).toBe('string');
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  }, 20_000);

  it('answers with a dead Redis: every read a miss, within a normal time', async () => {
    const sim = await simulator();
    const gw = await gateway(sim, createRedisCache(await redis(DEAD_REDIS_URL)));
    const first = Date.now();
    const res = await gw.query(QUERY);
    expect(res.errors).toBeUndefined();
    expect(res.extensions?.upstream).toMatchObject({ cacheHits: 0 });
    expect(sim.calls.length).toBeGreaterThan(0);
    expect(Date.now() - first).toBeLessThan(1_500);
    for (let i = 0; i < 3; i++) {
      const start = Date.now();
      const again = await gw.query(`{ machines(first: ${i + 2}) { nodes { id } } }`);
      expect(again.errors).toBeUndefined();
      expect(Date.now() - start).toBeLessThan(1_500);
    }
  }, 20_000);
});
