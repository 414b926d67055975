import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';

/**
 * A local token issuer for inbound-auth tests: an RS256 key pair, its public key served as a JWKS over
 * loopback HTTP (what `AUTH_JWKS_URI` points at), and helpers that mint tokens the way Entra ID does, or
 * the ways an attacker would.
 */

export const TEST_ISSUER_TENANT_ID = 'a1b2c3d4-0000-4e00-8f00-0123456789ab';

export interface SignOptions {
  /** Claims to add or override (`undefined` removes a default claim). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Header `alg`. Default RS256. */
  readonly alg?: string;
  /** Header `kid`. Default the issuer's key id. */
  readonly kid?: string;
  /** The signing key. Default the issuer's private key. */
  readonly key?: CryptoKey | Uint8Array;
  /** Lifetime from `iat` (s). Default 3600. */
  readonly lifetimeSeconds?: number;
  /** Shifts `iat`, `nbf` and `exp` by this many seconds (negative: in the past). Default 0. */
  readonly shiftSeconds?: number;
}

export interface TestIssuer {
  /** `iss` of the tokens it mints, Entra v2 style. */
  readonly issuer: string;
  /** `aud` of the tokens it mints by default. */
  readonly audience: string;
  /** `http://127.0.0.1:port/…/keys`, the JWKS. */
  readonly jwksUri: URL;
  readonly kid: string;
  /** The public key as SPKI PEM (what an algorithm-confusion attacker would use as an HMAC secret). */
  readonly publicKeyPem: string;
  /** How many times the JWKS was fetched. */
  jwksRequests(): number;
  /** A signed token with Entra-like default claims (`iss`, `aud`, `iat`, `nbf`, `exp`, `tid`, `ver`). */
  sign(options?: SignOptions): Promise<string>;
  /** A delegated (user) token: `oid`, `sub`, `scp`, `azp`, `name`. */
  userToken(oid: string, options?: SignOptions & { scp?: string }): Promise<string>;
  /** An application (client-credentials) token: an `oid` for the service principal, `roles`, no `scp`. */
  appToken(appId: string, options?: SignOptions & { roles?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export interface TestIssuerOptions {
  /** Default `https://login.microsoftonline.com/<tenant>/v2.0` (never contacted: only compared). */
  readonly issuer?: string;
  readonly audience?: string;
  readonly tenantId?: string;
}

export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const tenantId = options.tenantId ?? TEST_ISSUER_TENANT_ID;
  const issuer = options.issuer ?? `https://login.microsoftonline.com/${tenantId}/v2.0`;
  const audience = options.audience ?? 'api://defender-graph-test';
  const kid = 'test-key-1';
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  const publicKeyPem = await exportSPKI(publicKey);
  let jwksRequests = 0;

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === `/${tenantId}/discovery/v2.0/keys`) {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const jwksUri = new URL(`http://127.0.0.1:${port}/${tenantId}/discovery/v2.0/keys`);

  const sign = async (signOptions: SignOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000) + (signOptions.shiftSeconds ?? 0);
    const claims: Record<string, unknown> = {
      iss: issuer,
      aud: audience,
      iat: now,
      nbf: now,
      exp: now + (signOptions.lifetimeSeconds ?? 3600),
      tid: tenantId,
      ver: '2.0',
      ...signOptions.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims as JWTPayload)
      .setProtectedHeader({ alg: signOptions.alg ?? 'RS256', kid: signOptions.kid ?? kid, typ: 'JWT' })
      .sign(signOptions.key ?? privateKey);
  };

  return {
    issuer,
    audience,
    jwksUri,
    kid,
    publicKeyPem,
    jwksRequests: () => jwksRequests,
    sign,
    userToken: (oid, { scp = 'Defender.Read', ...rest } = {}) =>
      sign({
        ...rest,
        claims: {
          oid,
          sub: `sub-${oid}`,
          scp,
          azp: 'b7e1c2d3-0000-4a00-9b00-00000000c11e',
          name: `user ${oid}`,
          ...rest.claims,
        },
      }),
    appToken: (appId, { roles = [], ...rest } = {}) =>
      sign({
        ...rest,
        claims: {
          oid: `sp-${appId}`,
          sub: `sp-${appId}`,
          azp: appId,
          idtyp: 'app',
          ...(roles.length > 0 ? { roles } : {}),
          ...rest.claims,
        },
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A token with `alg: none` and an empty signature, built by hand (jose refuses to make one). */
export function unsignedToken(payload: Readonly<Record<string, unknown>>, kid?: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${part(payload)}.`;
}

/** A JWT's payload, decoded WITHOUT verifying it (test doubles only). */
export function decodePayload(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Standard claims for {@link unsignedToken}, valid but for the signature. */
export function claimsFor(issuer: TestIssuer, extra: Readonly<Record<string, unknown>> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer.issuer, aud: issuer.audience, iat: now, nbf: now, exp: now + 3600, ...extra };
}
