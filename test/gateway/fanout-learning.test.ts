import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RedisConnection } from '../../src/cache/redis.js';
import { closeRedis, connectRedis } from '../../src/cache/redis.js';
import { encodeCursor } from '../../src/graphql/resolvers/connection.js';
import { FanoutStats } from '../../src/planner/fanout.js';
import { redisFanoutStore } from '../../src/planner/redis-fanout.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { Simulator } from '../../src/simulator/server.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * The expected cost learns each relationship's fan-out from the answers the gateway sees: on the source table's
 * priors at first (far above the simulator's tenant), within 25 % of the calls made once it has seen pages like
 * the one asked; and replicas sharing a Redis share what they learnt.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const ROOMY = parseRateLimits('100000/60s');
/** Lets the untrained estimates (on the priors) run, to count their calls. */
const UNCAPPED = { maxOperationCalls: 100_000 };

/** Fifty machines from `offset`, their logon users, and each user's machines: two levels of fan-out. */
const page = (offset: number) =>
  `{ machines(first: 50${offset > 0 ? `, after: "${encodeCursor(offset)}"` : ''}) { nodes { id logonUsers { id machines { id } } } } }`;

type Upstream = { calls: number; estimate: { expected: number } };
const upstream = (res: { extensions?: { upstream?: unknown } }) => res.extensions!.upstream as Upstream;

const gateways: TestGateway[] = [];
const connections: RedisConnection[] = [];
let sim: Simulator | undefined;
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all(connections.splice(0).map((c) => closeRedis(c)));
  await sim?.close();
  sim = undefined;
});

async function gateway(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    rateLimits: ROOMY,
    ...options,
    server: { ...UNCAPPED, ...options.server },
  });
  gateways.push(gw);
  return gw;
}

/** The expected calls a dry run states for `query`, on a cache that holds none of its answers. */
async function expected(gw: TestGateway, query: string): Promise<number> {
  const dry = await gw.query(query, undefined, { 'x-dry-run': 'true', 'cache-control': 'no-cache' });
  return upstream(dry).estimate.expected;
}

describe('the learnt fan-out', () => {
  it('brings the expected cost within 25 % of the calls once the gateway has seen answers like them', async () => {
    sim = await testSimulator({ rateLimits: ROOMY });
    const gw = await gateway({ sharedSimulator: sim });
    const target = page(600);
    const untrained = await expected(gw, target);
    for (const offset of [0, 50, 100, 150, 200, 250, 300])
      expect((await gw.query(page(offset))).errors).toBeUndefined();
    const trained = await expected(gw, target);
    sim.resetCalls();
    // Cold, as estimated: the training left some of its answers in the cache.
    const res = await gw.query(target, undefined, { 'cache-control': 'no-cache' });
    expect(res.errors).toBeUndefined();
    const actual = sim.calls.length;
    expect(upstream(res).calls).toBe(actual);
    // On the priors (25 logon users a machine), many times too high; learnt, within 25 %.
    expect(untrained).toBeGreaterThan(actual * 3);
    expect(Math.abs(trained - actual)).toBeLessThanOrEqual(actual * 0.25);
  });

  it('is shared by replicas through Redis: what one learnt, the other estimates with', async () => {
    const prefix = `test:fanout:${randomUUID()}:`;
    const shared = () => {
      const redis = connectRedis(REDIS_URL);
      connections.push(redis);
      return new FanoutStats({ store: redisFanoutStore(redis, { prefix }), refreshMs: 50 });
    };
    sim = await testSimulator({ rateLimits: ROOMY });
    const a = await gateway({ sharedSimulator: sim, server: { fanout: shared() } });
    const b = await gateway({ sharedSimulator: sim, server: { fanout: shared() } });
    // A third gateway with its own stats only: what B would say without Redis.
    const alone = await gateway({ sharedSimulator: sim });
    const target = page(600);
    const before = await expected(b, target);
    for (const offset of [0, 50, 100, 150, 200, 250, 300])
      expect((await a.query(page(offset))).errors).toBeUndefined();
    sim.resetCalls();
    const res = await alone.query(target);
    const actual = sim.calls.length;
    expect(upstream(res).calls).toBe(actual);
    // B made no call and saw no answer: its estimate comes from what A learnt, read from Redis.
    await vi.waitFor(async () => {
      expect(Math.abs((await expected(b, target)) - actual)).toBeLessThanOrEqual(actual * 0.25);
    }, 5_000);
    expect(before).toBeGreaterThan(actual * 3);
  });
});
