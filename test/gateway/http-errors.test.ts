import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

/**
 * Every refusal, whoever makes it (Node's HTTP parser, Fastify, Apollo, the gateway), reaches the client in one
 * shape: a GraphQL-over-HTTP error body with a contract code, the HTTP status that says what went wrong, a
 * JSON content type, and nothing of the framework's own (no `FST_ERR_*`, no `statusCode`, no stack). Nothing a
 * client sends produces INTERNAL_SERVER_ERROR or an HTTP 500, and no refused request costs an upstream call.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
beforeEach(() => gw.sim.resetCalls());
afterAll(() => gw.close());

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown };
}

async function send(pathAndQuery: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}${pathAndQuery}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Answer['body'] };
}

const post = (body: string, contentType: string | null = 'application/json') =>
  send('/graphql', {
    method: 'POST',
    // A Uint8Array body, unlike a string, makes fetch send no content type of its own.
    ...(contentType === null
      ? { body: new TextEncoder().encode(body) }
      : { body, headers: { 'content-type': contentType } }),
  });

const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  send(`/graphql?${new URLSearchParams(params).toString()}`, {
    headers: { 'apollo-require-preflight': 'true', ...headers },
  });

/** Asserts the one error shape, with this status and code, and that no upstream call was made. */
function expectRefusal(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, codes: answer.body.errors?.map((e) => e.extensions?.['code']) }).toEqual({
    status,
    codes: [code],
  });
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  for (const error of answer.body.errors!) {
    expect(typeof error.message).toBe('string');
    expect(error.message).not.toBe('');
  }
  expect(answer.body.data ?? null).toBeNull();
  expect(answer.text).not.toMatch(/FST_ERR|"statusCode"|"stack"|stacktrace|\bat \S+ \(/);
  expect(gw.sim.calls).toEqual([]);
}

const QUERY = '{ __typename }';

