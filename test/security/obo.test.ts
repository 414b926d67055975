import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto, UserDto } from '../../src/defender/types.js';
import type { Tenant } from '../../src/simulator/data.js';
import { generateTenant } from '../../src/simulator/data.js';
import type { Simulator, SimulatorCall } from '../../src/simulator/server.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { TestAuthority } from '../helpers/authority.js';
import { OBO_GRANT, startTestAuthority } from '../helpers/authority.js';
import type { TestIssuer } from '../helpers/jwt.js';
import { startTestIssuer } from '../helpers/jwt.js';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';

/**
 * DEFENDER_AUTH_MODE=obo end to end: the gateway as `npm start` runs it (a child process, real
 * `@azure/msal-node`), inbound user tokens signed by a local key and checked against a local JWKS, the
 * on-behalf-of exchange against a local HTTPS authority, and a simulator whose tokens each see one device
 * group. Two callers whose tokens see different device groups never see each other's machines through any
 * path: root fields, nested fields, `_entities`, a cache the other warmed, concurrent in-flight calls.
 */

const SCOPE = 'https://api.securitycenter.microsoft.com/.default';
const CLIENT_ID = '4e8a1c2b-6d3f-4a97-b5e0-19c7d2f8a634';
const SECRET = 'canary-obo-secret-8c41d7e2b9a03f65';

/** The users, by `oid`. Alice sees device group A, Bob group B; the others' exchanges are refused. */
const OID = {
  alice: '0a11ce00-0000-4000-8000-00000000a11c',
  bob: '0b0b0000-0000-4000-8000-000000000b0b',
  carol: '0ca20100-0000-4000-8000-000000ca201e',
  dave: '0da7e000-0000-4000-8000-0000000da7e0',
  frank: '0f7a4c00-0000-4000-8000-0000000f7a4c',
} as const;
const OBO_TOKEN = { alice: 'obo-token-alice', bob: 'obo-token-bob' } as const;

interface Answer<D = Record<string, unknown>> {
  readonly status: number;
  readonly text: string;
  readonly data?: D | null;
  readonly errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

let tenant: Tenant;
let groupA: number;
let groupB: number;
/** A user with machines in both groups, an alert on one of B's machines, and a machine of A's. */
let shared: UserDto;
let aliceMachine: MachineDto;
let bobMachine: MachineDto;
let bobAlert: AlertDto;

let issuer: TestIssuer;
let authority: TestAuthority;
let sim: Simulator;
let gateway: Child;
let url: string;
const token: Record<keyof typeof OID, string> = { alice: '', bob: '', carol: '', dave: '', frank: '' };

const inGroup = (group: number) => (m: MachineDto) => m.rbacGroupId === group;

/** Two real device groups (not the default one) and the machines, user and alert the cases need. */
function pickGroups(t: Tenant): void {
  const size = (group: number) => t.machines.filter(inGroup(group)).length;
  const candidates = t.deviceGroups
    .map((g) => g.id)
    .filter((id) => id !== 0 && size(id) > 0 && size(id) <= 500);
  for (const a of candidates) {
    for (const b of candidates) {
      if (a === b) continue;
      const user = t.users.find((u) => {
        const machines = t.machinesOfUser(u);
        return machines.some(inGroup(a)) && machines.some(inGroup(b));
      });
      const alertOnB = t.alerts.find((alert) => t.machineById(alert.machineId)?.rbacGroupId === b);
      if (!user || !alertOnB) continue;
      [groupA, groupB, shared, bobAlert] = [a, b, user, alertOnB];
      aliceMachine = t.machinesOfUser(user).find(inGroup(a))!;
      bobMachine = t.machineById(alertOnB.machineId)!;
      return;
    }
  }
  throw new Error('the tenant has no two device groups with a user in both');
}

beforeAll(async () => {
  tenant = generateTenant({ seed: 1 });
  pickGroups(tenant);

  authority = await startTestAuthority({
    clients: [{ clientId: CLIENT_ID, secret: SECRET }],
    oboTokens: { [OID.alice]: OBO_TOKEN.alice, [OID.bob]: OBO_TOKEN.bob },
    oboRefusals: {
      [OID.carol]: 'invalid_grant',
      [OID.dave]: 'consent_required',
      [OID.frank]: 'interaction_required',
    },
  });
  issuer = await startTestIssuer({ tenantId: authority.tenantId, audience: `api://${CLIENT_ID}` });
  for (const name of Object.keys(OID) as (keyof typeof OID)[]) {
    token[name] = await issuer.userToken(OID[name], { claims: { name } });
  }
  // 50 ms per answer, so calls made at the same moment overlap at the simulator.
  sim = await startSimulator({
    seed: 1,
    latencyMs: 50,
    tokens: [
      { token: OBO_TOKEN.alice, rbacGroupIds: [groupA] },
      { token: OBO_TOKEN.bob, rbacGroupIds: [groupB] },
    ],
  });
  expect(sim.tenant.machines.map((m) => m.id)).toEqual(tenant.machines.map((m) => m.id));

  const port = await freePort();
  gateway = await startProgram(
    'src/index.ts',
    {
      PORT: String(port),
      DEFENDER_API_URL: sim.url,
      AZURE_TENANT_ID: authority.tenantId,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_CLIENT_SECRET: SECRET,
      AZURE_AUTHORITY_HOST: authority.url,
      NODE_EXTRA_CA_CERTS: authority.caCertPath,
      DEFENDER_AUTH_MODE: 'obo',
      AUTH_MODE: 'jwt',
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URI: issuer.jwksUri.href,
      CACHE_TTL_SECONDS: '300',
    },
    /GraphQL on http:/,
  );
  url = `http://127.0.0.1:${port}/graphql`;
}, 30_000);

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([authority?.close(), sim?.close(), issuer?.close()]);
});

