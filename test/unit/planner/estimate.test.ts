import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../../../src/cache/entity-cache.js';
import type { DefenderRequest } from '../../../src/defender/client.js';
import { alertListRequest, machineListRequest } from '../../../src/defender/resources.js';
import type { CostEstimate } from '../../../src/planner/estimate.js';
import { estimateCost } from '../../../src/planner/estimate.js';
import { machineFilter } from '../../../src/graphql/filters.js';

/**
 * The planner alone: a parsed document, a cache whose contents each test sets, no socket. What it must say is
 * what the resolvers would call (sources.ts), per API.
 */

const M1 = 'a'.repeat(40);
const M2 = 'b'.repeat(40);
const M3 = 'c'.repeat(40);
const alertId = (n: number) => `da63818059931564813${n}_1`;

const machine = (id: string) => ({ id, computerDnsName: `host-${id.slice(0, 4)}`, osPlatform: 'Windows11' });
const user = (name: string) => ({ id: `contoso\\${name}`, accountName: name, accountDomain: 'contoso' });
const alert = (n: number, machineId: string, userName: string | null = null) => ({
  id: alertId(n),
  machineId,
  computerDnsName: 'host',
  rbacGroupName: null,
  relatedUser: userName === null ? null : { userName, domainName: 'contoso' },
  evidence: [],
});

type Bounds = Pick<CostEstimate, 'min' | 'max'> & {
  byApi: Partial<Record<string, { min: number; max: number }>>;
};

const requestKey = (r: DefenderRequest) => `${r.api} ${r.id ?? ''} ${JSON.stringify(r.query ?? {})}`;

/** A cache holding exactly these answers (a body is a 200, null a 404). */
function cache(entries: [DefenderRequest, unknown][] = []) {
  const held = new Map<string, CachedAnswer>(
    entries.map(([request, body]) => [
      requestKey(request),
      body === null ? { status: 404 } : { status: 200, body },
    ]),
  );
  return async (requests: readonly DefenderRequest[]) => requests.map((r) => held.get(requestKey(r)));
}

const list = (value: unknown[]) => ({ value });

/** The estimate, leaving out APIs the planner looked at but counts no call to. */
async function estimate(
  query: string,
  lookup = cache(),
  variables?: Record<string, unknown>,
  batchSize = 50,
): Promise<Bounds | undefined> {
  const result = await estimateCost(parse(query), undefined, variables, {
    lookup,
    batchSize,
    maxPageSize: 500,
  });
  if (!result) return undefined;
  // The fewest and most calls; the expected ones have tests of their own (expected.test.ts).
  const byApi = Object.entries(result.byApi)
    .filter(([, range]) => range.max > 0)
    .map(([api, { min, max }]) => [api, { min, max }]);
  return { min: result.min, max: result.max, byApi: Object.fromEntries(byApi) };
}

