import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * Nothing a client sends reaches an internal error (the hardening issue's "no single caller can … reach an
 * internal error"), as properties over whole HTTP requests: arbitrary methods, paths, content types, Accept
 * headers and bodies; GraphQL requests whose parameters have the wrong types; variables nested thousands deep,
 * huge, or of the wrong type for each argument; and documents made by mutating valid ones or from random
 * tokens. Whatever arrives, the answer is never an HTTP 5xx and never INTERNAL_SERVER_ERROR, and every answer
 * other than a 200 is a JSON body whose `errors[].extensions.code` are the contract's.
 *
 * One gateway for the file, over the default tenant, with a budget no run can exhaust.
 */

/** The contract's codes (CONTRACT.md, "Error codes"), and Apollo's persisted-query protocol code. */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'QUERY_TOO_EXPENSIVE',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_BAD_RESPONSE',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

let gw: TestGateway;
let host: string;
let port: number;

beforeAll(async () => {
  const rateLimits = parseRateLimits('100000/60s');
  gw = await startTestGateway({ rateLimits, simulator: { rateLimits, latencyMs: 0 } });
  const url = new URL(gw.url);
  host = url.hostname;
  port = Number(url.port);
});
afterAll(() => gw?.close());

interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** One request exactly as given (any method, any content type, or none), on a connection of its own. */
function send(req: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...req.headers,
      ...(req.body !== undefined && { 'content-length': String(Buffer.byteLength(req.body)) }),
    };
    const outgoing = httpRequest({ host, port, method: req.method, path: req.path, headers, agent: false });
    outgoing.setTimeout(10_000, () => outgoing.destroy(new Error('no answer in 10 s')));
    outgoing.on('error', reject);
    outgoing.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    outgoing.end(req.body);
  });
}

