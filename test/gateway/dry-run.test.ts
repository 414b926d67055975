import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * `x-dry-run: true`: the operation is parsed, validated and planned, never executed: HTTP 200, no `data`, zero
 * upstream calls, the estimate in `extensions.upstream` and `extensions.cost`; a refusal answers exactly as the
 * real run would.
 */

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

const DRY = { 'x-dry-run': 'true' };

type Range = { min: number; max: number; expected: number };
type Estimate = Range & { byApi: Record<string, Range> };

describe('a dry run', () => {
  it('answers the estimate the real run reports, with no data and zero calls', async () => {
    gw = await startTestGateway();
    const m = gw.sim.tenant.machines[0]!;
    const query = `{ machine(id: "${m.id}") { osPlatform logonUsers(first: 3) { id } alerts { id } } }`;
    const dry = await gw.query(query, undefined, DRY);
    expect(gw.sim.calls).toEqual([]);
    expect(dry.status).toBe(200);
    expect('data' in dry).toBe(false);
    expect(dry.errors).toBeUndefined();
    const estimate = {
      min: 1,
      max: 3,
      expected: 3,
      byApi: {
        'machines/{id}': { min: 1, max: 1, expected: 1 },
        'machines/{id}/logonusers': { min: 0, max: 1, expected: 1 },
        'machines/{id}/alerts': { min: 0, max: 1, expected: 1 },
      },
    };
    expect(dry.extensions).toEqual({
      upstream: { calls: 0, cacheHits: 0, dryRun: true, estimate },
      cost: {
        estimated: 1,
        estimatedMax: 3,
        expected: 3,
        max: 100,
        costliestPath: ['machine'],
        byApi: estimate.byApi,
      },
    });

    const real = await gw.query(query);
    expect(real.errors).toBeUndefined();
    expect(gw.sim.calls).toHaveLength(3);
    const reported = real.extensions!.upstream as unknown as { dryRun?: boolean; estimate: Estimate };
    expect(reported.estimate).toEqual(estimate);
    expect(reported.dryRun).toBeUndefined();
  });

  it('says what the cache already holds: after the real run, zero', async () => {
    gw = await startTestGateway();
    const query = '{ alerts(first: 5) { nodes { id machine { osPlatform } } } }';
    await gw.query(query);
    const calls = gw.sim.calls.length;
    const dry = await gw.query(query, undefined, DRY);
    expect((dry.extensions!.upstream as unknown as { estimate: Estimate }).estimate).toMatchObject({
      min: 0,
      max: 0,
      expected: 0,
    });
    expect(gw.sim.calls).toHaveLength(calls);
  });

  it('is refused exactly as the real run would be, with zero calls', async () => {
    const metrics = createMetrics({ processMetrics: false });
    gw = await startTestGateway({ server: { metrics } });
    const walk =
      '{ alerts(first: 20) { nodes { user { machines { computerDnsName logonUsers { id } } } } } }';
    const dry = await gw.query(walk, undefined, DRY);
    const real = await gw.query(walk);
    expect(gw.sim.calls).toEqual([]);
    expect(dry.status).toBe(400);
    expect(dry.errors?.map((e) => e.extensions?.['code'])).toEqual(['QUERY_TOO_EXPENSIVE']);
    expect([dry.status, dry.errors, 'data' in dry]).toEqual([real.status, real.errors, 'data' in real]);
    expect(dry.extensions!.upstream).toMatchObject({ calls: 0, dryRun: true });
    // Only the real run counts as a refusal: a dry run asks what would happen.
    expect(await metrics.registry.metrics()).toMatch(
      /^defender_operations_refused_total\{code="QUERY_TOO_EXPENSIVE"\} 1$/m,
    );

    // A budget spent: RATE_LIMITED, the same 429 as the real run's.
    await gw.close();
    gw = await startTestGateway({ rateLimits: parseRateLimits('1/60s') });
    const m = gw.sim.tenant.machines;
    await gw.query(`{ machine(id: "${m[0]!.id}") { id } }`);
    const query = `{ machine(id: "${m[1]!.id}") { id } }`;
    const dryLimited = await gw.query(query, undefined, DRY);
    const realLimited = await gw.query(query);
    expect(gw.sim.calls).toHaveLength(1);
    expect(dryLimited.status).toBe(429);
    expect(dryLimited.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);
    expect(dryLimited.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeGreaterThan(0);
    expect([dryLimited.status, dryLimited.errors?.map((e) => e.extensions?.['code'])]).toEqual([
      realLimited.status,
      realLimited.errors?.map((e) => e.extensions?.['code']),
    ]);
  });

  it('never serves a stored result, and stores none', async () => {
    gw = await startTestGateway();
    const query = `{ machine(id: "${gw.sim.tenant.machines[2]!.id}") { id osPlatform } }`;
    // A dry run first: the real run after it is not answered from anything the dry run stored.
    await gw.query(query, undefined, DRY);
    const first = await gw.query(query);
    expect(first.extensions!.upstream).toMatchObject({ calls: 1 });
    expect(first.extensions!.upstream!['responseCacheHit']).toBeUndefined();
    // The result is stored now: a dry run still answers with an estimate, not with it.
    expect((await gw.query(query)).extensions!.upstream).toMatchObject({ responseCacheHit: true });
    const dry = await gw.query(query, undefined, DRY);
    expect('data' in dry).toBe(false);
    expect(dry.extensions!.upstream).toMatchObject({ calls: 0, dryRun: true, estimate: { expected: 0 } });
    expect(dry.extensions!.upstream!['responseCacheHit']).toBeUndefined();
    expect(gw.sim.calls).toHaveLength(1);
  });
});
