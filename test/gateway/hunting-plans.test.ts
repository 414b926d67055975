import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/graphql/resolvers/connection.js';
import { createLogger } from '../../src/ops/logger.js';
import { FanoutStats } from '../../src/planner/fanout.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

/**
 * DEFENDER_PLANS=auto answers a level of `Machine.logonUsers` or `User.machines` with 2 or more parents by
 * advanced hunting, one query per chunk; the answers equal the REST plan's, and hunting that cannot serve
 * falls back to REST without an error. Every gateway here runs with no cache, so each query shows its own calls.
 */

const WALK = `{ alerts(first: 20) { nodes { id user { id machines { id computerDnsName logonUsers { id } } } } } }`;
const WALK_WITH_STATS = `{ alerts(first: 20) { nodes { id user { id machines { id logonUsers {
  id accountName accountDomain accountSid lastSeen logonTypes logOnMachinesCount isDomainAdmin isOnlyNetworkUser
} } } } } }`;
const WALK_WITH_FIRST_SEEN = `{ alerts(first: 20) { nodes { id user { id machines { id logonUsers { id firstSeen } } } } } }`;

interface Walk {
  alerts: {
    nodes: {
      id: string;
      user: { id: string; machines: { id: string; logonUsers: { id: string }[] }[] } | null;
    }[];
  };
}