describe('the cost planner', () => {
  describe('root lookups', () => {
    it('counts one call for a machine by id, none when it is cached', async () => {
      const query = `{ machine(id: "${M1}") { id osPlatform } }`;
      expect(await estimate(query)).toEqual({
        min: 1,
        max: 1,
        byApi: { 'machines/{id}': { min: 1, max: 1 } },
      });
      expect(await estimate(query, cache([[{ api: 'machines/{id}', id: M1 }, machine(M1)]]))).toEqual({
        min: 0,
        max: 0,
        byApi: {},
      });
    });

    it('batches several ids into $filter calls of batchSize ids each', async () => {
      const ids = [1, 2, 3, 4, 5].map(alertId);
      const query = `{ ${ids.map((id, i) => `a${i}: alert(id: "${id}") { id }`).join(' ')} }`;
      expect(await estimate(query, cache(), undefined, 2)).toEqual({
        min: 3,
        max: 3,
        byApi: { alerts: { min: 3, max: 3 } },
      });
      // Two of them cached: three left, two batches.
      const warm = cache([
        [{ api: 'alerts/{id}', id: ids[0] }, alert(1, M1)],
        [{ api: 'alerts/{id}', id: ids[1] }, alert(2, M1)],
      ]);
      expect((await estimate(query, warm, undefined, 2))?.byApi).toEqual({ alerts: { min: 2, max: 2 } });
    });

    it('sends computer names as batched filters on the list route, one name once whatever its case', async () => {
      const query =
        '{ a: machine(id: "Host-1.contoso.com") { id } b: machine(id: "host-1.CONTOSO.com") { id } c: machine(id: "host-2.contoso.com") { id } }';
      expect(await estimate(query, cache(), undefined, 1)).toEqual({
        min: 2,
        max: 2,
        byApi: { machines: { min: 2, max: 2 } },
      });
    });

    it('costs nothing for a user by name asked only what the name says', async () => {
      expect(await estimate('{ user(id: "contoso\\\\jdoe") { id accountName accountDomain } }')).toEqual({
        min: 0,
        max: 0,
        byApi: {},
      });
    });

    it("looks a user's record up among its machines' logon users, counting the first machine only", async () => {
      expect((await estimate('{ user(id: "jdoe") { firstSeen } }'))?.byApi).toEqual({
        'users/{id}/machines': { min: 1, max: 1 },
        'machines/{id}/logonusers': { min: 0, max: 1 },
      });
      const warm = cache([[{ api: 'users/{id}/machines', id: 'jdoe' }, list([machine(M1), machine(M2)])]]);
      expect((await estimate('{ user(id: "JDoe") { firstSeen } }', warm))?.byApi).toEqual({
        'machines/{id}/logonusers': { min: 1, max: 1 },
      });
    });

    it('refuses nothing and counts nothing for a field with a bad id, estimating the rest', async () => {
      expect(await estimate(`{ machine(id: "nope/../x") { id } b: machine(id: "${M1}") { id } }`)).toEqual({
        min: 1,
        max: 1,
        byApi: { 'machines/{id}': { min: 1, max: 1 } },
      });
    });

    it('estimates only queries and mutations whose variables coerce', async () => {
      expect(await estimate('subscription { alertChanges { kind } }')).toBeUndefined();
      expect(await estimate('query($id: ID!) { machine(id: $id) { id } }', cache(), {})).toBeUndefined();
    });
  });

  describe('mutations', () => {
    const ids = (n: number) =>
      Array.from({ length: n }, (_, i) => `da63818059931564${String(i).padStart(4, '0')}_1`);

    it('counts updateAlert as one PATCH, and the selection on the alert it answers', async () => {
      expect(
        await estimate(
          `mutation { updateAlert(id: "${alertId(1)}", input: { status: RESOLVED }) { id machine { id } } }`,
        ),
      ).toEqual({ min: 1, max: 1, byApi: { 'alerts/{id}:patch': { min: 1, max: 1 } } });
    });

    it('counts updateAlerts as one PATCH per id up to 10, above as batchUpdates of 100 and reads around them', async () => {
      const many = (n: number) =>
        estimate(
          'mutation($ids: [ID!]!) { updateAlerts(ids: $ids, input: { status: RESOLVED }) { id } }',
          cache(),
          {
            ids: ids(n),
          },
        );
      expect(await many(10)).toEqual({
        min: 10,
        max: 10,
        byApi: { 'alerts/{id}:patch': { min: 10, max: 10 } },
      });
      // 150 ids: 2 batches; read before (3 calls of 50, nothing cached) and after (3).
      expect(await many(150)).toEqual({
        min: 5,
        max: 8,
        byApi: { 'alerts/batchUpdate': { min: 2, max: 2 }, alerts: { min: 3, max: 6 } },
      });
    });

    it('counts nothing for input its resolver refuses', async () => {
      expect(await estimate(`mutation { updateAlert(id: "${alertId(1)}", input: {}) { id } }`)).toEqual({
        min: 0,
        max: 0,
        byApi: {},
      });
    });
  });

  describe('list pages', () => {
    it('counts one call per page, none when the page is cached', async () => {
      const query = '{ machines(first: 10, filter: { healthStatus: [ACTIVE] }) { nodes { id } } }';
      expect(await estimate(query)).toEqual({ min: 1, max: 1, byApi: { machines: { min: 1, max: 1 } } });
      // The filter reaches the request as Defender's wire value, as the resolver sends it.
      const page = machineListRequest({
        filter: machineFilter({ healthStatus: ['Active'] }),
        top: 11,
        skip: 0,
      });
      expect(await estimate(query, cache([[page, list([machine(M1)])]]))).toEqual({
        min: 0,
        max: 0,
        byApi: {},
      });
    });

    it('refuses `first` over the cap without counting the page', async () => {
      expect(await estimate('{ alerts(first: 501) { nodes { id } } }')).toEqual({
        min: 0,
        max: 0,
        byApi: {},
      });
    });
  });

  describe('relationships', () => {
    it('bounds per-entity routes of an uncached page by `first` and the fan-out prior', async () => {
      const result = await estimate('{ machines(first: 10) { nodes { logonUsers { machines { id } } } } }');
      expect(result?.byApi).toEqual({
        machines: { min: 1, max: 1 },
        'machines/{id}/logonusers': { min: 0, max: 10 },
        'users/{id}/machines': { min: 0, max: 10 * 25 },
      });
    });

    it('counts exactly one call per distinct user of a cached relationship list', async () => {
      const warm = cache([
        [{ api: 'machines/{id}', id: M1 }, machine(M1)],
        [{ api: 'machines/{id}/logonusers', id: M1 }, list([user('ann'), user('bob'), user('Ann')])],
      ]);
      expect(
        await estimate(`{ machine(id: "${M1}") { logonUsers { firstSeen machines { id } } } }`, warm),
      ).toEqual({
        min: 2,
        max: 2,
        byApi: { 'users/{id}/machines': { min: 2, max: 2 } },
      });
    });

    it('knows the next level when every list below is cached: zero calls', async () => {
      const warm = cache([
        [{ api: 'machines/{id}', id: M1 }, machine(M1)],
        [{ api: 'machines/{id}/alerts', id: M1 }, list([alert(1, M1, 'ann')])],
        [{ api: 'users/{id}/alerts', id: 'ann' }, list([])],
      ]);
      const query = `{ machine(id: "${M1}") { alerts { id user { accountName alerts { id } } } } }`;
      expect(await estimate(query, warm)).toEqual({ min: 0, max: 0, byApi: {} });
    });
  });

  describe('free fields', () => {
    const alerts = [alert(1, M1, 'ann'), alert(2, M2, null), alert(3, M3, 'bob')];
    const page = alertListRequest({ filter: undefined, top: 4, skip: 0 });
    const warm = cache([[page, list(alerts)]]);

    it("costs nothing for what an alert says of its machine and user, nor for the user's absence", async () => {
      const query =
        '{ alerts(first: 3) { nodes { machine { id computerDnsName rbacGroupName } user { id accountName accountDomain } } } }';
      expect(await estimate(query, warm)).toEqual({ min: 0, max: 0, byApi: {} });
    });

    it("loads the machines' records in one batch when a field the alert lacks is asked", async () => {
      expect(
        (await estimate('{ alerts(first: 3) { nodes { machine { osPlatform } } } }', warm))?.byApi,
      ).toEqual({
        machines: { min: 1, max: 1 },
      });
    });

    it("loads the user's record per alert that names one", async () => {
      expect((await estimate('{ alerts(first: 3) { nodes { user { firstSeen } } } }', warm))?.byApi).toEqual({
        'alerts/{id}/user': { min: 2, max: 2 },
      });
    });

    it('loads evidence only for alerts from routes that leave it out, once however often it is asked', async () => {
      const listed = cache([
        [{ api: 'machines/{id}', id: M1 }, machine(M1)],
        [{ api: 'machines/{id}/alerts', id: M1 }, list(alerts.slice(0, 2))],
      ]);
      const query = `{ machine(id: "${M1}") { alerts { e: evidence { sha1 } f: evidence { sha1 } } } }`;
      expect((await estimate(query, listed))?.byApi).toEqual({ alerts: { min: 1, max: 1 } });
      expect(await estimate('{ alerts(first: 3) { nodes { evidence { sha1 } } } }', warm)).toEqual({
        min: 0,
        max: 0,
        byApi: {},
      });
    });
  });

  describe('fragments, aliases and directives', () => {
    it('follows fragments and counts a route once for aliases of one entity', async () => {
      const warm = cache([[{ api: 'machines/{id}', id: M1 }, machine(M1)]]);
      const query = `{ a: machine(id: "${M1}") { ...F } b: machine(id: "${M1}") { ... on Machine { logonUsers { id } } } }
        fragment F on Machine { logonUsers { id } }`;
      expect(await estimate(query, warm)).toEqual({
        min: 1,
        max: 1,
        byApi: { 'machines/{id}/logonusers': { min: 1, max: 1 } },
      });
    });

    it('honours @skip and @include with variables', async () => {
      const warm = cache([[{ api: 'machines/{id}', id: M1 }, machine(M1)]]);
      const query = `query($skip: Boolean!) { machine(id: "${M1}") { logonUsers @skip(if: $skip) { id } alerts @include(if: $skip) { id } } }`;
      expect((await estimate(query, warm, { skip: true }))?.byApi).toEqual({
        'machines/{id}/alerts': { min: 1, max: 1 },
      });
      expect((await estimate(query, warm, { skip: false }))?.byApi).toEqual({
        'machines/{id}/logonusers': { min: 1, max: 1 },
      });
    });
  });
});
