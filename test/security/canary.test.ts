import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamCache } from '../../src/cache/entity-cache.js';
import { DefenderClient } from '../../src/defender/client.js';
import { LocalRateLimiter } from '../../src/rate-limit/limiter.js';
import type { TokenProvider } from '../../src/auth/tokens.js';
import { StaticTokenProvider, TokenAcquisitionError } from '../../src/auth/tokens.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { GatewayServer } from '../../src/server.js';
import { createServer as createGateway } from '../../src/server.js';
import type { Fault } from '../../src/simulator/faults.js';
import type { Simulator } from '../../src/simulator/server.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { TrapServer } from '../helpers/canary.js';
import {
  CANARY_SECRET,
  CANARY_TOKEN,
  assertNoCanary,
  findCanaries,
  startTrapServer,
} from '../helpers/canary.js';
import type { Child } from '../helpers/process.js';
import { freePort, startChild } from '../helpers/process.js';

/**
 * Nothing leaks (reliability notes §8, items 7, 11 and 12): the gateway holds a canary bearer token, upstreams
 * answer every error path with canary text, echoes of that token and their own address, and no response, no
 * header and nothing `npm start` prints ever contains a canary, an upstream address or a stack.
 *
 * CANARY_TOKEN is the gateway's Defender token; CANARY_SECRET stands for what only an upstream or an authority
 * says (an error message, a client secret it quotes). Neither is ever the caller's own input.
 */

const RATE_LIMITS = parseRateLimits('100000/60s');
/** How the simulator logs calls made with the canary token (its only token), so its call log never holds it. */
const CALLER = 'canary-gateway';

/** What a client of the gateway sees of one answer: status, headers and body, as one searchable text. */
interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: unknown } }[] };
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.text();
  let json: Answer['json'] = {};
  try {
    json = JSON.parse(body) as Answer['json'];
  } catch {
    // Not JSON (a 413, a 404): the text is still searched.
  }
  return { status: res.status, text: `${res.status}\n${JSON.stringify([...res.headers])}\n${body}`, json };
}

const codesOf = (answer: Answer) => answer.json.errors?.map((e) => e.extensions?.code) ?? [];

/** A gateway built as `test/helpers/gateway.ts` builds one, with its own token provider and upstream. */
interface CanaryGateway {
  readonly url: string;
  /** Everything the gateway's cache holds, keys and values, as text. */
  cacheText(): string;
  close(): Promise<void>;
}

async function startCanaryGateway(baseUrl: string, tokens: TokenProvider): Promise<CanaryGateway> {
  const store = new Map<string, unknown>();
  const limiter = new LocalRateLimiter(RATE_LIMITS);
  const client = new DefenderClient({
    baseUrl: new URL(baseUrl),
    tokens,
    limiter,
    cache: new UpstreamCache(new Keyv({ store })),
    ttlMs: () => 60_000,
    timeoutMs: 300,
    maxRetries: 1,
    maxThrottleRetries: 1,
    backoffBaseMs: 10,
    backoffCapMs: 20,
  });
  const server: GatewayServer = await createGateway({
    client,
    limiter,
    requestDeadlineMs: 5_000,
    machineBatchSize: 50,
    maxPageSize: 500,
    maxOperationCalls: 100,
  });
  const url = await server.listen(0, '127.0.0.1');
  return {
    url,
    cacheText: () => JSON.stringify([...store]),
    async close() {
      limiter.close();
      await server.close();
    },
  };
}

/**
 * A hostile Defender: for `GET /api/machines?$filter=computerDnsName eq '<scenario>'` it answers that scenario's error, quoting
 * CANARY_SECRET, the Authorization header it received and its own address wherever it can (body, headers,
 * redirect target). Anything else is a 404.
 */
interface HostileUpstream {
  readonly url: string;
  /** The Authorization header of every request, in order. */
  readonly authorizations: (string | undefined)[];
  close(): Promise<void>;
}

