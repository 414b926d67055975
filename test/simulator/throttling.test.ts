import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import { call, testSimulator } from '../helpers/simulator.js';

let sim: Simulator | undefined;
afterEach(() => sim?.close());

const MESSAGE =
  /^API calls quota exceeded! Maximum allowed (\d+) per (\d\d:\d\d:\d\d) for the key Destination\+TenantID\+AppID\. You can send requests again in (\d+) seconds\.$/;

describe('throttling', () => {
  it("answers 429 with Retry-After and Defender's body once a window is full", async () => {
    sim = await testSimulator({ rateLimits: parseRateLimits('3/2s,100/3600s') });
    const id = sim.tenant.machines[0]!.id;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sim, `/api/machines/${id}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const refused = await call(sim, `/api/machines/${id}`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^[12]$/);
    const body = refused.json as { error: { code: string; message: string; target: string } };
    expect(body.error.code).toBe('429');
    const [, limit, span, seconds] = MESSAGE.exec(body.error.message)!;
    expect([limit, span, seconds]).toEqual(['3', '00:00:02', refused.headers.get('retry-after')]);
  });

  it('admits calls again after Retry-After, not before', async () => {
    sim = await testSimulator({ rateLimits: parseRateLimits('2/2s') });
    const path = `/api/machines/${sim.tenant.machines[0]!.id}`;
    await call(sim, path);
    await call(sim, path);
    const refused = await call(sim, path);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(refused.status).toBe(429);
    expect(retryAfter).toBe(2);
    await sleep(1_000);
    expect((await call(sim, path)).status).toBe(429);
    await sleep(retryAfter * 1000 - 1_000 + 50);
    expect((await call(sim, path)).status).toBe(200);
  });

  it('enforces every window at once, naming the one that is full', async () => {
    sim = await testSimulator({ rateLimits: parseRateLimits('3/1s,5/30s') });
    const path = '/api/alerts?$top=1';
    for (let i = 0; i < 3; i++) expect((await call(sim, path)).status).toBe(200);
    await sleep(1_050);
    expect((await call(sim, path)).status).toBe(200);
    expect((await call(sim, path)).status).toBe(200);
    const refused = await call(sim, path);
    expect(refused.status).toBe(429);
    const message = (refused.json as { error: { message: string } }).error.message;
    expect(MESSAGE.exec(message)?.slice(1, 3)).toEqual(['5', '00:00:30']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(25);
  });

  it('keeps a separate budget per route template and per caller', async () => {
    sim = await testSimulator({
      rateLimits: parseRateLimits('2/60s'),
      tokens: [{ token: 'app-a' }, { token: 'app-b' }],
    });
    const [m1, m2] = sim.tenant.machines;
    expect((await call(sim, `/api/machines/${m1!.id}`, 'app-a')).status).toBe(200);
    // Another id on the same route template shares the bucket.
    expect((await call(sim, `/api/machines/${m2!.id}`, 'app-a')).status).toBe(200);
    expect((await call(sim, `/api/machines/${m1!.id}`, 'app-a')).status).toBe(429);
    expect((await call(sim, `/api/machines/${m1!.id}/logonusers`, 'app-a')).status).toBe(200);
    expect((await call(sim, `/api/machines/${m1!.id}`, 'app-b')).status).toBe(200);
  });

  it('never admits more than the limit in any sliding window under concurrent load', async () => {
    sim = await testSimulator({ rateLimits: parseRateLimits('10/1s') });
    const path = '/api/alerts?$top=1';
    const deadline = Date.now() + 2_500;
    const workers = Array.from({ length: 8 }, async () => {
      while (Date.now() < deadline) await call(sim!, path);
    });
    await Promise.all(workers);
    const admitted = sim.calls.filter((c) => c.status === 200).map((c) => c.at);
    expect(sim.calls.some((c) => c.status === 429)).toBe(true);
    for (const t of admitted)
      expect(admitted.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(10);
    expect(admitted.length).toBeGreaterThanOrEqual(20);
  });
});
