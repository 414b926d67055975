import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('circuit breaker', () => {
  it('fails fast on an API that keeps failing, leaves other APIs alone, and recovers after a probe', async () => {
    gw = await startTestGateway({ client: { breakerThreshold: 3, breakerHalfOpenAfterMs: 300 } });
    const machines = gw.sim.tenant.machines.map((m) => m.id);
    expect(machines.length).toBeGreaterThanOrEqual(6);
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 503 } });
    const machine = (id: string) => gw!.query(`{ machine(id: "${id}") { id } }`);

    // Three calls, each failing its retries (3 attempts): the breaker opens.
    for (const id of machines.slice(0, 3)) {
      const res = await machine(id);
      expect(res.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE' });
    }
    const failing = callsTo(gw.sim.calls, 'machines/{id}').length;
    expect(failing).toBe(9);

    // Open: other machines fail at once, with zero upstream calls.
    const started = performance.now();
    const fast = await machine(machines[3]!);
    expect(performance.now() - started).toBeLessThan(100);
    expect(fast.data).toEqual({ machine: null });
    expect(fast.errors).toEqual([
      {
        message: 'Defender is failing on machines/{id}; retry later.',
        locations: expect.any(Array),
        path: ['machine'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: 1 },
      },
    ]);
    expect(fast.extensions!.upstream).toMatchObject({ calls: 0 });
    expect((await machine(machines[4]!)).errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(callsTo(gw.sim.calls, 'machines/{id}')).toHaveLength(failing);

    // Other APIs still work.
    const alerts = await gw.query(`{ alerts(first: 1) { nodes { id } } }`);
    expect(alerts.errors).toBeUndefined();
    expect(alerts.data).toEqual({ alerts: { nodes: [{ id: gw.sim.tenant.alerts[0]!.id }] } });

    // Half-open: Defender recovered, one probe succeeds and closes the breaker.
    gw.sim.clearFaults();
    await sleep(350);
    const probe = await machine(machines[5]!);
    expect(probe.data).toEqual({ machine: { id: machines[5] } });
    expect(callsTo(gw.sim.calls, 'machines/{id}')).toHaveLength(failing + 1);
    const after = await machine(machines[3]!);
    expect(after.data).toEqual({ machine: { id: machines[3] } });
    expect(callsTo(gw.sim.calls, 'machines/{id}')).toHaveLength(failing + 2);
  });

  it('closes when its probe gets a 429 from Defender, so calls flow again at once', async () => {
    const metrics = createMetrics({ processMetrics: false });
    gw = await startTestGateway({
      client: {
        breakerThreshold: 2,
        breakerHalfOpenAfterMs: 200,
        maxRetries: 0,
        maxThrottleRetries: 0,
        observer: metrics.observer,
      },
      server: { metrics },
    });
    const [m1, m2, m3, m4, m5] = gw.sim.tenant.machines.map((m) => m.id);
    const machine = (id: string) => gw!.query(`{ machine(id: "${id}") { id } }`);
    const breakerState = async () => {
      const text = await (await fetch(`${gw!.url}/metrics`)).text();
      return /^defender_breaker_state\{api="machines\/\{id\}"\} (\d)$/m.exec(text)?.[1];
    };
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 500 }, times: 2 });
    for (const id of [m1!, m2!]) await machine(id);
    expect(await breakerState()).toBe('2');

    // Half-open: the probe reaches Defender, which throttles it.
    await sleep(250);
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'throttle', retryAfterSeconds: 0 }, times: 1 });
    const probe = await machine(m3!);
    expect(probe.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);
    expect(await breakerState()).toBe('0');

    // Closed, not half-open: two calls at once both reach Defender and are answered.
    const before = callsTo(gw.sim.calls, 'machines/{id}').length;
    const both = await Promise.all([machine(m4!), machine(m5!)]);
    expect(both.map((r) => r.data)).toEqual([{ machine: { id: m4 } }, { machine: { id: m5 } }]);
    expect(
      callsTo(gw.sim.calls, 'machines/{id}')
        .slice(before)
        .map((c) => [c.id, c.status]),
    ).toEqual(
      expect.arrayContaining([
        [m4, 200],
        [m5, 200],
      ]),
    );
    expect(callsTo(gw.sim.calls, 'machines/{id}')).toHaveLength(before + 2);
  });

  it('re-opens when the probe fails, and is not opened by 429s', async () => {
    gw = await startTestGateway({
      client: { breakerThreshold: 2, breakerHalfOpenAfterMs: 200, maxRetries: 0, maxThrottleRetries: 0 },
    });
    const [m1, m2, m3, m4, m5] = gw.sim.tenant.machines.map((m) => m.id);
    const machine = (id: string) => gw!.query(`{ machine(id: "${id}") { id } }`);
    gw.sim.injectFault({
      api: 'machines/{id}',
      fault: { kind: 'throttle', retryAfterSeconds: 0 },
      times: 3,
    });
    for (const id of [m1!, m2!, m3!])
      expect((await machine(id)).errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect((await machine(m4!)).data).toEqual({ machine: { id: m4 } });

    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 500 } });
    await machine(m1!);
    await machine(m2!);
    const before = callsTo(gw.sim.calls, 'machines/{id}').length;
    expect((await machine(m3!)).errors?.[0]?.message).toBe(
      'Defender is failing on machines/{id}; retry later.',
    );
    await sleep(250);
    // The probe goes out and fails: open again, so the next call makes no upstream call.
    expect((await machine(m3!)).errors?.[0]?.message).toBe('Defender did not answer machines/{id}.');
    expect((await machine(m5!)).errors?.[0]?.message).toBe(
      'Defender is failing on machines/{id}; retry later.',
    );
    expect(callsTo(gw.sim.calls, 'machines/{id}')).toHaveLength(before + 1);
  });
});
