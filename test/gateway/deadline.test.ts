import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * One deadline for everything (issue 13, point 5): a hung Defender route is answered within
 * REQUEST_DEADLINE_MS plus a second, its field null with UPSTREAM_UNAVAILABLE, its siblings with their data,
 * and no attempt starts past the deadline, although the per-call timeout (10 s) and its retries would take
 * thirty seconds.
 */

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

const DEADLINE_MS = 1_500;

describe('REQUEST_DEADLINE_MS bounds the whole operation', () => {
  it('answers a query with a hung field within the deadline plus a second, the rest answered', async () => {
    gw = await startTestGateway({ cacheTtlMs: 0, server: { requestDeadlineMs: DEADLINE_MS } });
    const t = gw.sim.tenant;
    const m = t.machines.find((x) => t.logonUsers(x.id).length > 0 && t.alertsOfMachine(x.id).length > 0)!;
    gw.sim.injectFault({ api: 'machines/{id}/logonusers', fault: { kind: 'hang' } });

    const started = Date.now();
    const res = await gw.query(`{ machine(id: "${m.id}") { id logonUsers { id } alerts { id } } }`);
    const tookMs = Date.now() - started;

    // The acceptance bound: within the deadline plus a second (it took 30.7 s before).
    expect(tookMs).toBeLessThan(DEADLINE_MS + 1_000);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      machine: { id: m.id, logonUsers: null, alerts: t.alertsOfMachine(m.id).map((a) => ({ id: a.id })) },
    });
    expect(res.errors).toEqual([
      {
        message: "Defender did not answer machines/{id}/logonusers before the request's deadline.",
        locations: expect.any(Array),
        path: ['machine', 'logonUsers'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      },
    ]);
    // The hung route saw one attempt (cut at the deadline; no retry fits in what was left), and no call at
    // all arrived after the deadline.
    const calls = gw.sim.calls;
    expect(calls.filter((c) => c.api === 'machines/{id}/logonusers')).toHaveLength(1);
    for (const call of calls) expect(call.at).toBeLessThan(started + DEADLINE_MS);
  });

  it('still refuses RATE_LIMITED, at once and with no call, when the limiter cannot serve before the deadline', async () => {
    gw = await startTestGateway({
      rateLimits: parseRateLimits('2/60s'),
      server: { requestDeadlineMs: DEADLINE_MS },
    });
    const ids = gw.sim.tenant.machines.slice(0, 3).map((m) => m.id);
    await gw.query(`{ machine(id: "${ids[0]}") { id } }`);
    await gw.query(`{ machine(id: "${ids[1]}") { id } }`);
    gw.sim.resetCalls();
    const refused = await gw.query(`{ machine(id: "${ids[2]}") { id } }`);
    expect(refused.status).toBe(429);
    expect(refused.errors).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) }),
      }),
    ]);
    expect(gw.sim.calls).toEqual([]);
  });
});
