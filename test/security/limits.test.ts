import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/** A gateway as it runs in front of a real Defender: introspection off, suggestions hidden. */
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ server: { introspection: false, hideSchemaSuggestions: true } });
});
beforeEach(() => gw.sim.resetCalls());
afterAll(() => gw.close());

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: JSON.parse(text || 'null') as { errors?: { extensions?: { code?: string } }[] } | null,
  };
}

const codes = (r: { json: { errors?: { extensions?: { code?: string } }[] } | null }) =>
  r.json?.errors?.map((e) => e.extensions?.code);

describe('query limits', () => {
  it('refuses a query deeper than 10, also when the depth hides in fragments, with no call', async () => {
    const deep =
      '{ machines { nodes { logonUsers { machines { logonUsers { machines { logonUsers { machines { logonUsers { machines { id } } } } } } } } } } }';
    const viaFragments = `query { machines { nodes { ...a } } }
      fragment a on Machine { logonUsers { ...b } } fragment b on User { machines { ...c } }
      fragment c on Machine { logonUsers { ...d } } fragment d on User { machines { ...e } }
      fragment e on Machine { logonUsers { ...f } } fragment f on User { machines { ...__schema } }
      fragment __schema on Machine { logonUsers { machines { id } } }`;
    for (const query of [deep, viaFragments]) {
      const res = await post(JSON.stringify({ query }));
      expect(res.status).toBe(400);
      expect(codes(res)).toContain('GRAPHQL_VALIDATION_FAILED');
    }
    expect(gw.sim.calls).toEqual([]);
  });

  it('refuses more than 15 aliases, with no call', async () => {
    const ids = gw.sim.tenant.machines.slice(0, 16).map((m) => m.id);
    const query = `{ ${ids.map((id, i) => `m${i}: machine(id: "${id}") { id }`).join(' ')} }`;
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    expect(codes(res)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(gw.sim.calls).toEqual([]);
  });

  it('refuses a document of more than 2,000 tokens before parsing it, with no call', async () => {
    const query = `{ ${'__typename '.repeat(2_100)} }`;
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    // Over the token limit is a size limit: the contract's GRAPHQL_VALIDATION_FAILED, not Apollo's PARSE_FAILED.
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(gw.sim.calls).toEqual([]);
  });

  it('refuses a body over 100 kB with 413, and a batched request with 400', async () => {
    const big = await post(JSON.stringify({ query: `{ __typename } #${'x'.repeat(100_001)}` }));
    expect(big.status).toBe(413);
    const batched = await post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(batched.status).toBe(400);
    expect(batched.text).toMatch(/batching/i);
    expect(gw.sim.calls).toEqual([]);
  });

  it('has introspection off and gives no field suggestions', async () => {
    const intro = await post(JSON.stringify({ query: '{ __schema { types { name } } }' }));
    expect(intro.status).toBe(400);
    expect(codes(intro)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const typo = await post(JSON.stringify({ query: '{ machin(id: "x") { id } }' }));
    expect(typo.status).toBe(400);
    expect(typo.text).not.toMatch(/did you mean/i);
  });

  it('keeps CSRF prevention: a GET without a JSON content type or preflight header is refused', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(res.status).toBe(400);
    const allowed = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(allowed.status).toBe(200);
  });
});
