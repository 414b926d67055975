import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../../src/auth/jwt.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import type { TestIssuer } from '../helpers/jwt.js';
import { claimsFor, startTestIssuer, unsignedToken } from '../helpers/jwt.js';

/**
 * Inbound authentication (AUTH_MODE=jwt) with a local JWKS and locally signed tokens: every token that is not
 * exactly right is refused with 401 (403 when valid but lacking the required role), a GraphQL-shaped body and
 * a WWW-Authenticate challenge, before Defender is called at all.
 */

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  } | null;
}

let issuer: TestIssuer;
/** Authentication only. */
let gw: TestGateway;
/** Authentication and the app role `Defender.Read`. */
let gwRole: TestGateway;
let machineId: string;

beforeAll(async () => {
  issuer = await startTestIssuer();
  const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri };
  gw = await startTestGateway({ server: { authenticator: new JwtAuthenticator(options) } });
  gwRole = await startTestGateway({
    server: { authenticator: new JwtAuthenticator({ ...options, requiredRole: 'Defender.Read' }) },
  });
  machineId = gw.sim.tenant.machines[0]!.id;
});

afterAll(async () => {
  await Promise.all([gw?.close(), gwRole?.close()]);
  await issuer?.close();
});

beforeEach(() => {
  gw.sim.resetCalls();
  gwRole.sim.resetCalls();
});