describe('refusals of the HTTP layer: one error shape, a contract code, the right status', () => {
  it('a body over 100 kB: 413 GRAPHQL_VALIDATION_FAILED (a size limit)', async () => {
    expectRefusal(
      await post(JSON.stringify({ query: `${QUERY} #${'x'.repeat(100_001)}` })),
      413,
      'GRAPHQL_VALIDATION_FAILED',
    );
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['no content type', null],
  ])('a POST body that is not JSON (%s): 415 BAD_USER_INPUT', async (_, type) => {
    expectRefusal(await post(JSON.stringify({ query: QUERY }), type), 415, 'BAD_USER_INPUT');
  });

  it.each([
    ['invalid JSON', '{"query":'],
    ['an empty body', ''],
    ['a __proto__ key', '{"query":"{ __typename }","__proto__":{"polluted":true}}'],
  ])('%s: 400 BAD_USER_INPUT', async (_, body) => {
    expectRefusal(await post(body), 400, 'BAD_USER_INPUT');
  });

  it('another method on /graphql: 405 BAD_USER_INPUT with Allow', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const answer = await send('/graphql', {
        method,
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expectRefusal(answer, 405, 'BAD_USER_INPUT');
      expect(answer.headers.get('allow')?.split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']));
    }
  });

  it('an unknown path, or a GraphiQL asset that does not exist: 404 BAD_USER_INPUT', async () => {
    expectRefusal(await send('/nope'), 404, 'BAD_USER_INPUT');
    expectRefusal(await send('/graphql/x', { method: 'POST' }), 404, 'BAD_USER_INPUT');
    expectRefusal(await send('/graphiql/assets/missing-ABCDEFGH.js'), 404, 'BAD_USER_INPUT');
  });

  it('a URL Fastify cannot decode: 400 BAD_USER_INPUT', async () => {
    expectRefusal(await send('/graphiql/assets/%E0%A4%A'), 400, 'BAD_USER_INPUT');
  });

  it('a URL over the 16 kB header limit: 431 GRAPHQL_VALIDATION_FAILED, from the socket handler', async () => {
    expectRefusal(await get({ query: `${QUERY} #${'x'.repeat(20_000)}` }), 431, 'GRAPHQL_VALIDATION_FAILED');
  });
});

describe("Apollo's refusals of a malformed request carry contract codes", () => {
  it.each([
    ['no query', '{}'],
    ['a query that is not a string', '{"query":5}'],
    ['variables that are a string', '{"query":"{ __typename }","variables":"{}"}'],
    ['an operationName that is not a string', '{"query":"{ __typename }","operationName":5}'],
    ['extensions that are a list', '{"query":"{ __typename }","extensions":[]}'],
    ['a body that is null', 'null'],
    ['a batch (batching is off)', '[{"query":"{ __typename }"}]'],
    ['an unknown operationName', '{"query":"{ __typename }","operationName":"Other"}'],
    ['two operations and no operationName', '{"query":"query A { __typename } query B { __typename }"}'],
  ])('%s: 400 BAD_USER_INPUT', async (_, body) => {
    expectRefusal(await post(body), 400, 'BAD_USER_INPUT');
  });

  it('a syntax error, and a document over the token limit: 400 GRAPHQL_VALIDATION_FAILED', async () => {
    expectRefusal(await post(JSON.stringify({ query: '{ machine(' })), 400, 'GRAPHQL_VALIDATION_FAILED');
    const long = `{ ${'__typename '.repeat(1_100)} }`;
    expectRefusal(await post(JSON.stringify({ query: long })), 400, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('a GET without a preflight header (CSRF prevention): 400 BAD_USER_INPUT', async () => {
    expectRefusal(await send(`/graphql?query=${encodeURIComponent(QUERY)}`), 400, 'BAD_USER_INPUT');
  });

  it('an Accept the gateway cannot answer: 406 BAD_USER_INPUT', async () => {
    const answer = await send('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'image/png' },
      body: JSON.stringify({ query: QUERY }),
    });
    expectRefusal(answer, 406, 'BAD_USER_INPUT');
  });
});

/** `levels` nested lists around a number, as JSON text (JSON.stringify itself overflows near 5,000 levels). */
const nestedLists = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describe('input that used to reach an internal error', () => {
  it('variables nested 5,000 deep in a POST body: 400 BAD_USER_INPUT (was HTTP 500)', async () => {
    for (const nested of [nestedObjects(5_000), nestedLists(5_000)]) {
      expectRefusal(
        await post(`{"query":"{ __typename }","variables":{"x":${nested}}}`),
        400,
        'BAD_USER_INPUT',
      );
    }
    const used = `{"query":"query($f: MachineFilter) { machines(filter: $f) { nodes { id } } }","variables":{"f":${nestedObjects(5_000)}}}`;
    expectRefusal(await post(used), 400, 'BAD_USER_INPUT');
  });

  it('extensions nested 5,000 deep: 400 BAD_USER_INPUT', async () => {
    expectRefusal(
      await post(`{"query":"{ __typename }","extensions":{"x":${nestedObjects(5_000)}}}`),
      400,
      'BAD_USER_INPUT',
    );
  });

  it('variables nested 5,000 deep in a GET query string: 400 BAD_USER_INPUT', async () => {
    // Brackets left unescaped (a URL allows them in a query string) keep the URL under the 16 kB header limit.
    const variables = `${encodeURIComponent('{"x":')}${nestedLists(5_000)}${encodeURIComponent('}')}`;
    const answer = await send(`/graphql?query=${encodeURIComponent(QUERY)}&variables=${variables}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expectRefusal(answer, 400, 'BAD_USER_INPUT');
  });

  it('accepts variables nested 32 deep, the bound', async () => {
    const answer = await post(`{"query":"{ __typename }","variables":{"x":${nestedLists(31)}}}`);
    expect([answer.status, answer.body.errors]).toEqual([200, undefined]);
    const over = await post(`{"query":"{ __typename }","variables":{"x":${nestedLists(32)}}}`);
    expectRefusal(over, 400, 'BAD_USER_INPUT');
  });

  // Both root types exist (Mutation.updateAlert, Subscription.alertChanges): no "has no … operations" case remains.
  it('`mutation { x }`: 400 GRAPHQL_VALIDATION_FAILED, and a mutation is never run over GET', async () => {
    expectRefusal(await post(JSON.stringify({ query: 'mutation { x }' })), 400, 'GRAPHQL_VALIDATION_FAILED');
    const get405 = await get({ query: 'mutation { updateAlert(id: "x", input: {}) { id } }' });
    expect(get405.status).toBe(405);
  });

  it('a subscription as a plain request, POST or GET: 400 GRAPHQL_VALIDATION_FAILED, it needs a stream', async () => {
    const query = 'subscription { alertChanges { kind } }';
    const answer = await post(JSON.stringify({ query }));
    expectRefusal(answer, 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(answer.body.errors![0]!.message).toMatch(/WebSocket .* or Server-Sent Events/);
    expectRefusal(await get({ query }), 400, 'GRAPHQL_VALIDATION_FAILED');
  });
});

describe('automatic persisted queries: the protocol code where the protocol has one, BAD_USER_INPUT otherwise', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const persisted = (sha256Hash: unknown, version: unknown = 1) => ({
    persistedQuery: { version, sha256Hash },
  });

  it('a hash that does not match its query: 400 BAD_USER_INPUT', async () => {
    const body = JSON.stringify({ query: QUERY, extensions: persisted('0'.repeat(64)) });
    expectRefusal(await post(body), 400, 'BAD_USER_INPUT');
  });

  it('an unknown version, or a persistedQuery that is not an object: 400 BAD_USER_INPUT', async () => {
    const body = JSON.stringify({ query: QUERY, extensions: persisted(sha256(QUERY), 2) });
    expectRefusal(await post(body), 400, 'BAD_USER_INPUT');
    const notObject = JSON.stringify({ query: QUERY, extensions: { persistedQuery: 5 } });
    expectRefusal(await post(notObject), 400, 'BAD_USER_INPUT');
  });

  it('a hash without its query: PERSISTED_QUERY_NOT_FOUND until the query is sent with it, then the answer', async () => {
    const query = '{ rateLimit { api } }';
    const hashOnly = JSON.stringify({ extensions: persisted(sha256(query)) });
    const unknown = await post(hashOnly);
    expect(unknown.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(unknown.text).not.toMatch(/INTERNAL_SERVER_ERROR/);
    const registered = await post(JSON.stringify({ query, extensions: persisted(sha256(query)) }));
    expect([registered.status, registered.body.errors]).toEqual([200, undefined]);
    const known = await post(hashOnly);
    expect([known.status, known.body.errors, known.body.data]).toEqual([
      200,
      undefined,
      registered.body.data,
    ]);
  });
});

describe('an alert whose machine Defender no longer returns', () => {
  /** Each test retires machines of its own, on alerts no earlier test fetched (so nothing is cached). */
  let local: TestGateway;
  beforeAll(async () => {
    local = await startTestGateway();
  });
  afterAll(() => local.close());

  it('has machine: null when the query needs the record (404 from machines/{id}), not an error', async () => {
    const alert = local.sim.tenant.alerts[0]!;
    local.sim.retireMachine(alert.machineId);
    local.sim.resetCalls();
    const res = await local.query(`{ alert(id: "${alert.id}") { id machine { id lastSeen healthStatus } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ alert: { id: alert.id, machine: null } });
    expect(callKeys(local.sim.calls)).toEqual([
      `alerts/{id} ${alert.id}`,
      `machines/{id} ${alert.machineId}`,
    ]);
    expect(local.sim.calls.map((c) => c.status)).toEqual([200, 404]);
  });

  it('still answers the free fields from the alert, with no call for the machine', async () => {
    const alert = local.sim.tenant.alerts[1]!;
    local.sim.retireMachine(alert.machineId);
    local.sim.resetCalls();
    const res = await local.query(
      `{ alert(id: "${alert.id}") { machine { id computerDnsName rbacGroupName __typename } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      alert: {
        machine: {
          id: alert.machineId,
          computerDnsName: alert.computerDnsName,
          rbacGroupName: alert.rbacGroupName,
          __typename: 'Machine',
        },
      },
    });
    expect(callKeys(local.sim.calls)).toEqual([`alerts/{id} ${alert.id}`]);
  });

  it('is null when missing from the `id in (…)` batch, while the other alerts keep their machines', async () => {
    const t = local.sim.tenant;
    const picked = [] as (typeof t.alerts)[number][];
    const earlier = new Set(t.alerts.slice(0, 2).map((a) => a.machineId));
    for (const a of t.alerts.slice(10).filter((x) => !earlier.has(x.machineId))) {
      if (picked.length < 3 && !picked.some((p) => p.machineId === a.machineId)) picked.push(a);
    }
    const gone = picked[1]!;
    local.sim.retireMachine(gone.machineId);
    local.sim.resetCalls();
    const ids = picked.map((a) => `"${a.id}"`).join(', ');
    const res = await local.query<{
      alerts: { nodes: { id: string; machine: { lastSeen: string } | null }[] };
    }>(`{ alerts(filter: { ids: [${ids}] }) { nodes { id machine { lastSeen } } } }`);
    expect(res.errors).toBeUndefined();
    const byId = new Map(res.data!.alerts.nodes.map((n) => [n.id, n.machine]));
    expect(byId.get(gone.id)).toBeNull();
    for (const a of picked.filter((p) => p !== gone)) {
      expect(byId.get(a.id)).toEqual({ lastSeen: t.machineById(a.machineId)!.lastSeen });
    }
    expect(local.sim.calls.map((c) => c.api)).toEqual(['alerts', 'machines']);
    const filter = local.sim.calls[1]!.query['$filter']!;
    for (const a of picked) expect(filter).toContain(a.machineId);
  });

  it("has user: null when Defender answers 404 for the alert's user record", async () => {
    const alert = local.sim.tenant.alerts.slice(100).find((a) => a.relatedUser !== null)!;
    local.sim.injectFault({ api: 'alerts/{id}/user', fault: { kind: 'status', status: 404 }, times: 1 });
    local.sim.resetCalls();
    const res = await local.query(`{ alert(id: "${alert.id}") { user { id firstSeen } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ alert: { user: null } });
    expect(callKeys(local.sim.calls)).toEqual([`alerts/{id} ${alert.id}`, `alerts/{id}/user ${alert.id}`]);
  });
});

describe('budget refusals', () => {
  let local: TestGateway | undefined;
  afterEach(() => local?.close());

  it('an operation the budget cannot serve by its deadline: 429 with Retry-After, the body unchanged, no call', async () => {
    local = await startTestGateway({
      rateLimits: parseRateLimits('2/60s'),
      server: { requestDeadlineMs: 1_000 },
    });
    const ids = local.sim.tenant.machines.slice(0, 3).map((m) => m.id);
    await local.query(`{ machine(id: "${ids[0]}") { id } }`);
    await local.query(`{ machine(id: "${ids[1]}") { id } }`);
    local.sim.resetCalls();
    const res = await fetch(`${local.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ machine(id: "${ids[2]}") { id } }` }),
    });
    const body = (await res.json()) as Answer['body'];
    expect(res.status).toBe(429);
    expect(body.data).toBeUndefined();
    expect(body.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);
    const retryAfterSeconds = body.errors![0]!.extensions!['retryAfterSeconds'] as number;
    expect(Number.isInteger(retryAfterSeconds)).toBe(true);
    expect(res.headers.get('retry-after')).toBe(String(retryAfterSeconds));
    expect(local.sim.calls).toEqual([]);
  });

  it('QUERY_TOO_EXPENSIVE, which waiting cannot cure, stays a 400 without Retry-After', async () => {
    local = await startTestGateway({ server: { maxOperationCalls: 1 } });
    const res = await fetch(`${local.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ machines { nodes { id } } alerts { nodes { id } } }' }),
    });
    const body = (await res.json()) as Answer['body'];
    expect(res.status).toBe(400);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(body.errors?.map((e) => e.extensions?.['code'])).toEqual(['QUERY_TOO_EXPENSIVE']);
    expect(local.sim.calls).toEqual([]);
  });
});
