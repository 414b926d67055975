import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

/** A recognisable secret, so that any echo of it in an answer is caught. */
const SECRET = 'canary-router-secret-7f3a9c1e';

const UNAUTHORIZED = {
  errors: [
    {
      message:
        'Only the federation router may call this subgraph: the x-router-secret header is missing or wrong.',
      extensions: { code: 'UNAUTHENTICATED' },
    },
  ],
};

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: string;
}

/** One HTTP exchange with the gateway, kept whole so that the test can search it for the secret. */
async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return {
    status: res.status,
    text: await res.text(),
    headers: JSON.stringify([...res.headers.entries()]),
  };
}

function post(g: TestGateway, query: string, variables: Record<string, unknown>, secret?: string) {
  return send(`${g.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret !== undefined && { 'x-router-secret': secret }),
    },
    body: JSON.stringify({ query, variables }),
  });
}

const SERVICE = '{ _service { sdl } }';
const ENTITIES =
  'query($r: [_Any!]!) { _entities(representations: $r) { ... on Machine { id computerDnsName } } }';

describe('router-only access (ROUTER_SECRET)', () => {
  it('answers 401 with a GraphQL error and no upstream call to every /graphql request without the secret', async () => {
    gw = await startTestGateway({ server: { routerSecret: SECRET } });
    const r = [{ __typename: 'Machine', id: gw.sim.tenant.machines[0]!.id }];
    const graphql = `${gw.url}/graphql`;
    const answers = [
      await post(gw, SERVICE, {}),
      await post(gw, SERVICE, {}, 'wrong'),
      await post(gw, SERVICE, {}, `${SECRET}x`),
      await post(gw, SERVICE, {}, SECRET.toUpperCase()),
      await post(gw, SERVICE, {}, ''),
      await post(gw, ENTITIES, { r }),
      await post(gw, ENTITIES, { r }, SECRET.slice(0, -1)),
      await post(gw, '{ machines(first: 1) { nodes { id } } }', {}),
      await send(`${graphql}?query=${encodeURIComponent(SERVICE)}`, {
        headers: { 'apollo-require-preflight': 'true' },
      }),
      await send(graphql, { headers: { accept: 'text/html' } }),
      await send(graphql, { method: 'OPTIONS' }),
    ];
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, `request ${i}`).toBe(401);
      expect(JSON.parse(answer.text), `request ${i}`).toEqual(UNAUTHORIZED);
      expect(answer.headers).toMatch(/application\/json/);
    }
    expect(gw.sim.calls).toHaveLength(0);
  });

  it('serves _service and _entities to the router, and keeps the health checks open', async () => {
    gw = await startTestGateway({ server: { routerSecret: SECRET } });
    const machine = gw.sim.tenant.machines[0]!;
    const service = await post(gw, SERVICE, {}, SECRET);
    expect(service.status).toBe(200);
    expect(JSON.parse(service.text).data._service.sdl).toMatch(/type Machine\s+@key\(fields: "id"\)/);

    const entities = await post(gw, ENTITIES, { r: [{ __typename: 'Machine', id: machine.id }] }, SECRET);
    expect(entities.status).toBe(200);
    expect(JSON.parse(entities.text).data).toEqual({
      _entities: [{ id: machine.id, computerDnsName: machine.computerDnsName }],
    });
    expect(gw.sim.calls.map((c) => `${c.api} ${c.id}`)).toEqual([`machines/{id} ${machine.id}`]);

    expect((await send(`${gw.url}/healthz`)).status).toBe(200);
    expect((await send(`${gw.url}/readyz`)).status).toBe(200);
  });

  it('never shows the secret in an answer', async () => {
    gw = await startTestGateway({ server: { routerSecret: SECRET } });
    const answers = [
      await post(gw, SERVICE, {}),
      await post(gw, SERVICE, {}, 'wrong'),
      await post(gw, SERVICE, {}, SECRET),
      await post(gw, `{ _service { sdl } machine(id: "${SECRET}") { id } }`, {}, SECRET),
      await post(gw, '{ nope }', {}, SECRET),
      await send(`${gw.url}/healthz`),
      await send(`${gw.url}/readyz`),
      await send(`${gw.url}/nowhere`),
    ];
    for (const answer of answers) {
      // The one echo allowed is of the caller's own input (a bad machine id), which is not how it got in.
      const text = answer.text.replace(`"${SECRET}" is not a machine id`, '');
      expect(text).not.toContain(SECRET);
      expect(answer.headers).not.toContain(SECRET);
    }
  });

  it('sends per-field traces (ftv1) only to the router', async () => {
    const traced = { 'apollo-federation-include-trace': 'ftv1' };
    gw = await startTestGateway();
    const open = await gw.query('{ rateLimit { api } }', undefined, traced);
    expect(open.errors).toBeUndefined();
    expect(open.extensions).not.toHaveProperty('ftv1');
    await gw.close();

    gw = await startTestGateway({ server: { routerSecret: SECRET } });
    const router = await gw.query('{ rateLimit { api } }', undefined, {
      ...traced,
      'x-router-secret': SECRET,
    });
    expect(router.errors).toBeUndefined();
    expect(router.extensions).toHaveProperty('ftv1');
  });

  it('needs no secret when none is configured', async () => {
    gw = await startTestGateway();
    const service = await post(gw, SERVICE, {});
    expect(service.status).toBe(200);
    expect(JSON.parse(service.text).data._service.sdl).toContain('@key');
  });
});