async function request(
  target: TestGateway,
  init: { method?: string; path?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const method = init.method ?? 'POST';
  const res = await fetch(`${target.url}${init.path ?? '/graphql'}`, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json', ...init.headers } : init.headers,
    ...(method === 'POST' && {
      body: JSON.stringify(init.body ?? { query: `{ machine(id: "${machineId}") { id } }` }),
    }),
  });
  const text = await res.text();
  let json: Answer['json'];
  try {
    json = JSON.parse(text) as Answer['json'];
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A 401 as the contract has it: GraphQL-shaped, UNAUTHENTICATED, a Bearer challenge, and no data. */
function expectUnauthenticated(answer: Answer): void {
  expect(answer.status).toBe(401);
  expect(answer.json?.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  expect(answer.json?.data).toBeUndefined();
  expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  // The reason stays in the logs: telling it would help tune a forgery.
  expect(answer.text).not.toMatch(/expired|signature|audience|issuer|algorithm|nbf|exp\b|kid/i);
}

describe('inbound JWT validation (jose, local JWKS)', () => {
  it('accepts a valid user token: 200 with data, and the call goes to Defender', async () => {
    const answer = await request(gw, { headers: bearer(await issuer.userToken('alice')) });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ data: { machine: { id: machineId } } });
    expect(answer.json?.errors).toBeUndefined();
    expect(gw.sim.calls).toHaveLength(1);
    expect(issuer.jwksRequests()).toBeGreaterThanOrEqual(1);
  });

  it('accepts the scheme name in any case (RFC 7235: auth schemes are case-insensitive)', async () => {
    const token = await issuer.userToken('alice');
    for (const scheme of ['bearer', 'BEARER']) {
      const answer = await request(gw, { headers: { authorization: `${scheme} ${token}` } });
      expect(answer.status, scheme).toBe(200);
      expect(answer.json).toMatchObject({ data: { machine: { id: machineId } } });
    }
  });

  it('accepts a token that expired within the 60 s clock tolerance', async () => {
    const token = await issuer.userToken('alice', { shiftSeconds: -3630 });
    const answer = await request(gw, { headers: bearer(token) });
    expect(answer.status).toBe(200);
  });

  it('answers 401 without a token, before any Defender call', async () => {
    const answer = await request(gw);
    expectUnauthenticated(answer);
    // RFC 6750 §3.1: no error code when no credentials were sent; invalid_token when they were wrong.
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await request(gw, { headers: bearer('not-a-jwt') });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    // A browser's Accept does not excuse a POST.
    expectUnauthenticated(await request(gw, { headers: { accept: 'text/html' } }));
    expect(gw.sim.calls).toEqual([]);
  });

  it('answers 401 to a malformed Authorization header', async () => {
    const valid = await issuer.userToken('alice');
    for (const authorization of [
      'Basic YWxpY2U6cGFzc3dvcmQ=',
      'Bearer',
      'Bearer ',
      `Token ${valid}`,
      `Bearer ${valid} ${valid}`,
      `Bearer ${valid},`,
      'Bearer not-a-jwt',
      'Bearer a.b.c',
      `Bearer ${valid.split('.').slice(0, 2).join('.')}`,
    ]) {
      const answer = await request(gw, { headers: { authorization } });
      expectUnauthenticated(answer);
    }
    expect(gw.sim.calls).toEqual([]);
  });

  const refused: [string, () => Promise<string>][] = [
    [
      'expired (exp 120 s ago, past the 60 s tolerance)',
      () => issuer.userToken('alice', { shiftSeconds: -3720 }),
    ],
    [
      'not yet valid (nbf in 5 minutes)',
      () => issuer.userToken('alice', { claims: { nbf: Math.floor(Date.now() / 1000) + 300 } }),
    ],
    ['for another audience', () => issuer.userToken('alice', { claims: { aud: 'api://another-api' } })],
    [
      'from another issuer',
      () =>
        issuer.userToken('alice', {
          claims: { iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000bad/v2.0' },
        }),
    ],
    ['without exp', () => issuer.userToken('alice', { claims: { exp: undefined } })],
    [
      'with alg none and no signature',
      async () => unsignedToken(claimsFor(issuer, { oid: 'alice', scp: 'Defender.Read' }), issuer.kid),
    ],
    [
      'signed by another key under the same kid (bad signature)',
      async () => issuer.userToken('alice', { key: (await generateKeyPair('RS256')).privateKey }),
    ],
    [
      'signed by a key the JWKS does not have',
      async () =>
        issuer.userToken('alice', { kid: 'unknown-kid', key: (await generateKeyPair('RS256')).privateKey }),
    ],
    [
      'HS256 with the public key as the HMAC secret (algorithm confusion)',
      () => issuer.userToken('alice', { alg: 'HS256', key: new TextEncoder().encode(issuer.publicKeyPem) }),
    ],
    [
      'with its signature stripped',
      async () => `${(await issuer.userToken('alice')).split('.').slice(0, 2).join('.')}.`,
    ],
    [
      'whose payload was altered after signing',
      async () => {
        const [header, , signature] = (await issuer.userToken('alice')).split('.');
        const forged = Buffer.from(
          JSON.stringify(claimsFor(issuer, { oid: 'mallory', scp: 'Defender.Read' })),
        );
        return `${header}.${forged.toString('base64url')}.${signature}`;
      },
    ],
  ];

  it.each(refused)('answers 401 to a token %s, with no Defender call', async (_, mint) => {
    expectUnauthenticated(await request(gw, { headers: bearer(await mint()) }));
    expect(gw.sim.calls).toEqual([]);
  });

  it('gives every invalid token the same message', async () => {
    const messages = new Set<string>();
    for (const [, mint] of refused) {
      const answer = await request(gw, { headers: bearer(await mint()) });
      messages.add(answer.json?.errors?.[0]?.message ?? '');
    }
    expect(messages.size).toBe(1);
  });
});

describe('the required app role (AUTH_REQUIRED_ROLE)', () => {
  it('answers 403 FORBIDDEN to a valid token without the role, before any Defender call', async () => {
    for (const token of [
      await issuer.userToken('alice'),
      await issuer.appToken('app-1'),
      await issuer.appToken('app-1', { roles: ['Defender.ReadWrite', 'Defender.Reader'] }),
      // The claim is an array of roles; a string is not a role list.
      await issuer.sign({ claims: { oid: 'x', roles: 'Defender.Read' } }),
    ]) {
      const answer = await request(gwRole, { headers: bearer(token) });
      expect(answer.status).toBe(403);
      expect(answer.json?.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope"');
      expect(answer.json?.data).toBeUndefined();
    }
    expect(gwRole.sim.calls).toEqual([]);
  });

  it('answers 200 to a token with the role', async () => {
    for (const token of [
      await issuer.appToken('app-1', { roles: ['Defender.Read'] }),
      await issuer.userToken('alice', { claims: { roles: ['Other', 'Defender.Read'] } }),
    ]) {
      const answer = await request(gwRole, { headers: bearer(token) });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ data: { machine: { id: machineId } } });
    }
    expect(gwRole.sim.calls.length).toBeGreaterThan(0);
  });

  it('authenticates before it authorizes: an expired token with the role is 401', async () => {
    const token = await issuer.appToken('app-1', { roles: ['Defender.Read'], shiftSeconds: -7200 });
    expectUnauthenticated(await request(gwRole, { headers: bearer(token) }));
    expect(gwRole.sim.calls).toEqual([]);
  });
});

describe('the GraphQL endpoint over GET', () => {
  const operation = encodeURIComponent('{ machines(first: 3) { nodes { id } } }');

  it('lets a browser load the GraphiQL page without a token', async () => {
    const answer = await request(gw, { method: 'GET', headers: { accept: 'text/html' } });
    expect(answer.status).not.toBe(401);
    expect(gw.sim.calls).toEqual([]);
  });

  it('runs no operation without a token, whatever the Accept header says', async () => {
    for (const accept of ['application/json', 'application/json, text/html', 'text/html;q=0.5, */*']) {
      const answer = await request(gw, {
        method: 'GET',
        path: `/graphql?query=${operation}`,
        headers: { accept, 'apollo-require-preflight': 'true' },
      });
      expect(answer.json?.data ?? undefined, accept).toBeUndefined();
      if (answer.json?.errors) expectUnauthenticated(answer);
    }
    expect(gw.sim.calls).toEqual([]);
  });

  it('runs no operation without a token on a percent-encoded spelling of /graphql', async () => {
    for (const path of ['/%67raphql', '/graph%71l', '/%2Fgraphql']) {
      const answer = await request(gw, {
        method: 'GET',
        path: `${path}?query=${operation}`,
        headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
      });
      expect([401, 404], path).toContain(answer.status);
      expect(answer.text, path).not.toContain('"data"');
    }
    expect(gw.sim.calls).toEqual([]);
  });
});