beforeEach(() => sim.resetCalls());

async function graphql<D = Record<string, unknown>>(
  bearer: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Answer<D>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, ...(JSON.parse(text) as object) };
}

const ids = (items: readonly { id: string }[]) => items.map((m) => m.id).sort();
const callsFor = (id: string): SimulatorCall[] =>
  sim.calls.filter((c) => decodeURIComponent(`${c.path}?${c.search}`).includes(id));
const codes = (answer: Answer) => answer.errors?.map((e) => e.extensions?.code);

describe('on-behalf-of each caller: device-group isolation (child process, real MSAL, HTTPS authority)', () => {
  it('lists only the machines and alerts of each caller’s device group', async () => {
    // Two root fields, so each caller's first operation needs two Defender calls at once, cold.
    const query = `{
      machines(first: 500) { nodes { id rbacGroupId } }
      alerts(first: 20) { nodes { id machineId } }
    }`;
    type Lists = {
      machines: { nodes: { id: string; rbacGroupId: number }[] };
      alerts: { nodes: { id: string; machineId: string }[] };
    };
    const [alice, bob] = await Promise.all([
      graphql<Lists>(token.alice, query),
      graphql<Lists>(token.bob, query),
    ]);

    for (const [answer, group, other] of [
      [alice, groupA, groupB],
      [bob, groupB, groupA],
    ] as const) {
      expect(answer.errors).toBeUndefined();
      const machines = answer.data!.machines.nodes;
      expect(ids(machines)).toEqual(ids(tenant.machines.filter(inGroup(group))));
      expect(machines.every((m) => m.rbacGroupId === group)).toBe(true);
      const alerts = answer.data!.alerts.nodes;
      expect(alerts.length).toBeGreaterThan(0);
      expect(alerts.every((a) => tenant.machineById(a.machineId)!.rbacGroupId === group)).toBe(true);
      expect(alerts.some((a) => tenant.machineById(a.machineId)!.rbacGroupId === other)).toBe(false);
    }
    // Each list went out with its caller's own token.
    expect(new Set(sim.calls.map((c) => c.caller))).toEqual(new Set([OBO_TOKEN.alice, OBO_TOKEN.bob]));
  });

  it('answers null for another group’s machine or alert at the root, asking Defender as the caller', async () => {
    type Root = {
      machine: { id: string } | null;
      alert: { id: string; machine: { id: string } | null } | null;
    };
    const query = `query($m: ID!, $a: ID!) { machine(id: $m) { id } alert(id: $a) { id machine { id } } }`;
    const variables = { m: bobMachine.id, a: bobAlert.id };

    // Bob's list (previous case) primed his cache with this machine; Alice's answer must not come from it.
    const alice = await graphql<Root>(token.alice, query, variables);
    expect(alice.errors).toBeUndefined();
    expect(alice.data).toEqual({ machine: null, alert: null });
    expect(sim.calls.length).toBeGreaterThan(0);
    expect(sim.calls.every((c) => c.caller === OBO_TOKEN.alice && c.status === 404)).toBe(true);

    const bob = await graphql<Root>(token.bob, query, variables);
    expect(bob.data).toEqual({
      machine: { id: bobMachine.id },
      alert: { id: bobAlert.id, machine: { id: bobMachine.id } },
    });
  });

  it('trims nested lists to the caller’s group: a user’s machines, a machine’s users’ machines', async () => {
    type Nested = {
      user: { machines: { id: string }[] };
      machine: { logonUsers: { id: string; machines: { id: string }[] }[] } | null;
    };
    const query = `query($u: ID!, $m: ID!) {
      user(id: $u) { machines { id } }
      machine(id: $m) { logonUsers { id machines { id } } }
    }`;
    const variables = { u: shared.id, m: aliceMachine.id };
    const machinesOfName = [
      ...new Set(tenant.usersByAccountName(shared.accountName).flatMap((u) => tenant.machinesOfUser(u))),
    ];

    const alice = await graphql<Nested>(token.alice, query, variables);
    expect(alice.errors).toBeUndefined();
    expect(ids(alice.data!.user.machines)).toEqual(ids(machinesOfName.filter(inGroup(groupA))));
    const nested = alice.data!.machine!.logonUsers.flatMap((u) => u.machines);
    expect(nested.length).toBeGreaterThan(0);
    expect(nested.every((m) => tenant.machineById(m.id)!.rbacGroupId === groupA)).toBe(true);
    // The shared user logged on to machines of both groups: Alice sees only hers.
    const sharedThere = alice.data!.machine!.logonUsers.find(
      (u) => u.id.toLowerCase() === shared.id.toLowerCase(),
    );
    expect(ids(sharedThere!.machines)).toEqual(ids(machinesOfName.filter(inGroup(groupA))));

    const bob = await graphql<Nested>(token.bob, query, variables);
    expect(bob.errors).toBeUndefined();
    expect(ids(bob.data!.user.machines)).toEqual(ids(machinesOfName.filter(inGroup(groupB))));
    expect(bob.data!.machine).toBeNull();
  });

  it('never serves a machine from a cache the other caller warmed', async () => {
    const query = `query($m: ID!) { machine(id: $m) { id rbacGroupId } }`;
    const bobsOwn = tenant.machines.filter(inGroup(groupB)).at(-1)!;

    const bob = await graphql(token.bob, query, { m: bobsOwn.id });
    expect(bob.data).toEqual({ machine: { id: bobsOwn.id, rbacGroupId: groupB } });
    // Warm now, in Bob's partition: asked again, Bob gets it without a call.
    sim.resetCalls();
    expect((await graphql(token.bob, query, { m: bobsOwn.id })).data).toEqual(bob.data);
    expect(sim.calls).toEqual([]);

    const alice = await graphql(token.alice, query, { m: bobsOwn.id });
    expect(alice.errors).toBeUndefined();
    expect(alice.data).toEqual({ machine: null });
    expect(callsFor(bobsOwn.id).map((c) => ({ caller: c.caller, status: c.status }))).toEqual([
      { caller: OBO_TOKEN.alice, status: 404 },
    ]);

    // And the other way round.
    const alicesOwn = tenant.machines.filter(inGroup(groupA)).at(-1)!;
    expect((await graphql(token.alice, query, { m: alicesOwn.id })).data).toEqual({
      machine: { id: alicesOwn.id, rbacGroupId: groupA },
    });
    sim.resetCalls();
    expect((await graphql(token.bob, query, { m: alicesOwn.id })).data).toEqual({ machine: null });
    expect(callsFor(alicesOwn.id).map((c) => c.caller)).toEqual([OBO_TOKEN.bob]);
  });

  it('shares no in-flight call between callers asking for the same machine at the same moment', async () => {
    const query = `query($m: ID!) { machine(id: $m) { id } }`;
    const target = tenant.machines.filter(inGroup(groupA))[1]!;
    // no-cache: both go to Defender now (the lists warmed each caller's cache), so only in-flight sharing
    // could merge them.
    const fresh = { 'cache-control': 'no-cache' };
    const [alice, bob] = await Promise.all([
      graphql(token.alice, query, { m: target.id }, fresh),
      graphql(token.bob, query, { m: target.id }, fresh),
    ]);

    expect(alice.data).toEqual({ machine: { id: target.id } });
    expect(bob.data).toEqual({ machine: null });
    const calls = callsFor(target.id);
    expect(calls.map((c) => c.caller).sort()).toEqual([OBO_TOKEN.alice, OBO_TOKEN.bob]);
    expect(calls.find((c) => c.caller === OBO_TOKEN.alice)?.status).toBe(200);
    expect(calls.find((c) => c.caller === OBO_TOKEN.bob)?.status).toBe(404);
    // They were in flight together: the second arrived before the first could have been answered.
    expect(Math.abs(calls[0]!.at - calls[1]!.at)).toBeLessThan(sim.options.latencyMs);
  });

  it('resolves another group’s entities to null through _entities', async () => {
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Machine { id } ... on Alert { id } } }`;
    const representations = [
      { __typename: 'Machine', id: bobMachine.id },
      { __typename: 'Alert', id: bobAlert.id },
      { __typename: 'Machine', id: aliceMachine.id },
    ];
    const alice = await graphql<{ _entities: unknown[] }>(token.alice, query, { r: representations });
    expect(alice.errors).toBeUndefined();
    expect(alice.data!._entities).toEqual([null, null, { id: aliceMachine.id }]);
    expect(sim.calls.every((c) => c.caller === OBO_TOKEN.alice)).toBe(true);

    const bob = await graphql<{ _entities: unknown[] }>(token.bob, query, { r: representations });
    expect(bob.data!._entities).toEqual([{ id: bobMachine.id }, { id: bobAlert.id }, null]);
  });
});

describe('on-behalf-of failures: no fallback to the application identity', () => {
  it.each([
    ['carol', 'invalid_grant'],
    ['dave', 'consent_required'],
    ['frank', 'interaction_required'],
  ] as const)(
    '%s, whose exchange is refused (%s), gets UNAUTHENTICATED or FORBIDDEN and Defender is never called',
    async (name, outcome) => {
      const before = authority.tokenRequests.length;
      const answer = await graphql<{ machine: unknown }>(
        token[name],
        `{ machine(id: "${aliceMachine.id}") { id } }`,
      );

      expect(['UNAUTHENTICATED', 'FORBIDDEN']).toContain(codes(answer)?.[0]);
      expect(answer.data?.machine ?? null).toBeNull();
      expect(sim.calls).toEqual([]);
      // One exchange, refused and not retried, and no client-credentials request instead.
      expect(authority.tokenRequests.slice(before).map((r) => r.grantType)).toEqual([OBO_GRANT]);
      expect(authority.oboRequests.filter((r) => r.oid === OID[name])).toEqual([
        expect.objectContaining({ clientId: CLIENT_ID, outcome }),
      ]);
      expect(answer.text).not.toContain(token[name]);
      expect(answer.text).not.toContain(SECRET);
    },
  );

  it('refuses an application (app-only) token with 403 FORBIDDEN before any exchange or Defender call', async () => {
    const before = authority.tokenRequests.length;
    const appToken = await issuer.appToken('5a0f3b2c-0000-4000-8000-0000000a9900', {
      roles: ['Defender.Read'],
    });
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${appToken}` },
      body: JSON.stringify({ query: `{ machine(id: "${aliceMachine.id}") { id } }` }),
    });
    const body = (await res.json()) as Answer;
    expect(res.status).toBe(403);
    expect(codes({ ...body, status: res.status, text: '' })).toEqual(['FORBIDDEN']);
    expect(body.data).toBeUndefined();
    expect(sim.calls).toEqual([]);
    expect(authority.tokenRequests.length).toBe(before);
  });

  it('runs nothing for a request without a token, whatever its Accept header or spelling of the path', async () => {
    const before = authority.tokenRequests.length;
    const operation = encodeURIComponent(`{ machine(id: "${aliceMachine.id}") { id } }`);
    const origin = new URL(url).origin;
    for (const [path, accept] of [
      ['/graphql', 'application/json'],
      ['/graphql', 'application/json, text/html'],
      ['/%67raphql', 'application/json'],
    ] as const) {
      const res = await fetch(`${origin}${path}?query=${operation}`, {
        headers: { accept, 'apollo-require-preflight': 'true' },
      });
      const text = await res.text();
      expect([401, 404], `${path} ${accept}`).toContain(res.status);
      expect(text, `${path} ${accept}`).not.toContain('"data"');
    }
    expect(sim.calls).toEqual([]);
    expect(authority.tokenRequests.length).toBe(before);
  });
});

describe('the exchanges the authority saw', () => {
  it('one on-behalf-of request per user, reused from MSAL’s cache across operations, and no client credentials ever', () => {
    for (const name of ['alice', 'bob'] as const) {
      expect(authority.oboRequests.filter((r) => r.oid === OID[name])).toEqual([
        {
          clientId: CLIENT_ID,
          scope: expect.stringMatching(new RegExp(`(^| )${SCOPE.replace(/[./]/g, '\\$&')}( |$)`)),
          requestedTokenUse: 'on_behalf_of',
          hasSecret: true,
          oid: OID[name],
          tid: authority.tenantId,
          aud: issuer.audience,
          outcome: 'issued',
          accessToken: OBO_TOKEN[name],
        },
      ]);
    }
    expect(authority.tokenRequests.filter((r) => r.grantType !== OBO_GRANT)).toEqual([]);
  });

  it('printed no secret, inbound token or Defender token', () => {
    const output = gateway.output();
    for (const secret of [SECRET, ...Object.values(token), ...Object.values(OBO_TOKEN)]) {
      expect(output).not.toContain(secret);
    }
  });
});