/** The property itself: no 5xx, no INTERNAL_SERVER_ERROR, and every non-200 in the one error shape. */
function expectNoInternalError(req: RawRequest, answer: RawAnswer): void {
  const where = `${req.method} ${req.path.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, where).toBeGreaterThanOrEqual(200);
  expect(answer.status, where).toBeLessThan(500);
  expect(answer.text, where).not.toMatch(/INTERNAL_SERVER_ERROR|FST_ERR|"statusCode"|"stack"/);
  if (req.method === 'HEAD') return;
  // A browser's GET of /graphql gets the GraphiQL page.
  if (answer.status === 200 && answer.contentType.startsWith('text/html')) return;
  expect(answer.contentType, where).toMatch(/^application\/(?:graphql-response\+)?json/);
  const body = JSON.parse(answer.text) as {
    errors?: { message?: unknown; extensions?: { code?: unknown } }[];
  };
  if (answer.status !== 200) expect(body.errors?.length, where).toBeGreaterThan(0);
  for (const error of body.errors ?? []) {
    expect(typeof error.message, where).toBe('string');
    expect(CLIENT_CODES.has(String(error.extensions?.code)), where).toBe(true);
  }
}

/** JSON text nested `levels` deep (lists or objects), without JSON.stringify, which overflows near 5,000. */
function nested(levels: number, kind: 'list' | 'object'): string {
  return kind === 'list'
    ? `${'['.repeat(levels)}1${']'.repeat(levels)}`
    : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** A placeholder for raw JSON text inside a value that is then stringified: `"\u0000raw:<n>"`. */
const RAW = '\u0000raw:';
function withRaw(value: unknown, raws: readonly string[]): string {
  return JSON.stringify(value).replace(/"\\u0000raw:(\d+)"/g, (_, i: string) => raws[Number(i)]!);
}

/** Values of any JSON type, nested deep or not, huge or not: what a variable or a parameter may be given. */
function anyValue(raws: string[]): fc.Arbitrary<unknown> {
  const deep = fc
    .tuple(fc.integer({ min: 1, max: 6_000 }), fc.constantFrom<'list' | 'object'>('list', 'object'))
    .map(([levels, kind]) => {
      raws.push(nested(levels, kind));
      return `${RAW}${raws.length - 1}`;
    });
  return fc.oneof(
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
    { arbitrary: deep, weight: 2 },
    { arbitrary: fc.string({ minLength: 1_000, maxLength: 120_000 }), weight: 1 },
    { arbitrary: fc.constantFrom(null, true, 0, -1, 2 ** 31, 1e300, '', 'x', [], {}), weight: 2 },
  );
}

const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '$',
  '!',
  '=',
  '@',
  '|',
  '&',
  '...',
  ',',
  'query',
  'mutation',
  'subscription',
  'fragment',
  'on',
  'true',
  'null',
  '"x"',
  '"""',
  '1',
  '-1.5e3',
  '__typename',
  '__schema',
  'machine',
  'machines',
  'alerts',
  'alert',
  'user',
  'rateLimit',
  'id',
  'nodes',
  'edges',
  'node',
  'first',
  'filter',
  'ids',
  'lastSeen',
  'logonUsers',
  'M',
  '$id',
  'ID',
  'Int',
  'String',
  '@skip(if: true)',
  '#',
  'extend',
  'schema',
  'type',
  'directive',
  '\\u0000',
  '\u2028',
];

/** Valid documents over the tenant, each cheap, with the variables they declare. */
function validDocuments(): string[] {
  const t = gw.sim.tenant;
  const machine = t.machines[0]!;
  const alert = t.alerts.find((a) => a.relatedUser !== null)!;
  return [
    '{ __typename }',
    `{ machine(id: "${machine.id}") { id computerDnsName lastSeen alerts { id } } }`,
    'query($id: ID!) { machine(id: $id) { id osPlatform } }',
    `{ alert(id: "${alert.id}") { id machine { id lastSeen } user { accountName firstSeen } } }`,
    'query($n: Int, $after: String) { alerts(first: $n, after: $after) { nodes { id } pageInfo { endCursor } } }',
    'query($f: MachineFilter, $n: Int) { machines(filter: $f, first: $n) { edges { cursor node { id } } } }',
    'query($f: AlertFilter) { alerts(first: 3, filter: $f) { nodes { id machine { computerDnsName } } } }',
    `{ user(id: "${alert.relatedUser!.userName}") { id machines { id } } }`,
    'query($u: ID!, $b: Boolean!) { user(id: $u) { id alerts @skip(if: $b) { id } } }',
    '{ rateLimit { api limit remaining windowSeconds resetAt } }',
    'query Q { ...F } fragment F on Query { __typename }',
    'mutation { x }',
    'subscription { x }',
    '{ __schema { types { name } } }',
  ];
}

/** A valid document mutated: characters inserted, deleted or replaced at random places. */
function mutatedDocument(): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...TOKENS));
  return fc
    .tuple(fc.constantFrom(...validDocuments()), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([doc, edits]) =>
      edits.reduce((text, [at, op, token]) => {
        const i = at % (text.length + 1);
        if (op === 'insert') return `${text.slice(0, i)}${token}${text.slice(i)}`;
        if (op === 'delete') return `${text.slice(0, i)}${text.slice(i + 1 + (at % 5))}`;
        return `${text.slice(0, i)}${token}${text.slice(i + token.length)}`;
      }, doc),
    );
}

function documents(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...validDocuments()), weight: 3 },
    { arbitrary: mutatedDocument(), weight: 4 },
    { arbitrary: fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((t) => t.join(' ')), weight: 2 },
    { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
  );
}

/** Variables for the documents above: valid ones, and any value for each argument. */
function variables(raws: string[]): fc.Arbitrary<Record<string, unknown>> {
  const t = gw.sim.tenant;
  const valid = {
    id: t.machines[1]!.id,
    n: 2,
    after: null,
    f: { ids: [t.alerts[0]!.id] },
    u: t.users[0]!.accountName,
    b: false,
  };
  return fc
    .dictionary(fc.constantFrom('id', 'n', 'after', 'f', 'u', 'b', 'x'), anyValue(raws), { maxKeys: 4 })
    .chain((wrong) => fc.constantFrom({ ...valid, ...wrong }, wrong, valid));
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/graphql-response+json',
  'application/graphql',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json, text/plain',
  ';',
  'x',
];
const ACCEPTS = [
  'application/json',
  'application/graphql-response+json',
  'application/graphql-response+json, application/json;q=0.9',
  '*/*',
  'text/html',
  'text/event-stream',
  'multipart/mixed',
  'image/png',
  ';q=x',
];
const METHODS = [
  'GET',
  'POST',
  'POST',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'HEAD',
  'PROPFIND',
  'FOO',
];
const PATHS = [
  '/graphql',
  '/graphql',
  '/graphql',
  '/graphql/',
  '/GRAPHQL',
  '/nope',
  '/%zz',
  '/graphiql/assets/%E0%A4%A',
  '/graphiql/assets/missing-ABCDEFGH.js',
];

/** A whole request: method, path (with GraphQL parameters in its query string for a GET), headers, body. */
function requests(): fc.Arbitrary<RawRequest> {
  const raws: string[] = [];
  const parameter = fc.oneof(
    documents(),
    anyValue(raws).map((v) => withRaw(v, raws)),
    fc.string({ maxLength: 50 }),
  );
  const operation = fc.record(
    {
      query: fc.oneof({ arbitrary: documents(), weight: 4 }, { arbitrary: anyValue(raws), weight: 1 }),
      variables: fc.oneof(
        { arbitrary: variables(raws), weight: 3 },
        { arbitrary: anyValue(raws), weight: 1 },
      ),
      operationName: fc.oneof(fc.constantFrom('Q', 'Other', ''), anyValue(raws)),
      extensions: fc.oneof(
        fc.constant({ persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } }),
        fc.record({ persistedQuery: fc.record({ version: anyValue(raws), sha256Hash: anyValue(raws) }) }),
        anyValue(raws),
      ),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    { arbitrary: operation.map((o) => withRaw(o, raws)), weight: 6 },
    { arbitrary: fc.json({ maxDepth: 3 }), weight: 2 },
    { arbitrary: fc.array(operation, { maxLength: 3 }).map((o) => withRaw(o, raws)), weight: 1 },
    { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
    { arbitrary: fc.constantFrom('', '{', 'null', '{"__proto__":{"x":1}}', '\u0000'), weight: 1 },
  );
  const queryString = fc
    .dictionary(fc.constantFrom('query', 'variables', 'operationName', 'extensions'), parameter, {
      maxKeys: 4,
    })
    .map((params) =>
      Object.entries(params)
        // Brackets stay unescaped, as a URL allows, so deep lists fit under the 16 kB header limit.
        .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%5B/g, '[').replace(/%5D/g, ']')}`)
        .join('&'),
    );
  const header = (values: readonly string[]) =>
    fc.option(fc.oneof(fc.constantFrom(...values), fc.stringMatching(/^[\x20-\x7e]{0,30}$/)), {
      nil: undefined,
    });
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: fc.constantFrom(...PATHS),
      query: queryString,
      contentType: header(CONTENT_TYPES),
      accept: header(ACCEPTS),
      preflight: fc.boolean(),
      body,
    })
    .map(({ method, path, query, contentType, accept, preflight, body: text }) => ({
      method,
      // HEAD carries no parameters: an answer from the socket handler (a URL over the header limit) has a body,
      // which a HEAD's client cannot read.
      path: method === 'GET' ? `${path}?${query}` : path,
      headers: {
        ...(contentType !== undefined && { 'content-type': contentType }),
        ...(accept !== undefined && { accept }),
        ...(preflight && { 'apollo-require-preflight': 'true' }),
      },
      ...(method !== 'GET' && method !== 'HEAD' && { body: text }),
    }));
}

describe('no request reaches an internal error', () => {
  it('arbitrary requests: methods, paths, content types, Accept, bodies and GET parameters (400 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(requests(), async (req) => expectNoInternalError(req, await send(req))),
      { numRuns: 400 },
    );
  });

  it('well-formed GraphQL POSTs of mutated and random documents with wrong, deep and huge variables (300 runs)', async () => {
    const raws: string[] = [];
    await fc.assert(
      fc.asyncProperty(documents(), variables(raws), async (query, vars) => {
        const req = {
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          body: withRaw({ query, variables: vars }, raws),
        };
        expectNoInternalError(req, await send(req));
      }),
      { numRuns: 300 },
    );
  });

  it('answers the valid documents with data, so the properties above cannot pass by refusing everything', async () => {
    for (const query of validDocuments().filter(
      (q) => !q.includes('$') && !/mutation|subscription/.test(q),
    )) {
      const res = await gw.query(query);
      expect([query, res.status, res.errors]).toEqual([query, 200, undefined]);
    }
  });
});
