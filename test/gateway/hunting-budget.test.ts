import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticTokenProvider } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { Dependencies } from '../../src/dependencies.js';
import { createDependencies } from '../../src/dependencies.js';
import type { PrivateRedis } from '../helpers/redis.js';
import { startPrivateRedis } from '../helpers/redis.js';

/**
 * Advanced hunting's budget (`HUNTING_RATE_LIMITS`) is shared by every replica through Redis, like the REST
 * routes', under keys of its own: what one replica spends of it, the others cannot, and it never touches a REST
 * route's windows.
 */

let redis: PrivateRedis;
const replicas: Dependencies[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  const env = {
    LOG_LEVEL: 'silent',
    CACHE_URL: redis.url,
    GATEWAY_REPLICAS: '2',
    HUNTING_RATE_LIMITS: '3/60s',
    DEFENDER_RATE_LIMITS: '3/60s',
  };
  const upstream = { baseUrl: new URL('http://127.0.0.1:9'), tokens: new StaticTokenProvider('t') };
  for (let i = 0; i < 2; i++) {
    replicas.push(await createDependencies(loadConfig(env), { upstream, processMetrics: false }));
  }
  // The Redis clients connect in the background: a call before they have would count in the local share.
  await new Promise((resolve) => setTimeout(resolve, 500));
});

afterAll(async () => {
  for (const deps of replicas) {
    deps.limiter.close();
    await deps.close();
  }
  await redis.kill();
});

describe('the hunting budget across replicas', () => {
  it('is spent by either replica for both, apart from the REST routes', async () => {
    const [a, b] = replicas as [Dependencies, Dependencies];
    const acquire = (deps: Dependencies) =>
      deps.limiter.acquire('hunting', { deadline: Date.now() + 2_000 }).then(
        () => true,
        () => false,
      );
    // Connecting takes a moment; until Redis answers, each replica keeps to its local share.
    const shared = (deps: Dependencies) => (deps.limiter as { shared?: boolean }).shared === true;
    for (let i = 0; i < 50 && !(shared(a) && shared(b)); i++) {
      a.limiter.budget();
      b.limiter.budget();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(shared(a) && shared(b)).toBe(true);
    let granted = 0;
    for (const deps of [a, b, a, b]) while (granted < 10 && (await acquire(deps))) granted++;
    // Both replicas together got no more than the window's 3 calls (each alone would have had 3), in Redis.
    expect(granted).toBeGreaterThan(1);
    expect(granted).toBeLessThanOrEqual(3);
    expect(shared(a)).toBe(true);
    // REST routes keep their own windows.
    await expect(
      a.limiter.acquire('machines/{id}/logonusers', { deadline: Date.now() + 2_000 }),
    ).resolves.toBeDefined();
  });
});
