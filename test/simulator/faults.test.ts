import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { httpGet } from '../helpers/http.js';
import { TOKEN, call, testSimulator } from '../helpers/simulator.js';

let sim: Simulator;
let machinePath: string;
beforeAll(async () => {
  sim = await testSimulator();
  machinePath = `/api/machines/${sim.tenant.machines[0]!.id}`;
});
beforeEach(() => {
  sim.clearFaults();
  sim.resetCalls();
});
afterAll(() => sim.close());

describe('fault injection', () => {
  it('answers 500 and 503 with error bodies, N times, on the chosen route only', async () => {
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 503 }, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(sim, machinePath)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await call(sim, `${machinePath}/logonusers`)).status).toBe(200);

    sim.injectFault({ api: '*', fault: { kind: 'status', status: 500 }, times: 1 });
    const failed = await call(sim, '/api/alerts?$top=1');
    expect(failed.status).toBe(500);
    expect((failed.json as { error: { code: string } }).error.code).toBe('InternalServerError');
    expect(sim.calls.map((c) => c.fault)).toEqual(['status', 'status', undefined, undefined, 'status']);
  });

  it("fails one entity's calls only when the rule names its id, in any case", async () => {
    const [m1, m2] = sim.tenant.machines;
    sim.injectFault({
      api: 'machines/{id}/logonusers',
      id: m1!.id.toUpperCase(),
      fault: { kind: 'status', status: 500 },
      times: 2,
    });
    const statuses = [];
    for (const id of [m2!.id, m1!.id, m2!.id, m1!.id, m1!.id])
      statuses.push((await call(sim, `/api/machines/${id}/logonusers`)).status);
    expect(statuses).toEqual([200, 500, 200, 500, 200]);
    expect(sim.calls.map((c) => [c.id, c.fault])).toEqual([
      [m2!.id, undefined],
      [m1!.id, 'status'],
      [m2!.id, undefined],
      [m1!.id, 'status'],
      [m1!.id, undefined],
    ]);
  });

  it('fails an exact, evenly spread share of calls under a ratio', async () => {
    sim.injectFault({ api: 'alerts', fault: { kind: 'status', status: 500 }, ratio: 0.25 });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await call(sim, '/api/alerts?$top=1')).status);
    expect(statuses.filter((s) => s === 500)).toHaveLength(2);
    expect(statuses).toEqual([200, 200, 200, 500, 200, 200, 200, 500]);
  });

  it('answers 429 with the given Retry-After', async () => {
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'throttle', retryAfterSeconds: 7 }, times: 1 });
    const answer = await call(sim, machinePath);
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect((answer.json as { error: { code: string } }).error.code).toBe('429');
  });

  it('slows an answer down by the given delay', async () => {
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'slow', delayMs: 300 }, times: 1 });
    const started = performance.now();
    const answer = await call(sim, machinePath);
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('hangs until the client gives up', async () => {
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'hang' }, times: 1 });
    const request = fetch(`${sim.url}${machinePath}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(request).rejects.toThrow(/aborted|timeout/i);
    expect(sim.calls.at(-1)).toMatchObject({ status: 0, fault: 'hang' });
  });

  it('resets the connection', async () => {
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'reset' }, times: 1 });
    await expect(call(sim, machinePath)).rejects.toThrow(/fetch failed/);
    expect((await call(sim, machinePath)).status).toBe(200);
  });

  it('answers malformed JSON with a success status', async () => {
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'malformed' }, times: 1 });
    const answer = await call(sim, machinePath);
    expect(answer.status).toBe(200);
    expect(answer.json).toBeUndefined();
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it('answers a redirect when asked to', async () => {
    sim.injectFault({
      api: 'machines/{id}',
      fault: { kind: 'redirect', location: 'http://127.0.0.1:9/x' },
      times: 1,
    });
    const answer = await call(sim, machinePath);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('http://127.0.0.1:9/x');
  });
});

describe('admin endpoints', () => {
  it('exposes the call log and faults over HTTP only with the admin token', async () => {
    const admin = await testSimulator({ adminToken: 'admin-secret' });
    try {
      expect((await httpGet(`${admin.url}/_simulator/calls`)).status).toBe(404);
      const headers = { 'x-simulator-admin': 'admin-secret', 'content-type': 'application/json' };
      const added = await fetch(`${admin.url}/_simulator/faults`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ api: 'alerts', fault: { kind: 'status', status: 503 }, times: 1 }),
      });
      expect(added.status).toBe(204);
      expect((await call(admin, '/api/alerts?$top=1')).status).toBe(503);
      const log = await httpGet(`${admin.url}/_simulator/calls`, headers);
      expect(log.json).toEqual([expect.objectContaining({ api: 'alerts', status: 503, fault: 'status' })]);
      await fetch(`${admin.url}/_simulator/calls`, { method: 'DELETE', headers });
      expect((await httpGet(`${admin.url}/_simulator/calls`, headers)).json).toEqual([]);
    } finally {
      await admin.close();
    }
  });
});
