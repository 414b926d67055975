import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { TestAuthority } from '../helpers/authority.js';
import { startTestAuthority } from '../helpers/authority.js';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';

/**
 * The gateway as `npm start` runs it against a real Defender: a child process with the real `@azure/msal-node`
 * client, getting client-credentials tokens over HTTPS from a local authority whose CA it trusts only through
 * NODE_EXTRA_CA_CERTS, and sending them to a simulator that accepts nothing else.
 */

const SCOPE = 'https://api.securitycenter.microsoft.com/.default';
const CLIENT_ID = '7c1e9a42-5b3d-4f86-9e20-d4a8b61f3c57';
const SECRET = 'canary-secret-3e9b71c04d5a28f6';
const WRONG_SECRET = 'canary-wrong-secret-a06d4e2f91b7';
const ACCESS_TOKEN = 'canary-access-token-5f2c8e1a7b40d936';

interface GraphQLAnswer {
  readonly status: number;
  readonly text: string;
  readonly json: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
    extensions?: { upstream?: { calls: number; cacheHits: number } };
  };
}

let authority: TestAuthority;
let sim: Simulator;

beforeAll(async () => {
  authority = await startTestAuthority({ clients: [{ clientId: CLIENT_ID, secret: SECRET }] });
  sim = await startSimulator({ latencyMs: 0, tokens: [{ token: ACCESS_TOKEN }] });
});

afterAll(async () => {
  await Promise.all([authority?.close(), sim?.close()]);
});

beforeEach(() => sim.resetCalls());

/**
 * The gateway in its own process (NODE_EXTRA_CA_CERTS is read only at start), with MSAL credentials; it
 * trusts the authority's CA unless `trustAuthority` is false.
 */
async function startGateway(
  clientSecret: string,
  { trustAuthority = true, env = {} as Record<string, string> } = {},
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = await startProgram(
    'src/index.ts',
    {
      PORT: String(port),
      DEFENDER_API_URL: sim.url,
      AZURE_TENANT_ID: authority.tenantId,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_CLIENT_SECRET: clientSecret,
      AZURE_AUTHORITY_HOST: authority.url,
      AUTH_MODE: 'none',
      ...(trustAuthority ? { NODE_EXTRA_CA_CERTS: authority.caCertPath } : {}),
      ...env,
    },
    /GraphQL on http:/,
  );
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

async function graphql(url: string, query: string): Promise<GraphQLAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as GraphQLAnswer['json'] };
}

/** The token requests and tokens the authority sees while `body` runs. */
async function observeAuthority<T>(body: () => Promise<T>) {
  const requestsBefore = authority.tokenRequests.length;
  const issuedBefore = authority.tokensIssued.length;
  const result = await body();
  return {
    result,
    tokenRequests: authority.tokenRequests.slice(requestsBefore),
    tokensIssued: authority.tokensIssued.slice(issuedBefore),
  };
}

