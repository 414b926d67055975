import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DefenderApi } from '../../src/defender/apis.js';
import { FanoutRecorder, FanoutStats } from '../../src/planner/fanout.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';
import { eventually } from '../helpers/live.js';
import { testSimulator } from '../helpers/simulator.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

describe('the shared rate limiter', () => {
  it('keeps 200 concurrent queries at the limit with zero 429s', async () => {
    const limits = parseRateLimits('10/2s,1000/3600s');
    // Gateway and simulator share one event loop here, and the rest of the suite loads the machine: a call can
    // reach the simulator a few hundred ms after the limiter admitted it. Over a network the 1 s margin of
    // Defender's 60 s window absorbs that; this 2 s window gets a margin of the same kind.
    const marginMs = 300;
    gw = await startTestGateway({
      rateLimits: limits,
      limiterMarginMs: marginMs,
      simulator: { rateLimits: limits },
      // All 200 run at once and wait in the limiter, past the default cap on operations in flight.
      server: { requestDeadlineMs: 30_000, maxInFlightOperations: 200 },
    });
    const t = gw.sim.tenant;
    // 50 queries for each of four APIs, every one needing a call of its own (distinct keys, cold cache).
    const machines = t.machines.slice(0, 50);
    const alerts = t.alerts.slice(0, 50);
    const queries = [
      ...machines.map((m) => `{ machine(id: "${m.id}") { id } }`),
      ...alerts.map((a) => `{ user(id: "${a.relatedUser?.userName ?? 'nobody'}") { machines { id } } }`),
      ...alerts.map((a) => `{ alert(id: "${a.id}") { id } }`),
      ...alerts.map((a) => `{ user(id: "${a.relatedUser?.userName ?? 'nobody'}") { alerts { id } } }`),
    ];
    const results = await Promise.all(queries.map((q) => gw!.query(q)));

    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    expect(gw.sim.calls.filter((c) => c.status === 429)).toEqual([]);
    const apis: DefenderApi[] = ['machines/{id}', 'alerts/{id}', 'users/{id}/alerts', 'users/{id}/machines'];
    for (const api of apis) {
      const times = callsTo(gw.sim.calls, api).map((c) => c.at);
      // Never more than 10 in any 2 s window…
      for (const t0 of times)
        expect(times.filter((u) => u >= t0 && u < t0 + 2_000).length).toBeLessThanOrEqual(10);
      // …and the limit used in full while demand exceeds it: a window's worth every ~2 s, no idle windows.
      const batches = Math.ceil(times.length / 10);
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(
        (batches - 1) * (2_000 + marginMs) + 1_000,
      );
    }
  }, 60_000);

  it('keeps calls a window apart at Defender when some are held up on the way: a call counts until it is over', async () => {
    const limits = parseRateLimits('5/2s');
    const sim = await testSimulator({ rateLimits: limits });
    // The first five calls take 700 ms to reach Defender (a new TLS connection, a busy event loop, the network).
    const proxy = await holdingProxy(sim.url, 5, 700);
    try {
      gw = await startTestGateway({
        sharedSimulator: sim,
        defenderUrl: proxy.url,
        rateLimits: limits,
        limiterMarginMs: 50,
        server: { requestDeadlineMs: 30_000 },
      });
      const machines = sim.tenant.machines.slice(0, 10);
      const results = await Promise.all(machines.map((m) => gw!.query(`{ machine(id: "${m.id}") { id } }`)));

      expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
      expect(results.map((r) => (r.data?.['machine'] as { id: string }).id)).toEqual(
        machines.map((m) => m.id),
      );
      // Counted from when they were let go, the next five would have gone 2,050 ms after the first five left,
      // 1,350 ms after they arrived: Defender would have refused them.
      expect(sim.calls.filter((c) => c.status === 429)).toEqual([]);
      const times = callsTo(sim.calls, 'machines/{id}').map((c) => c.at);
      expect(times).toHaveLength(10);
      for (const t0 of times)
        expect(times.filter((u) => u >= t0 && u < t0 + 2_000).length).toBeLessThanOrEqual(5);
    } finally {
      await gw?.close();
      gw = undefined;
      await proxy.close();
      await sim.close();
    }
  }, 30_000);

  it('pauses an API for every caller for the Retry-After of a 429, then retries', async () => {
    gw = await startTestGateway();
    const [m1, m2, m3] = gw.sim.tenant.machines;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'throttle', retryAfterSeconds: 2 }, times: 1 });
    const first = gw.query(`{ machine(id: "${m1!.id}") { id } }`);
    // The 429 has reached the gateway (on a loaded machine that takes longer than any fixed pause).
    await eventually(() => callsTo(gw!.sim.calls, 'machines/{id}').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const other = gw.query(`{ machine(id: "${m2!.id}") { id } }`);
    const otherApi = await gw.query(`{ machine: alert(id: "${gw.sim.tenant.alerts[0]!.id}") { id } }`);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(otherApi.errors).toBeUndefined();
    const [a, b] = await Promise.all([first, other]);
    expect(a.data).toEqual({ machine: { id: m1!.id } });
    expect(b.data).toEqual({ machine: { id: m2!.id } });
    expect(a.extensions!.upstream).toMatchObject({ calls: 2 });

    const calls = callsTo(gw.sim.calls, 'machines/{id}');
    expect(calls.map((c) => c.status)).toEqual([429, 200, 200]);
    for (const later of calls.slice(1)) expect(later.at - calls[0]!.at).toBeGreaterThanOrEqual(2_000);
    void m3;
  });

  it('refuses an operation the budget cannot serve before its deadline: RATE_LIMITED, at once, no call', async () => {
    const limits = parseRateLimits('2/60s');
    gw = await startTestGateway({ rateLimits: limits, server: { requestDeadlineMs: 1_000 } });
    const ids = gw.sim.tenant.machines.slice(0, 3).map((m) => m.id);
    await gw.query(`{ machine(id: "${ids[0]}") { id } }`);
    await gw.query(`{ machine(id: "${ids[1]}") { id } }`);
    gw.sim.resetCalls();
    const started = Date.now();
    const refused = await gw.query(`{ machine(id: "${ids[2]}") { id } }`);
    expect(Date.now() - started).toBeLessThan(500);
    // A whole operation refused for budget is a 429 (its Retry-After is pinned in http-errors.test.ts).
    expect(refused.status).toBe(429);
    expect(refused.data).toBeUndefined();
    expect(refused.errors).toEqual([
      expect.objectContaining({
        extensions: {
          code: 'RATE_LIMITED',
          retryAfterSeconds: expect.any(Number),
          cost: expect.objectContaining({ estimated: 1, estimatedMax: 1 }),
        },
      }),
    ]);
    const retryAfter = refused.errors![0]!.extensions!['retryAfterSeconds'] as number;
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(62);
    expect(gw.sim.calls).toEqual([]);
  });

  it('fails only the fields the budget cannot serve when that shows during execution', async () => {
    const limits = parseRateLimits('2/60s');
    // Learnt, wrongly, that machines have no logon users: admitted on two expected calls per API at most.
    const fanout = new FanoutStats();
    const recorder = new FanoutRecorder();
    for (let i = 0; i < 500; i++) recorder.observe('Machine(record).logonUsers', `m${i}`, 0, []);
    fanout.record(recorder.seen());
    gw = await startTestGateway({ rateLimits: limits, server: { requestDeadlineMs: 1_000, fanout } });
    // Two machines whose logon users are at least three accounts: the third users/{id}/machines cannot fit.
    const t = gw.sim.tenant;
    const machines = t.machines.filter((m) => t.logonUsers(m.id).length >= 2).slice(0, 2);
    const accounts = new Set(
      machines.flatMap((m) => t.logonUsers(m.id).map((u) => u.accountName.toLowerCase())),
    );
    expect(accounts.size).toBeGreaterThanOrEqual(3);
    const res = await gw.query(
      `{ ${machines.map((m, i) => `m${i}: machine(id: "${m.id}") { logonUsers { id machines { id } } }`).join(' ')} }`,
    );
    // Partial data: the operation was answered, so a 200 (a 429 is for an operation refused as a whole).
    expect(res.status).toBe(200);
    expect(res.data).toBeTruthy();
    // One error per account past the budget: each refused list is null on its own, its user still answered.
    expect(res.errors?.length).toBe(accounts.size - 2);
    for (const error of res.errors ?? []) {
      expect(error.extensions?.['code']).toBe('RATE_LIMITED');
      expect(error.path?.at(-1)).toBe('machines');
    }
    expect(gw.sim.calls.filter((c) => c.api === 'users/{id}/machines')).toHaveLength(2);
  });

  it('shows the budget per API and window in Query.rateLimit', async () => {
    gw = await startTestGateway({ rateLimits: parseRateLimits('100/60s,1500/3600s') });
    await gw.query(`{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id } }`);
    const res = await gw.query<{
      rateLimit: { api: string; limit: number; remaining: number; windowSeconds: number; resetAt: string }[];
    }>('{ rateLimit { api limit remaining windowSeconds resetAt } }');
    const budget = res.data!.rateLimit;
    // The 12 read routes, the alert writes `alerts/{id}:patch` and `alerts/batchUpdate` and advanced hunting, two
    // windows each (hunting's own: 45/60 s, 1,500/3,600 s; batchUpdate's: 10/60 s, 500/3,600 s).
    expect(budget).toHaveLength(15 * 2);
    expect(
      budget.filter((b) => b.api === 'alerts/batchUpdate').map((b) => [b.limit, b.windowSeconds]),
    ).toEqual([
      [10, 60],
      [500, 3600],
    ]);
    expect(
      budget.filter((b) => b.api === 'alerts/{id}:patch').map((b) => [b.limit, b.windowSeconds]),
    ).toEqual([
      [100, 60],
      [1500, 3600],
    ]);
    expect(budget.filter((b) => b.api === 'hunting').map((b) => [b.limit, b.windowSeconds])).toEqual([
      [45, 60],
      [1500, 3600],
    ]);
    expect(budget.filter((b) => b.api === 'machines/{id}')).toEqual([
      { api: 'machines/{id}', limit: 100, remaining: 99, windowSeconds: 60, resetAt: expect.any(String) },
      {
        api: 'machines/{id}',
        limit: 1500,
        remaining: 1499,
        windowSeconds: 3600,
        resetAt: expect.any(String),
      },
    ]);
    const reset = Date.parse(budget.find((b) => b.api === 'machines/{id}')!.resetAt);
    expect(reset - Date.now()).toBeGreaterThan(55_000);
    expect(budget.find((b) => b.api === 'alerts')).toMatchObject({ remaining: 100 });
  });
});

/** An HTTP proxy in front of `target` that holds the first `held` GET requests `holdMs` before passing them on. */
async function holdingProxy(target: string, held: number, holdMs: number) {
  let seen = 0;
  const server = createServer((req, res) => {
    const hold = seen++ < held ? holdMs : 0;
    setTimeout(() => {
      fetch(new URL(req.url ?? '/', target), { headers: { authorization: req.headers.authorization ?? '' } })
        .then(async (answer) => {
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
            ...(answer.headers.has('retry-after') && { 'retry-after': answer.headers.get('retry-after')! }),
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.destroy());
    }, hold);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${new URL(target).pathname}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