async function startHostileUpstream(
  trap: TrapServer,
  machine: Record<string, unknown>,
): Promise<HostileUpstream> {
  const authorizations: (string | undefined)[] = [];
  let url = '';
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'x-upstream': url, ...headers }).end(text);
  };
  const scenarios: Record<string, (req: IncomingMessage, res: ServerResponse, said: string) => void> = {
    'leak-500': (_, res, said) =>
      json(res, 500, { error: { code: 'InternalServerError', message: said } }, { 'x-debug': said }),
    'leak-400': (_, res, said) =>
      json(res, 400, { error: { code: 'ODataError', message: said, target: said } }),
    'leak-401': (_, res, said) =>
      json(
        res,
        401,
        { error: { code: 'Unauthorized', message: said } },
        {
          'www-authenticate': `Bearer error="invalid_token", error_description="${said}"`,
        },
      ),
    'leak-403': (_, res, said) => json(res, 403, { error: { code: 'Forbidden', message: said } }),
    'leak-404': (_, res, said) => json(res, 404, { error: { code: 'ResourceNotFound', message: said } }),
    'leak-429': (_, res, said) =>
      json(res, 429, { error: { code: '429', message: said } }, { 'retry-after': '0' }),
    'leak-302': (_, res, said) =>
      res
        .writeHead(302, { location: `${trap.url}/steal?${new URLSearchParams({ said })}`, 'x-debug': said })
        .end(),
    'leak-418': (_, res, said) => json(res, 418, { error: { code: 'Teapot', message: said } }),
    'leak-html': (_, res, said) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><pre>${said}</pre></body></html>`),
    'leak-truncated': (_, res, said) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write(`{"id":"${said}`);
      setTimeout(() => res.destroy(), 20);
    },
    'leak-enum': (_, res) =>
      json(res, 200, { value: [{ ...machine, computerDnsName: 'leak-enum', healthStatus: CANARY_SECRET }] }),
  };
  const server: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const said = `${CANARY_SECRET}; you sent "${req.headers.authorization}" to ${url}${req.url}`;
    // A scenario is a computer name: the gateway looks names up with `$filter=computerDnsName eq '<name>'`.
    const filter = new URL(req.url ?? '/', 'http://upstream').searchParams.get('$filter') ?? '';
    const scenario = /^computerDnsName eq '([^']+)'$/.exec(filter)?.[1];
    const answer = scenario === undefined ? undefined : scenarios[scenario];
    if (answer) answer(req, res, said);
    else json(res, 404, { error: { code: 'ResourceNotFound', message: said } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let sim: Simulator;
let trap: TrapServer;
let hostile: HostileUpstream;

/** Text that no client may ever see: where the upstreams are, and the marks of a stack trace. */
function expectNothingLeaked(answer: Answer, where: string): void {
  assertNoCanary(answer.text, where);
  const places = [sim.url, new URL(sim.url).host, hostile.url, new URL(hostile.url).host, trap.host];
  expect(
    places.filter((place) => answer.text.includes(place)),
    `${where} names an upstream`,
  ).toEqual([]);
  expect(answer.text, `${where} shows a stack`).not.toMatch(
    /stack|\bat [\w$.<>]+ \(|node:internal|\.ts:\d+/i,
  );
}

beforeAll(async () => {
  trap = await startTrapServer();
  sim = await startSimulator({
    latencyMs: 0,
    rateLimits: RATE_LIMITS,
    tokens: [{ token: CANARY_TOKEN, caller: CALLER }],
  });
  hostile = await startHostileUpstream(trap, sim.tenant.machines[0]! as unknown as Record<string, unknown>);
});

afterAll(async () => {
  await Promise.all([sim?.close(), trap?.close(), hostile?.close()]);
});

const MACHINE = 'query($id: ID!) { machine(id: $id) { id computerDnsName healthStatus } }';

/** One error path: what the upstream does, and the code the client must see (null: an answer, no error). */
interface ErrorPath {
  readonly name: string;
  /** A simulator fault; a function when it needs what `beforeAll` started. */
  readonly fault?: Fault | (() => Fault);
  readonly code: string | null;
}

const SIMULATOR_PATHS: readonly ErrorPath[] = [
  { name: 'a 500', fault: { kind: 'status', status: 500 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'a 503', fault: { kind: 'status', status: 503 }, code: 'UPSTREAM_UNAVAILABLE' },
  {
    name: 'a 200 whose body is an error quoting a secret',
    fault: { kind: 'body', body: { error: { code: 'X', message: CANARY_SECRET } } },
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  { name: 'malformed JSON', fault: { kind: 'malformed' }, code: 'UPSTREAM_BAD_RESPONSE' },
  { name: 'a hang past the timeout', fault: { kind: 'hang' }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'a reset connection', fault: { kind: 'reset' }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'a 429 past the retries', fault: { kind: 'throttle', retryAfterSeconds: 0 }, code: 'RATE_LIMITED' },
  {
    name: 'a redirect to a URL holding both canaries',
    fault: () => ({ kind: 'redirect', location: `${trap.url}/steal?t=${CANARY_TOKEN}&s=${CANARY_SECRET}` }),
    code: 'UPSTREAM_BAD_RESPONSE',
  },
  {
    name: 'an enum value the schema does not know (a canary)',
    fault: () => ({ kind: 'body', body: { ...sim.tenant.machines[0]!, healthStatus: CANARY_SECRET } }),
    code: 'INTERNAL_SERVER_ERROR',
  },
];

const HOSTILE_PATHS: readonly ErrorPath[] = [
  { name: 'leak-500', code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'leak-400', code: 'BAD_USER_INPUT' },
  { name: 'leak-401', code: 'UNAUTHENTICATED' },
  { name: 'leak-403', code: 'FORBIDDEN' },
  { name: 'leak-404', code: null },
  { name: 'leak-429', code: 'RATE_LIMITED' },
  { name: 'leak-302', code: 'UPSTREAM_BAD_RESPONSE' },
  { name: 'leak-418', code: 'UPSTREAM_BAD_RESPONSE' },
  { name: 'leak-html', code: 'UPSTREAM_BAD_RESPONSE' },
  { name: 'leak-truncated', code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'leak-enum', code: 'INTERNAL_SERVER_ERROR' },
];

function faultOf(path: ErrorPath): Fault {
  return typeof path.fault === 'function' ? path.fault() : path.fault!;
}

/**
 * Requests that fail in the gateway itself, before any upstream call: malformed ids, documents and HTTP, none
 * carrying a canary (the caller's own input may be echoed back to it; a secret may not).
 */
const REQUEST_ERRORS: readonly {
  name: string;
  body: string;
  /** Refused before any upstream call (the call cap may also stop an operation while it runs). */
  upstream?: 'may-call';
}[] = [
  {
    name: 'a malformed machine id',
    body: JSON.stringify({ query: '{ machine(id: "../alerts?x") { id } }' }),
  },
  { name: 'a syntax error', body: JSON.stringify({ query: '{ machine(id: ' }) },
  { name: 'an unknown field', body: JSON.stringify({ query: '{ machin(id: "a") { id } }' }) },
  { name: 'a bad variable', body: JSON.stringify({ query: MACHINE, variables: { id: 42.5 } }) },
  { name: 'a batched body', body: JSON.stringify([{ query: '{ rateLimit { api } }' }]) },
  { name: 'a body that is not JSON', body: '{"query": "{ rateLimit { api } }"' },
  {
    name: 'an oversized body',
    body: JSON.stringify({ query: `# ${'x'.repeat(150_000)}\n{ rateLimit { api } }` }),
  },
  {
    name: 'an operation over the call cap',
    body: JSON.stringify({ query: '{ machines(first: 500) { nodes { alerts { id } } } }' }),
    upstream: 'may-call',
  },
];

describe('an in-process gateway holding the canary token', () => {
  let viaSimulator: CanaryGateway;
  let viaHostile: CanaryGateway;

  beforeAll(async () => {
    [viaSimulator, viaHostile] = await Promise.all([
      startCanaryGateway(sim.url, new StaticTokenProvider(CANARY_TOKEN)),
      startCanaryGateway(hostile.url, new StaticTokenProvider(CANARY_TOKEN)),
    ]);
  });
  afterAll(async () => {
    await Promise.all([viaSimulator?.close(), viaHostile?.close()]);
  });

  it.each(SIMULATOR_PATHS.map((path, i) => [path.name, path, i] as const))(
    'masks %s from the simulator',
    async (_, path, i) => {
      sim.resetCalls();
      sim.injectFault({ api: 'machines/{id}', fault: faultOf(path) });
      try {
        const answer = await post(viaSimulator.url, MACHINE, { id: sim.tenant.machines[i + 1]!.id });
        expect(codesOf(answer)).toEqual(path.code === null ? [] : [path.code]);
        expectNothingLeaked(answer, `the answer to ${path.name}`);
        // The canary token really went upstream: the simulator accepts nothing else.
        expect(sim.calls.length).toBeGreaterThan(0);
        expect(sim.calls.every((c) => c.caller === CALLER)).toBe(true);
      } finally {
        sim.clearFaults();
      }
    },
  );

  it.each(HOSTILE_PATHS.map((path) => [path.name, path] as const))(
    'masks %s from a hostile upstream that quotes the token back',
    async (_, path) => {
      const before = hostile.authorizations.length;
      const answer = await post(viaHostile.url, MACHINE, { id: path.name });
      expect(codesOf(answer)).toEqual(path.code === null ? [] : [path.code]);
      expectNothingLeaked(answer, `the answer to ${path.name}`);
      const sent = hostile.authorizations.slice(before);
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((a) => a === `Bearer ${CANARY_TOKEN}`)).toBe(true);
    },
  );

  it.each(REQUEST_ERRORS.map((r) => [r.name, r] as const))(
    'answers %s without an upstream address or a stack',
    async (_, request) => {
      sim.resetCalls();
      const res = await fetch(`${viaSimulator.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request.body,
      });
      const body = await res.text();
      expect(body).toMatch(/error/i);
      expectNothingLeaked(
        { status: res.status, text: `${JSON.stringify([...res.headers])}\n${body}`, json: {} },
        `the answer to ${request.name}`,
      );
      if (request.upstream !== 'may-call') expect(sim.calls.map((c) => c.api)).toEqual([]);
    },
  );

  it('follows no redirect: the trap host never receives a request, let alone the token', () => {
    expect(trap.requests).toEqual([]);
  });

  it('keeps the token out of its cache, keys and values', () => {
    for (const gateway of [viaSimulator, viaHostile])
      expect(findCanaries(gateway.cacheText())).not.toContain('CANARY_TOKEN');
    expect(viaSimulator.cacheText().length).toBeGreaterThan(2);
  });

  it('does not keep an answer it refused as not Defender-shaped: upstream error text is not served again', async () => {
    // Checklist item 21: an answer that is not the documented shape is UPSTREAM_BAD_RESPONSE and never cached.
    const id = sim.tenant.machines[987]!.id; // one no other test here has cached
    const body = { error: { code: 'X', message: CANARY_SECRET } };
    sim.injectFault({ api: 'machines/{id}', fault: { kind: 'body', body }, times: 1 });
    try {
      const refused = await post(viaSimulator.url, MACHINE, { id });
      expect(codesOf(refused)).toEqual(['UPSTREAM_BAD_RESPONSE']);
      sim.resetCalls();
      const again = await post(viaSimulator.url, MACHINE, { id });
      expect([codesOf(again), sim.calls.length]).toEqual([[], 1]);
    } finally {
      sim.clearFaults();
    }
  });
});

describe('an in-process gateway whose token provider fails with a canary in the error', () => {
  const providers: readonly { name: string; code: string; tokens: TokenProvider }[] = [
    {
      name: 'the authority refuses the credentials, quoting the secret',
      code: 'UNAUTHENTICATED',
      tokens: failing(
        () =>
          new TokenAcquisitionError(
            `AADSTS7000215: Invalid client secret provided: '${CANARY_SECRET}'.`,
            'invalid_client',
            false,
            '7000215',
          ),
      ),
    },
    {
      name: 'the authority cannot be reached, the error quoting the token',
      code: 'UPSTREAM_UNAVAILABLE',
      tokens: failing(
        () => new TokenAcquisitionError(`network_error after ${CANARY_TOKEN}`, 'network_error', true),
      ),
    },
    {
      name: 'the provider crashes with a plain error quoting the token',
      code: 'INTERNAL_SERVER_ERROR',
      tokens: failing(() => new Error(`token cache corrupt near ${CANARY_TOKEN} / ${CANARY_SECRET}`)),
    },
  ];

  it.each(providers.map((p) => [p.name, p] as const))('masks the failure when %s', async (_, provider) => {
    const gateway = await startCanaryGateway(sim.url, provider.tokens);
    try {
      sim.resetCalls();
      const answer = await post(gateway.url, MACHINE, { id: sim.tenant.machines[0]!.id });
      expect(codesOf(answer)).toEqual([provider.code]);
      expectNothingLeaked(answer, `the answer when ${provider.name}`);
      expect(sim.calls.map((c) => c.api)).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});

/** A token provider whose every call fails with `error()`. */
function failing(error: () => Error): TokenProvider {
  return {
    identity: 'canary-failing-provider',
    getToken: () => Promise.reject(error()),
  };
}

/**
 * `npm start` as a child, configured with the canary token through DEFENDER_TOKEN, once in front of the
 * simulator (with its faults) and once in front of the hostile upstream: every error path is driven over HTTP,
 * and neither its answers nor anything it printed, from start to exit, holds a canary.
 */
describe('npm start holding the canary token', () => {
  const children: Child[] = [];

  async function startGateway(defenderUrl: string): Promise<{ child: Child; url: string }> {
    const port = await freePort();
    const child = await startChild(
      'npm',
      ['start'],
      {
        PORT: String(port),
        DEFENDER_API_URL: defenderUrl,
        DEFENDER_TOKEN: CANARY_TOKEN,
        AUTH_MODE: 'none',
        DEFENDER_AUTH_MODE: 'app',
        DEFENDER_TIMEOUT_MS: '300',
        DEFENDER_RETRIES: '1',
        DEFENDER_RATE_LIMITS: '100000/60s',
        CACHE_TTL_SECONDS: '0',
        // Variables of this process that would give the child other credentials or settings.
        AZURE_TENANT_ID: '',
        AZURE_CLIENT_ID: '',
        AZURE_CLIENT_SECRET: '',
        AZURE_CLIENT_CERTIFICATE_PATH: '',
        CACHE_URL: '',
        CACHE_TTLS: '',
      },
      /GraphQL on http/,
      30_000,
    );
    children.push(child);
    return { child, url: `http://127.0.0.1:${port}` };
  }

  afterAll(async () => {
    await Promise.all(children.map((child) => child.stop()));
  });

  it('answers every error path without a canary, and prints none from start to exit', async () => {
    const [viaSimulator, viaHostile] = await Promise.all([startGateway(sim.url), startGateway(hostile.url)]);
    const answers: [string, Answer][] = [];

    for (const [i, path] of SIMULATOR_PATHS.entries()) {
      sim.injectFault({ api: 'machines/{id}', fault: faultOf(path) });
      try {
        answers.push([
          path.name,
          await post(viaSimulator.url, MACHINE, { id: sim.tenant.machines[i + 1]!.id }),
        ]);
      } finally {
        sim.clearFaults();
      }
    }
    for (const path of HOSTILE_PATHS)
      answers.push([path.name, await post(viaHostile.url, MACHINE, { id: path.name })]);

    await Promise.all([viaSimulator.child.stop(), viaHostile.child.stop()]);
    // Read after exit, so the output holds everything each process ever printed.
    assertNoCanary(viaSimulator.child.output(), 'the output of npm start in front of the simulator');
    assertNoCanary(viaHostile.child.output(), 'the output of npm start in front of the hostile upstream');
    for (const [name, answer] of answers) expectNothingLeaked(answer, `npm start's answer to ${name}`);
    expect(answers.map(([name, answer]) => [name, codesOf(answer)])).toEqual(
      [...SIMULATOR_PATHS, ...HOSTILE_PATHS].map((p) => [p.name, p.code === null ? [] : [p.code]]),
    );
    expect(trap.requests).toEqual([]);
  });
});