describe('the gateway with MSAL client credentials (child process, real MSAL, HTTPS authority)', () => {
  it('gets one token from the authority, reuses it from MSAL’s cache, and Defender sees it as the bearer', async () => {
    const [first, second] = sim.tenant.machines;
    if (!first || !second) throw new Error('expected a tenant with at least two machines');
    authority.issue(ACCESS_TOKEN);

    const { result, tokenRequests, tokensIssued } = await observeAuthority(async () => {
      const gateway = await startGateway(SECRET);
      try {
        const answers = [
          await graphql(gateway.url, `{ machine(id: "${first.id}") { id } }`),
          await graphql(gateway.url, `{ machine(id: "${second.id}") { id } }`),
        ];
        return { answers, output: gateway.child.output() };
      } finally {
        await gateway.child.stop();
      }
    });
    const [a, b] = result.answers as [GraphQLAnswer, GraphQLAnswer];

    expect(a.json).toMatchObject({
      data: { machine: { id: first.id } },
      extensions: { upstream: { calls: 1 } },
    });
    expect(b.json).toMatchObject({
      data: { machine: { id: second.id } },
      extensions: { upstream: { calls: 1 } },
    });
    expect(a.json.errors).toBeUndefined();
    expect(b.json.errors).toBeUndefined();
    expect(tokenRequests).toEqual([
      {
        clientId: CLIENT_ID,
        scope: SCOPE,
        grantType: 'client_credentials',
        hasSecret: true,
        hasAssertion: false,
      },
    ]);
    expect(tokensIssued).toEqual([ACCESS_TOKEN]);
    // Two calls, one per machine, each with the issued token (the simulator's caller is the token itself).
    expect(sim.calls.map((c) => ({ caller: c.caller, status: c.status }))).toEqual([
      { caller: ACCESS_TOKEN, status: 200 },
      { caller: ACCESS_TOKEN, status: 200 },
    ]);
    const requested = sim.calls.map((c) => decodeURIComponent(`${c.path}?${c.search}`));
    expect(requested[0]).toContain(first.id);
    expect(requested[1]).toContain(second.id);
    expect(result.output).not.toContain(SECRET);
    expect(result.output).not.toContain(ACCESS_TOKEN);
  });

  it('answers UNAUTHENTICATED when the authority refuses the secret, calls no Defender API and leaks nothing', async () => {
    const [machine] = sim.tenant.machines;
    if (!machine) throw new Error('expected a tenant with a machine');

    const { result, tokenRequests, tokensIssued } = await observeAuthority(async () => {
      const gateway = await startGateway(WRONG_SECRET);
      let answer: GraphQLAnswer;
      try {
        answer = await graphql(gateway.url, `{ machine(id: "${machine.id}") { id } }`);
      } finally {
        await gateway.child.stop();
      }
      // Read after exit, so the output holds everything the process ever printed.
      return { answer, output: gateway.child.output() };
    });
    const { answer, output } = result;

    expect(answer.status).toBe(200);
    expect(answer.json.data).toEqual({ machine: null });
    expect(answer.json.errors).toEqual([
      {
        message: 'Defender credentials were refused by the authority.',
        path: ['machine'],
        locations: [expect.any(Object)],
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ]);
    // Refused credentials are not retried: one request, which quoted the wrong secret back in its description.
    expect(tokenRequests).toEqual([expect.objectContaining({ clientId: CLIENT_ID, hasSecret: true })]);
    expect(tokensIssued).toEqual([]);
    expect(sim.calls).toEqual([]);
    for (const secret of [WRONG_SECRET, SECRET, ACCESS_TOKEN, ...authority.tokensIssued]) {
      expect(output).not.toContain(secret);
      expect(answer.text).not.toContain(secret);
    }
  });

  it('answers UPSTREAM_UNAVAILABLE when the authority cannot be reached safely, and sends it no secret', async () => {
    const [machine] = sim.tenant.machines;
    if (!machine) throw new Error('expected a tenant with a machine');

    const { result, tokenRequests } = await observeAuthority(async () => {
      // Without the CA the TLS handshake fails: to MSAL a network error, worth another try later.
      const gateway = await startGateway(SECRET, { trustAuthority: false, env: { DEFENDER_RETRIES: '1' } });
      let answer: GraphQLAnswer;
      try {
        answer = await graphql(gateway.url, `{ machine(id: "${machine.id}") { id } }`);
      } finally {
        await gateway.child.stop();
      }
      return { answer, output: gateway.child.output() };
    });
    const { answer, output } = result;

    expect(answer.json.data).toEqual({ machine: null });
    expect(answer.json.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'UPSTREAM_UNAVAILABLE' } }),
    ]);
    expect(tokenRequests).toEqual([]);
    expect(sim.calls).toEqual([]);
    expect(output).not.toContain(SECRET);
    expect(answer.text).not.toContain(SECRET);
  });

  it('asks the authority a second token, for GRAPH_SCOPE, and sends it with advanced hunting', async () => {
    authority.issue(ACCESS_TOKEN);
    authority.issue(ACCESS_TOKEN);
    const graphScope = 'https://graph.example.test/.default';
    const { result, tokenRequests } = await observeAuthority(async () => {
      const gateway = await startGateway(SECRET, {
        env: { GRAPH_API_URL: sim.url, GRAPH_SCOPE: graphScope, DEFENDER_PLANS: 'auto' },
      });
      try {
        return await graphql(gateway.url, '{ alerts(first: 10) { nodes { user { machines { id } } } } }');
      } finally {
        await gateway.child.stop();
      }
    });
    expect(result.json.errors).toBeUndefined();
    expect(tokenRequests.map((r) => r.scope).sort()).toEqual([SCOPE, graphScope].sort());
    const hunting = sim.calls.filter((c) => c.api === 'hunting');
    expect(hunting).toHaveLength(1);
    expect(hunting[0]).toMatchObject({ caller: ACCESS_TOKEN, status: 200 });
  });
});
