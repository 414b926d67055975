import { afterEach, describe, expect, it } from 'vitest';
import type { DefenderApi } from '../../src/defender/apis.js';
import type { Source, TypeSources } from '../../src/graphql/sources.js';
import { SOURCES } from '../../src/graphql/sources.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * The resolvers and the planner read one source table (sources.ts): for queries that between them take every
 * route of the table, the planner's min and max bracket the calls the simulator saw, per API, on a cold cache
 * and on a cache the previous queries left partly warm.
 */

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

const ROOMY = parseRateLimits('10000/60s');
/** Some queries fan out past MAX_OPERATION_CALLS' default (100) on the table's priors: raised so each runs. */
const UNCAPPED = { maxOperationCalls: 10_000 };

type Upstream = {
  calls: number;
  estimate: { min: number; max: number; expected: number };
  byApi: Record<string, { calls: number; estimate?: { min: number; max: number; expected: number } }>;
};

function queries(g: TestGateway): string[] {
  const t = g.sim.tenant;
  const m = t.machines.find((x) => t.logonUsers(x.id).length > 1 && t.alertsOfMachine(x.id).length > 0)!;
  const other = t.machines.find((x) => x.id !== m.id && x.computerDnsName)!;
  const user = t.users.find((u) => t.machinesOfUser(u).length > 1 && !u.accountName.includes(' '))!;
  const alerts = t.alerts.filter((a) => a.relatedUser !== null).slice(3, 6);
  return [
    `{ machine(id: "${m.id}") { id osPlatform } }`,
    `{ a: machine(id: "${m.id}") { osPlatform } b: machine(id: "${other.id}") { ...F } }
     fragment F on Machine { id logonUsers { accountName } }`,
    `{ machine(id: "${other.computerDnsName!.toUpperCase()}") { id alerts { id evidence { sha1 } } } }`,
    '{ machines(first: 5) { nodes { id logonUsers { firstSeen machines { id } } alerts { id evidence { sha1 } } } } }',
    '{ alerts(first: 15) { edges { node { machine { osPlatform } user { firstSeen alerts { id } } } } } }',
    `{ user(id: "${user.accountName}") { firstSeen machines { id } } }`,
    `{ ${alerts.map((a, i) => `a${i}: alert(id: "${a.id}") { id machine { computerDnsName } user { accountName } }`).join(' ')} }`,
    `{ alert(id: "${alerts[0]!.id}") { user { isDomainAdmin } machine { logonUsers { id } } } }`,
  ];
}

/** Checks one query's estimate against the calls it made, and returns the APIs it called. */
async function bracketed(g: TestGateway, query: string): Promise<DefenderApi[]> {
  g.sim.resetCalls();
  const res = await g.query(query);
  expect(res.errors, query).toBeUndefined();
  const up = res.extensions!.upstream as unknown as Upstream;
  expect(up.calls, query).toBe(g.sim.calls.length);
  expect(up.estimate.min, query).toBeLessThanOrEqual(up.calls);
  expect(up.estimate.max, query).toBeGreaterThanOrEqual(up.calls);
  // No hunting call yet: every plan is REST, so each call is one of the Defender APIs.
  const seen = g.sim.calls.map((c) => c.api as DefenderApi);
  for (const api of new Set(seen)) {
    const calls = seen.filter((a) => a === api).length;
    const estimate = up.byApi[api]?.estimate;
    expect(estimate, `${query}: ${api} called but not estimated`).toBeDefined();
    expect(calls, `${query}: ${api}`).toBeGreaterThanOrEqual(estimate!.min);
    expect(calls, `${query}: ${api}`).toBeLessThanOrEqual(estimate!.max);
    expect(estimate!.expected, `${query}: ${api} expected`).toBeGreaterThanOrEqual(estimate!.min);
    expect(estimate!.expected, `${query}: ${api} expected`).toBeLessThanOrEqual(estimate!.max);
  }
  for (const [api, { estimate }] of Object.entries(up.byApi)) {
    if (estimate && estimate.min > 0)
      expect(seen, `${query}: ${api} estimated but not called`).toContain(api);
  }
  return seen;
}

/** Every route the table names for a relationship or a record. */
function tableRoutes(): Set<DefenderApi> {
  const routes = new Set<DefenderApi>();
  const add = (source: Source) => {
    if (source.kind === 'perParent' || source.kind === 'page' || source.kind === 'byName')
      routes.add(source.api);
    if (source.kind === 'byId') [source.single, source.list].forEach((r) => routes.add(r));
  };
  for (const type of Object.values(SOURCES) as TypeSources[]) {
    Object.values(type.records).forEach((s) => add(s as Source));
    for (const relationship of Object.values(type.relationships)) relationship.sources.forEach(add);
  }
  return routes;
}

describe('the planner and the resolvers', () => {
  it('agree on every route of the source table, cold and partly warm', async () => {
    gw = await startTestGateway({ rateLimits: ROOMY, simulator: { rateLimits: ROOMY }, server: UNCAPPED });
    const seen = new Set<DefenderApi>();
    for (const query of queries(gw)) {
      // Cold: a gateway of its own.
      await gw.close();
      gw = await startTestGateway({ rateLimits: ROOMY, simulator: { rateLimits: ROOMY }, server: UNCAPPED });
      for (const api of await bracketed(gw, query)) seen.add(api);
    }
    // Partly warm: each query on what the ones before it left in the cache.
    await gw.close();
    gw = await startTestGateway({ rateLimits: ROOMY, simulator: { rateLimits: ROOMY }, server: UNCAPPED });
    for (const query of queries(gw)) await bracketed(gw, query);
    expect([...seen].sort()).toEqual([...tableRoutes()].sort());
  });
});
