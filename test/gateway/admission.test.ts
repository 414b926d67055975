import { afterEach, describe, expect, it } from 'vitest';
import Keyv from 'keyv';
import { UpstreamCache } from '../../src/cache/entity-cache.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

type Up = { calls: number; responseCacheHit?: boolean; estimate?: { min: number; max: number } };

describe('admission and the response cache', () => {
  it('serves a stored result without estimating it, even when admission would refuse the operation now', async () => {
    const store = new Keyv({ serialization: false });
    const cache = new UpstreamCache(store);
    // One call a minute: the first query spends it, so any estimate of one more call is refused (429).
    gw = await startTestGateway({ cache, rateLimits: parseRateLimits('1/60s') });
    const query = `{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id osPlatform } }`;
    const first = await gw.query(query);
    expect(first.status).toBe(200);
    // The entity answers are gone (evicted), the stored result is not: an estimate would count one call again.
    await store.clear();
    const second = await gw.query(query);
    expect([second.status, second.errors, second.data]).toEqual([200, undefined, first.data]);
    expect(second.extensions!.upstream as unknown as Up).toMatchObject({ calls: 0, responseCacheHit: true });
    expect(gw.sim.calls).toHaveLength(1);
    // The same operation asked afresh is estimated, and refused before any call.
    const fresh = await gw.query(query, undefined, { 'cache-control': 'no-cache' });
    expect(fresh.status).toBe(429);
    expect(fresh.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);
    expect(gw.sim.calls).toHaveLength(1);
  });
});