/** The data with every relationship list ordered by id: Defender documents no order for them. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(sorted);
    const byId = items.every((i) => typeof i === 'object' && i !== null && 'id' in i);
    return byId
      ? items.sort((a, b) => String((a as { id: string }).id).localeCompare((b as { id: string }).id))
      : items;
  }
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sorted(v)]));
  return value;
}

let rest: TestGateway;
let auto: TestGateway;
beforeAll(async () => {
  // The REST plan of the walk is hundreds of calls: room for it, run after run, in the gateway and Defender.
  const roomy = [{ limit: 100_000, windowSeconds: 60 }];
  const options = { cacheTtlMs: 0, rateLimits: roomy, simulator: { rateLimits: roomy } };
  const server = { maxOperationCalls: 10_000 };
  rest = await startTestGateway({ ...options, server: { ...server, plans: 'rest' } });
  auto = await startTestGateway({ ...options, server: { ...server, plans: 'auto' } });
});
afterEach(() => {
  rest.sim.resetCalls();
  auto.sim.resetCalls();
  auto.sim.clearFaults();
});
afterAll(async () => {
  await rest.close();
  await auto.close();
});

describe('DEFENDER_PLANS=auto', () => {
  it('walks alerts → user → machines (with their names) → logon users in one page and two hunting queries, with the REST plan’s answers', async () => {
    const viaRest = await rest.query<Walk>(WALK);
    const viaAuto = await auto.query<Walk>(WALK);
    expect(viaRest.errors).toBeUndefined();
    expect(viaAuto.errors).toBeUndefined();
    expect(sorted(viaAuto.data)).toEqual(sorted(viaRest.data));

    // `computerDnsName` is the events' DeviceName: no `machines?$filter=id in (…)` lookup.
    const calls = auto.sim.calls;
    expect(calls.map((c) => c.api)).toEqual(['alerts', 'hunting', 'hunting']);
    expect(calls[1]!.kql).toContain('arg_max(Timestamp, DeviceName)');
    const upstream = viaAuto.extensions!['upstream'] as unknown as {
      calls: number;
      byApi: Record<string, { calls: number }>;
      plans: { path: string; source: string; calls: number }[];
    };
    expect(upstream.calls).toBe(calls.length);
    expect(upstream.byApi['hunting']!.calls).toBe(2);
    expect(upstream.plans).toEqual([
      { path: 'alerts.nodes.user.machines', source: 'hunting', calls: 1 },
      { path: 'alerts.nodes.user.machines.logonUsers', source: 'hunting', calls: 1 },
    ]);
    const metrics = await (await fetch(`${auto.url}/metrics`)).text();
    expect(metrics).toMatch(/defender_upstream_calls_total\{api="hunting",status="200"\} [1-9]/);
    // The REST plan pays one call per user and one per machine for the same answers.
    expect(rest.sim.calls.length).toBeGreaterThan(4 * calls.length);
    expect(rest.sim.calls.filter((c) => c.api === 'hunting')).toEqual([]);
  });

  it('reads a machine field hunting does not give (osPlatform) from batched lookups by id, equal to REST’s', async () => {
    const query = WALK.replace('computerDnsName', 'computerDnsName osPlatform');
    const viaRest = await rest.query(query);
    const viaAuto = await auto.query<Walk>(query);
    expect(viaAuto.errors).toBeUndefined();
    expect(sorted(viaAuto.data)).toEqual(sorted(viaRest.data));
    const machineIds = new Set(
      viaAuto.data!.alerts.nodes.flatMap((n) => n.user?.machines.map((m) => m.id) ?? []),
    );
    expect(machineIds.size).toBeGreaterThan(50);
    const apis = auto.sim.calls.map((c) => c.api);
    expect(apis.filter((a) => a === 'hunting')).toHaveLength(2);
    expect(apis.filter((a) => a === 'machines')).toHaveLength(Math.ceil(machineIds.size / 50));
    expect(apis.filter((a) => a !== 'alerts' && a !== 'hunting' && a !== 'machines')).toEqual([]);
  });

  it('derives the logon users’ statistics with a second query, equal to REST’s records', async () => {
    const viaRest = await rest.query(WALK_WITH_STATS);
    const viaAuto = await auto.query(WALK_WITH_STATS);
    expect(viaAuto.errors).toBeUndefined();
    expect(sorted(viaAuto.data)).toEqual(sorted(viaRest.data));
    const hunting = auto.sim.calls.filter((c) => c.api === 'hunting');
    expect(hunting).toHaveLength(3);
    expect(hunting.some((c) => c.kql?.includes('logOnMachinesCount = dcount(DeviceId)'))).toBe(true);
  });

  it('answers a level asking firstSeen, which hunting cannot give, by REST', async () => {
    const viaRest = await rest.query(WALK_WITH_FIRST_SEEN);
    const viaAuto = await auto.query(WALK_WITH_FIRST_SEEN);
    expect(viaAuto.errors).toBeUndefined();
    expect(sorted(viaAuto.data)).toEqual(sorted(viaRest.data));
    // users/{name}/machines is still hunted; the logon users come from their REST route.
    expect(auto.sim.calls.filter((c) => c.api === 'hunting')).toHaveLength(1);
    expect(auto.sim.calls.some((c) => c.api === 'machines/{id}/logonusers')).toBe(true);
  });

  it('uses REST for a level with first, which keeps Defender’s order', async () => {
    const query = '{ alerts(first: 20) { nodes { id user { id machines(first: 2) { id } } } } }';
    const viaRest = await rest.query(query);
    const viaAuto = await auto.query(query);
    expect(viaAuto.errors).toBeUndefined();
    expect(viaAuto.data).toEqual(viaRest.data);
    expect(auto.sim.calls.filter((c) => c.api === 'hunting')).toEqual([]);
  });

  it('uses REST for a level of one parent', async () => {
    const m = auto.sim.tenant.machines[0]!;
    const res = await auto.query(`{ machine(id: "${m.id}") { logonUsers { id } } }`);
    expect(res.errors).toBeUndefined();
    expect(callKeys(auto.sim.calls)).toEqual([`machines/{id} ${m.id}`, `machines/{id}/logonusers ${m.id}`]);
  });

  it.each([
    ['failing (503 past the retries)', { kind: 'status', status: 503 } as const, 'UPSTREAM_UNAVAILABLE'],
    ['refused for a missing permission (403)', { kind: 'status', status: 403 } as const, 'FORBIDDEN'],
    ['throttled past the retries (429)', { kind: 'throttle', retryAfterSeconds: 0 } as const, 'RATE_LIMITED'],
  ])('falls back to REST without an error when hunting is %s', async (_, fault, code) => {
    const viaRest = await rest.query(WALK);
    auto.sim.injectFault({ api: 'hunting', fault });
    const viaAuto = await auto.query(WALK);
    expect(viaAuto.errors).toBeUndefined();
    expect(sorted(viaAuto.data)).toEqual(sorted(viaRest.data));
    const plans = (
      viaAuto.extensions!['upstream'] as unknown as { plans: { source: string; fallback?: string }[] }
    ).plans;
    expect(plans.length).toBeGreaterThan(0);
    expect(plans.every((p) => p.source === 'rest' && p.fallback === code)).toBe(true);
  });
});

describe('the cost estimate with DEFENDER_PLANS=auto', () => {
  it('counts a hunted level as hunting queries, so the walk fits the default cap of 100 calls that REST exceeds', async () => {
    const roomy = [{ limit: 100_000, windowSeconds: 60 }];
    const gw = await startTestGateway({
      cacheTtlMs: 0,
      rateLimits: roomy,
      simulator: { rateLimits: roomy },
      server: { plans: 'auto' },
    });
    try {
      const res = await gw.query(WALK);
      expect(res.errors).toBeUndefined();
      const upstream = res.extensions!['upstream'] as unknown as {
        calls: number;
        estimate: { min: number; max: number };
        byApi: Record<string, { calls: number; estimate?: { min: number; max: number } }>;
      };
      expect(upstream.estimate.min).toBeLessThanOrEqual(upstream.calls);
      expect(upstream.estimate.max).toBeGreaterThanOrEqual(upstream.calls);
      expect(upstream.byApi['hunting']!.estimate!.max).toBeGreaterThanOrEqual(2);
      // The same walk by REST passes the cap during execution: its fields fail QUERY_TOO_EXPENSIVE.
      const viaRest = await startTestGateway({
        cacheTtlMs: 0,
        rateLimits: roomy,
        simulator: { rateLimits: roomy },
        server: { plans: 'rest' },
      });
      try {
        const refused = await viaRest.query(WALK);
        expect(refused.errors?.[0]?.extensions?.['code']).toBe('QUERY_TOO_EXPENSIVE');
      } finally {
        await viaRest.close();
      }
    } finally {
      await gw.close();
    }
  });
});

describe('DEFENDER_PLANS=auto with a cache', () => {
  it('answers the same hunting queries again from the cache, keyed by their exact KQL', async () => {
    const gw = await startTestGateway({ server: { maxOperationCalls: 10_000, plans: 'auto' } });
    try {
      const cold = await gw.query<Walk>(WALK);
      gw.sim.resetCalls();
      // Another document (so the response cache cannot answer it whole) that needs the same hunting queries.
      const warm = await gw.query<Walk>(WALK.replace('nodes {', 'nodes { __typename'));
      expect(warm.errors).toBeUndefined();
      expect(warm.data!.alerts.nodes.map((n) => n.user)).toEqual(cold.data!.alerts.nodes.map((n) => n.user));
      expect(gw.sim.calls).toEqual([]);
      const byApi = (
        warm.extensions!['upstream'] as unknown as { byApi: Record<string, { cacheHits: number }> }
      ).byApi;
      expect(byApi['hunting']!.cacheHits).toBe(2);
    } finally {
      await gw.close();
    }
  });
});

describe('a hunted level whose answers are cached, answered ahead of its resolvers', () => {
  // Every query executes: no response cache answers the warm run whole.
  const autoWithoutResponseCache = () =>
    startTestGateway({
      rateLimits: roomy,
      simulator: { rateLimits: roomy },
      server: { maxOperationCalls: 10_000, plans: 'auto', responseCache: false },
    });
  // Each selection in turn, warm: the level after `User.machines` is answered when `User.machines` is (its
  // resolvers then return their lists at once); the answers, the calls and the plans are the cold run's.
  const WALKS = {
    'two aliases of the level': `{ alerts(first: 20) { nodes { id user { machines { id
      a: logonUsers { id } b: logonUsers { accountName } } } } } }`,
    'the level in a fragment, beside a skipped one': `query ($no: Boolean = false) { alerts(first: 20) { nodes { user {
      machines { ...M skipped: logonUsers @include(if: $no) { id } } } } } } fragment M on Machine { id logonUsers { id } }`,
    'the level with its statistics (the second query)': WALK_WITH_STATS,
    'the level with first (the route, not hunting)': `{ alerts(first: 20) { nodes { user { machines { id
      logonUsers(first: 1) { id } } } } } }`,
  };

  it.each(Object.entries(WALKS))(
    '%s: the same answer, plans and calls as cold, and no call',
    async (_, walk) => {
      const gw = await autoWithoutResponseCache();
      try {
        const cold = await gw.query(walk);
        expect(cold.errors).toBeUndefined();
        gw.sim.resetCalls();
        const warm = await gw.query(walk);
        expect(warm.errors).toBeUndefined();
        expect(warm.data).toEqual(cold.data);
        expect(gw.sim.calls).toEqual([]);
        // In the order their levels completed, which for two levels at one depth may differ.
        const byPath = (plans: Plan[]) => [...plans].sort((x, y) => x.path.localeCompare(y.path));
        expect(byPath(upstreamOf(warm).plans!)).toEqual(
          byPath(upstreamOf(cold).plans!).map((p) => ({ ...p, calls: 0 })),
        );
        expect(upstreamOf(warm).calls).toBe(0);
      } finally {
        await gw.close();
      }
    },
  );

  it('is not answered ahead when its hunting answer is not cached: its own batch sends the one query', async () => {
    const gw = await autoWithoutResponseCache();
    try {
      // The users' machines are cached (hunted); their logon users are not.
      await gw.query('{ alerts(first: 20) { nodes { user { machines { id } } } } }');
      gw.sim.resetCalls();
      const res = await gw.query(WALK);
      expect(res.errors).toBeUndefined();
      expect(gw.sim.calls.map((c) => c.api)).toEqual(['hunting']);
      expect(upstreamOf(res).plans).toEqual([
        { path: 'alerts.nodes.user.machines', source: 'hunting', calls: 0 },
        { path: 'alerts.nodes.user.machines.logonUsers', source: 'hunting', calls: 1 },
      ]);
    } finally {
      await gw.close();
    }
  });
});

describe('DEFENDER_PLANS=auto when hunting’s budget has no slot before the deadline', () => {
  it('answers the level by REST without sending hunting the query', async () => {
    const roomy = [{ limit: 100_000, windowSeconds: 60 }];
    const gw = await startTestGateway({
      cacheTtlMs: 0,
      rateLimits: roomy,
      simulator: { rateLimits: roomy },
      huntingRateLimits: [{ limit: 1, windowSeconds: 3_600 }],
      server: { maxOperationCalls: 10_000, plans: 'auto' },
    });
    try {
      const viaRest = await rest.query(WALK);
      const res = await gw.query(WALK);
      expect(res.errors).toBeUndefined();
      expect(sorted(res.data)).toEqual(sorted(viaRest.data));
      // The one slot serves the machines level; the logon users' level sees none left and uses REST.
      expect(gw.sim.calls.filter((c) => c.api === 'hunting')).toHaveLength(1);
      const plans = (res.extensions!['upstream'] as unknown as { plans: unknown[] }).plans;
      expect(plans).toEqual([
        { path: 'alerts.nodes.user.machines', source: 'hunting', calls: 1 },
        { path: 'alerts.nodes.user.machines.logonUsers', source: 'rest', calls: expect.any(Number) },
      ]);
    } finally {
      await gw.close();
    }
  });
});

describe('DEFENDER_PLANS=auto with hunting’s breaker open', () => {
  it('answers by REST without sending hunting anything, and says why', async () => {
    const roomy = [{ limit: 100_000, windowSeconds: 60 }];
    const gw = await startTestGateway({
      cacheTtlMs: 0,
      rateLimits: roomy,
      simulator: { rateLimits: roomy },
      client: { maxRetries: 0, breakerThreshold: 1, breakerHalfOpenAfterMs: 60_000 },
      server: { maxOperationCalls: 10_000, plans: 'auto' },
    });
    try {
      gw.sim.injectFault({ api: 'hunting', fault: { kind: 'status', status: 500 }, times: 1 });
      await gw.query(WALK);
      gw.sim.resetCalls();
      const viaRest = await rest.query(WALK);
      const res = await gw.query(WALK);
      expect(res.errors).toBeUndefined();
      expect(sorted(res.data)).toEqual(sorted(viaRest.data));
      expect(gw.sim.calls.filter((c) => c.api === 'hunting')).toEqual([]);
      const plans = (res.extensions!['upstream'] as unknown as { plans: { fallback?: string }[] }).plans;
      expect(plans.map((p) => p.fallback)).toEqual(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE']);
    } finally {
      await gw.close();
    }
  });
});

describe('DEFENDER_PLANS=rest', () => {
  it('never sends a hunting query', async () => {
    const res = await rest.query(WALK_WITH_STATS);
    expect(res.errors).toBeUndefined();
    expect(rest.sim.calls.filter((c) => c.api === 'hunting')).toEqual([]);
    expect(
      (res.extensions!['upstream'] as unknown as { byApi: Record<string, unknown> }).byApi['hunting'],
    ).toBeUndefined();
  });
});

interface Plan {
  path: string;
  source: string;
  calls: number;
  fallback?: string;
}
const upstreamOf = (res: { extensions?: Record<string, unknown> }) =>
  res.extensions!['upstream'] as unknown as { plans?: Plan[]; calls: number; estimate: { expected: number } };
const DRY_RUN = { 'x-dry-run': 'true' };
const roomy = [{ limit: 100_000, windowSeconds: 60 }];

describe('the plan choice (planner/plan-choice.ts), before and during execution', () => {
  it('is reported per level by the dry run, and the execution then follows it', async () => {
    const dry = await auto.query(WALK, undefined, DRY_RUN);
    expect(auto.sim.calls).toEqual([]);
    const planned = ((dry.extensions as Record<string, unknown>)['cost'] as { plans: Plan[] }).plans;
    const run = await auto.query(WALK);
    const executed = upstreamOf(run).plans!;
    expect(planned.map((p) => [p.path, p.source])).toEqual(executed.map((p) => [p.path, p.source]));
    expect(planned.map((p) => p.source)).toEqual(['hunting', 'hunting']);
    expect(upstreamOf(run).estimate).toMatchObject({ plans: planned });
  });

  it('uses REST for a level of two uncached parents, and hunting from three', async () => {
    const two = await auto.query('{ machines(first: 2) { nodes { id logonUsers { id } } } }');
    expect(two.errors).toBeUndefined();
    expect(auto.sim.calls.map((c) => c.api)).toEqual([
      'machines',
      'machines/{id}/logonusers',
      'machines/{id}/logonusers',
    ]);
    expect(upstreamOf(two).plans).toEqual([{ path: 'machines.nodes.logonUsers', source: 'rest', calls: 2 }]);
    auto.sim.resetCalls();
    const three = await auto.query('{ machines(first: 3) { nodes { id logonUsers { id } } } }');
    expect(auto.sim.calls.map((c) => c.api)).toEqual(['machines', 'hunting']);
    expect(upstreamOf(three).plans).toEqual([
      { path: 'machines.nodes.logonUsers', source: 'hunting', calls: 1 },
    ]);
  });

  it('uses REST, at no call, for a level whose every REST answer is cached, before and during execution', async () => {
    const gw = await startTestGateway({
      rateLimits: roomy,
      simulator: { rateLimits: roomy },
      server: { maxOperationCalls: 10_000, plans: 'auto' },
    });
    try {
      // `first` keeps Defender's order: REST answers (and caches) every user's machines.
      await gw.query('{ alerts(first: 20) { nodes { user { machines(first: 500) { id } } } } }');
      gw.sim.resetCalls();
      const dry = await gw.query(WALK, undefined, DRY_RUN);
      expect(((dry.extensions as Record<string, unknown>)['cost'] as { plans: Plan[] }).plans).toEqual([
        { path: 'alerts.nodes.user.machines', source: 'rest', calls: 0 },
        { path: 'alerts.nodes.user.machines.logonUsers', source: 'hunting', calls: 1 },
      ]);
      const res = await gw.query(WALK);
      expect(res.errors).toBeUndefined();
      expect(gw.sim.calls.map((c) => c.api)).toEqual(['hunting']);
      expect(upstreamOf(res).plans).toEqual([
        { path: 'alerts.nodes.user.machines', source: 'rest', calls: 0 },
        { path: 'alerts.nodes.user.machines.logonUsers', source: 'hunting', calls: 1 },
      ]);
    } finally {
      await gw.close();
    }
  });
});

describe('a fallback from hunting to REST', () => {
  it('is counted in defender_plan_fallbacks_total and logged once per level, with no query, id or URL', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const gw = await startTestGateway({
      cacheTtlMs: 0,
      rateLimits: roomy,
      simulator: { rateLimits: roomy },
      server: { maxOperationCalls: 10_000, plans: 'auto', logger: createLogger('info', stream) },
    });
    try {
      gw.sim.injectFault({ api: 'hunting', fault: { kind: 'status', status: 503 } });
      const res = await gw.query<Walk>(WALK);
      expect(res.errors).toBeUndefined();
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toMatch(
        /^defender_plan_fallbacks_total\{api="hunting",reason="UPSTREAM_UNAVAILABLE"\} 2$/m,
      );
      const warnings = lines.filter((l) => String(l['msg']).includes('fell back to REST'));
      expect(warnings).toHaveLength(2);
      expect(warnings.map((l) => [l['level'], l['reason']])).toEqual([
        ['warn', 'UPSTREAM_UNAVAILABLE'],
        ['warn', 'UPSTREAM_UNAVAILABLE'],
      ]);
      const text = JSON.stringify(warnings);
      const ids = res.data!.alerts.nodes.flatMap((n) => [
        ...(n.user ? [n.user.id] : []),
        ...(n.user?.machines.map((m) => m.id) ?? []),
      ]);
      for (const secret of [new URL(gw.sim.url).host, 'DeviceLogonEvents', 'Bearer', ...ids])
        expect(text).not.toContain(secret);
    } finally {
      await gw.close();
    }
  });
});

describe('the fan-out hunting answers teach', () => {
  it('is what a later REST-only query estimates with', async () => {
    const page = (n: number) =>
      WALK.replace('first: 20', `first: 20, after: ${JSON.stringify(encodeCursor(n * 20))}`);
    const errorOf = async (gw: TestGateway) => {
      gw.sim.resetCalls();
      const res = await gw.query(WALK);
      expect(res.errors).toBeUndefined();
      return upstreamOf(res).estimate.expected / gw.sim.calls.length - 1;
    };
    const options = { cacheTtlMs: 0, rateLimits: roomy, simulator: { rateLimits: roomy } };
    const fanout = new FanoutStats();
    const hunter = await startTestGateway({
      ...options,
      server: { maxOperationCalls: 10_000, plans: 'auto', fanout },
    });
    const taught = await startTestGateway({
      ...options,
      server: { maxOperationCalls: 10_000, plans: 'rest', fanout },
    });
    const untaught = await startTestGateway({
      ...options,
      server: { maxOperationCalls: 10_000, plans: 'rest' },
    });
    try {
      // On the source table's priors alone, the REST estimate of the walk is far off.
      expect(Math.abs(await errorOf(untaught))).toBeGreaterThan(1);
      for (let n = 1; n <= 3; n++) expect((await hunter.query(page(n))).errors).toBeUndefined();
      expect(
        hunter.sim.calls.filter((c) => c.api?.startsWith('users/') || c.api?.includes('logonusers')),
      ).toEqual([]);
      expect(Math.abs(await errorOf(taught))).toBeLessThanOrEqual(0.25);
    } finally {
      await hunter.close();
      await taught.close();
      await untaught.close();
    }
  });
});
