import { execFile } from 'node:child_process';
import { constants as cryptoConstants, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An app registration the authority knows. Without any, it accepts every client and credential. */
export interface TestClient {
  clientId: string;
  /** The one secret it accepts. */
  secret?: string;
  /** The certificate (PEM) whose key must sign the client assertion. */
  certificatePem?: string;
}

/** What one POST to the token endpoint carried, minus the credential itself. */
export interface TokenRequest {
  clientId: string;
  scope: string;
  grantType: string;
  hasSecret: boolean;
  hasAssertion: boolean;
  /** For a client registered with a certificate: the assertion's signature, thumbprint and claims checked out. */
  assertionValid?: boolean;
}

/** What one on-behalf-of request carried (minus the credential and the assertion itself), and its outcome. */
export interface OboRequest {
  clientId: string;
  /** The `scope` parameter as sent (MSAL adds `openid profile offline_access` to the one asked for). */
  scope: string;
  /** `requested_token_use`: `on_behalf_of` from a conforming client. */
  requestedTokenUse: string;
  hasSecret: boolean;
  /** Claims of the user's assertion, decoded WITHOUT verifying it (this is a test double). */
  oid: string | undefined;
  tid: string | undefined;
  aud: string | undefined;
  /** `issued`, or the OAuth error the authority answered with. */
  outcome: 'issued' | string;
  /** The access token handed out, when issued. */
  accessToken?: string;
}

/** How the authority refuses a user's exchange, as Entra does. */
export type OboRefusal =
  /** AADSTS50013: the assertion failed validation (expired, wrong audience, revoked…). */
  | 'invalid_grant'
  /** AADSTS65001: the user or an admin has not consented to the gateway calling Defender. */
  | 'consent_required'
  /** AADSTS50076: conditional access wants MFA; the body carries a `claims` challenge. */
  | 'interaction_required';

export interface TestAuthority {
  /** `https://localhost:port`, to use as the authority host. */
  url: string;
  /** The CA that signed the server certificate, for `NODE_EXTRA_CA_CERTS`. */
  caCertPath: string;
  tenantId: string;
  /** Every token request, in order. */
  tokenRequests: TokenRequest[];
  /** `METHOD /path` of every request, in order: shows what the client asked for besides tokens. */
  requests: string[];
  /** The access token(s) to hand out next, first in first out; when none is queued, a fresh opaque one. */
  issue(accessToken: string): void;
  /** Every access token handed out, in order. */
  tokensIssued: string[];
  /** Every on-behalf-of request, in order (they are in `tokenRequests` too). */
  oboRequests: OboRequest[];
  close(): Promise<void>;
}

export interface TestAuthorityOptions {
  /** Known app registrations; default: none, so any client id and any credential gets a token. */
  clients?: readonly TestClient[];
  /** Default: a fixed GUID. Requests for another tenant get AADSTS90002. */
  tenantId?: string;
  /**
   * The on-behalf-of grant: the access token issued for a user, by the assertion's `oid`. Default
   * `obo-token-<oid>`, so each user always gets the same, distinct token.
   */
  oboTokens?: Readonly<Record<string, string>>;
  /** Users (by `oid`) whose exchange is refused, and how. */
  oboRefusals?: Readonly<Record<string, OboRefusal>>;
}

const DEFAULT_TENANT_ID = '3f2b8c1e-7d4a-4e59-9c1b-0a6f5e2d8b71';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The on-behalf-of grant (RFC 7523 JWT bearer grant, with `requested_token_use=on_behalf_of`). */
export const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The claims challenge sent with `interaction_required`, as conditional access phrases one. */
export const CLAIMS_CHALLENGE = '{"access_token":{"capolids":{"essential":true,"values":["c1a2b3c4"]}}}';

/**
 * A local HTTPS authority that answers the way Entra ID does for the client-credentials and on-behalf-of
 * grants: the OpenID discovery document and the v2.0 token endpoint, with AADSTS error bodies. Its
 * certificate is signed by a throwaway CA, written to a temp file, that a child process trusts through
 * `NODE_EXTRA_CA_CERTS`. On-behalf-of: the user's assertion is decoded, not verified (the gateway verified
 * it on the way in); each user gets a deterministic token (`obo-token-<oid>` unless `oboTokens` says
 * otherwise), or the refusal `oboRefusals` names.
 */
export async function startTestAuthority(options: TestAuthorityOptions = {}): Promise<TestAuthority> {
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const clients = options.clients ?? [];
  const dir = await mkdtemp(join(tmpdir(), 'defender-graph-authority-'));
  const tls = await createServerCertificate(dir);

  const tokenRequests: TokenRequest[] = [];
  const requests: string[] = [];
  const tokensIssued: string[] = [];
  const oboRequests: OboRequest[] = [];
  const queued: string[] = [];
  let url = '';

  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handle(req, res).catch(() =>
      sendJson(res, 500, errorBody('server_error', 500_000, 'test authority failed')),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(path);
    if (!match) return sendJson(res, 404, { error: 'not_found' });
    const [, tenant, endpoint] = match as unknown as [string, string, string];
    if (tenant !== tenantId) {
      return sendJson(res, 400, errorBody('invalid_request', 90002, `Tenant '${tenant}' not found.`));
    }
    if (endpoint.startsWith('v2.0')) {
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'method_not_allowed' });
      return sendJson(res, 200, openIdConfiguration(url, tenantId));
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' });
    const form = new URLSearchParams(await readBody(req));
    const tokenEndpoint = `${url}/${tenantId}/oauth2/v2.0/token`;
    const answer = answerTokenRequest(form, clients, tokenEndpoint);
    tokenRequests.push(answer.request);
    if (answer.request.grantType === OBO_GRANT) {
      const obo = answerOboRequest(form, answer, options);
      oboRequests.push(obo.request);
      if (obo.status !== 200) return sendJson(res, obo.status, obo.body);
      tokensIssued.push(obo.request.accessToken!);
      return sendJson(res, 200, {
        token_type: 'Bearer',
        scope: form.get('scope') ?? '',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: obo.request.accessToken,
      });
    }
    if (answer.status !== 200) return sendJson(res, answer.status, answer.body);
    const accessToken = queued.shift() ?? `test-access-token-${randomBytes(16).toString('hex')}`;
    tokensIssued.push(accessToken);
    return sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://localhost:${(server.address() as { port: number }).port}`;

  return {
    url,
    caCertPath: tls.caCertPath,
    tenantId,
    tokenRequests,
    requests,
    issue: (accessToken) => void queued.push(accessToken),
    tokensIssued,
    oboRequests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A client certificate and its RSA key in one PEM file, as `AZURE_CLIENT_CERTIFICATE_PATH` expects. */
export interface ClientCertificate {
  /** The PEM file: private key, then certificate. */
  path: string;
  /** The certificate alone, to register with {@link startTestAuthority}. */
  certificatePem: string;
  /** Hex SHA-256 of the certificate (what MSAL sends as `x5t#S256`). */
  thumbprintSha256: string;
}

/** Generates a self-signed RSA client certificate (MSAL signs assertions with PS256) in `dir`. */
export async function createClientCertificate(dir: string): Promise<ClientCertificate> {
  const keyPath = join(dir, 'client.key');
  const certPath = join(dir, 'client.crt');
  const rsa = 'req -x509 -newkey rsa:2048 -nodes -days 1'.split(' ');
  const out = ['-keyout', keyPath, '-out', certPath];
  await run('openssl', [...rsa, ...out, '-subj', '/CN=defender-graph test client']);
  const [keyPem, certificatePem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  const path = join(dir, 'client.pem');
  await writeFile(path, keyPem + certificatePem);
  const fingerprint = new X509Certificate(certificatePem).fingerprint256;
  return { path, certificatePem, thumbprintSha256: fingerprint.replaceAll(':', '').toLowerCase() };
}

/** A throwaway CA and a `localhost` server certificate it signed; only the CA's certificate is shared. */
async function createServerCertificate(
  dir: string,
): Promise<{ caCertPath: string; keyPem: string; certPem: string }> {
  const caKey = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.pem');
  const serverKey = join(dir, 'server.key');
  const serverCert = join(dir, 'server.pem');
  const ec = 'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1'.split(' ');
  const ext = (...values: string[]) => values.flatMap((value) => ['-addext', value]);
  const caOut = ['-keyout', caKey, '-out', caCertPath, '-subj', '/CN=defender-graph test CA'];
  const caExt = ext('basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign');
  await run('openssl', [...ec, ...caOut, ...caExt]);
  const serverOut = ['-keyout', serverKey, '-out', serverCert, '-subj', '/CN=localhost'];
  const signedBy = ['-CA', caCertPath, '-CAkey', caKey];
  const serverExt = ext(
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'basicConstraints=critical,CA:FALSE',
    'extendedKeyUsage=serverAuth',
  );
  await run('openssl', [...ec, ...serverOut, ...signedBy, ...serverExt]);
  const [keyPem, certPem] = await Promise.all([readFile(serverKey, 'utf8'), readFile(serverCert, 'utf8')]);
  return { caCertPath, keyPem, certPem };
}

/** Entra's discovery document, every endpoint pointing back at this authority. */
function openIdConfiguration(url: string, tenantId: string): Record<string, unknown> {
  const base = `${url}/${tenantId}`;
  return {
    issuer: `${base}/v2.0`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${url}/${tenantId}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    tenant_region_scope: 'WW',
  };
}

/** Decides one token request the way Entra does, recording what it carried but never the credential. */
function answerTokenRequest(
  form: URLSearchParams,
  clients: readonly TestClient[],
  tokenEndpoint: string,
): { request: TokenRequest; status: number; body?: unknown } {
  const clientId = form.get('client_id') ?? '';
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  const request: TokenRequest = {
    clientId,
    scope: form.get('scope') ?? '',
    grantType: form.get('grant_type') ?? '',
    hasSecret: secret !== null,
    hasAssertion: assertion !== null,
  };
  if (request.grantType !== 'client_credentials' && request.grantType !== OBO_GRANT) {
    return {
      request,
      status: 400,
      body: errorBody('unsupported_grant_type', 70003, 'Unsupported grant type.'),
    };
  }
  if (secret === null && assertion === null) {
    return {
      request,
      status: 401,
      body: errorBody(
        'invalid_client',
        7000218,
        "The request body must contain 'client_assertion' or 'client_secret'.",
      ),
    };
  }
  if (clients.length === 0) return { request, status: 200 };
  const client = clients.find((c) => c.clientId === clientId);
  if (!client) {
    return {
      request,
      status: 400,
      body: errorBody(
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found.`,
      ),
    };
  }
  if (assertion !== null) {
    request.assertionValid =
      client.certificatePem !== undefined &&
      form.get('client_assertion_type') === JWT_BEARER &&
      isValidAssertion(assertion, client.certificatePem, clientId, tokenEndpoint);
    if (request.assertionValid) return { request, status: 200 };
    return {
      request,
      status: 401,
      body: errorBody('invalid_client', 700027, 'Client assertion failed signature validation.'),
    };
  }
  if (secret === client.secret) return { request, status: 200 };
  // Deliberately hostile: the description quotes what was sent, so a client that passes the authority's
  // text on would leak the secret, and a test can see it.
  return {
    request,
    status: 401,
    body: errorBody('invalid_client', 7000215, `Invalid client secret provided: '${secret}'.`),
  };
}

/**
 * The on-behalf-of part of a token request whose client authentication `answerTokenRequest` has decided:
 * the user's assertion (decoded without verification), then the refusal configured for that user, if any.
 */
function answerOboRequest(
  form: URLSearchParams,
  clientAnswer: { request: TokenRequest; status: number; body?: unknown },
  options: TestAuthorityOptions,
): { request: OboRequest; status: number; body?: unknown } {
  const claims = decodeJwtPayload(form.get('assertion') ?? '');
  const text = (name: string) => (typeof claims?.[name] === 'string' ? (claims[name] as string) : undefined);
  const request: OboRequest = {
    clientId: clientAnswer.request.clientId,
    scope: clientAnswer.request.scope,
    requestedTokenUse: form.get('requested_token_use') ?? '',
    hasSecret: clientAnswer.request.hasSecret,
    oid: text('oid'),
    tid: text('tid'),
    aud: text('aud'),
    outcome: 'issued',
  };
  const refuse = (status: number, error: string, code: number, description: string, extra = {}) => {
    request.outcome = error;
    return { request, status, body: { ...errorBody(error, code, description), ...extra } };
  };
  if (clientAnswer.status !== 200) {
    request.outcome = (clientAnswer.body as { error?: string } | undefined)?.error ?? 'error';
    return { request, status: clientAnswer.status, body: clientAnswer.body };
  }
  if (request.requestedTokenUse !== 'on_behalf_of') {
    return refuse(400, 'invalid_request', 900144, "The request body must contain 'requested_token_use'.");
  }
  if (!claims || request.oid === undefined) {
    return refuse(400, 'invalid_grant', 50027, 'JWT token is invalid or is malformed.');
  }
  switch (options.oboRefusals?.[request.oid]) {
    case 'invalid_grant':
      return refuse(400, 'invalid_grant', 50013, 'Assertion failed signature validation.');
    case 'consent_required':
      return refuse(
        400,
        'consent_required',
        65001,
        'The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.',
        { suberror: 'consent_required' },
      );
    case 'interaction_required':
      return refuse(
        400,
        'interaction_required',
        50076,
        'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication.',
        { claims: CLAIMS_CHALLENGE, suberror: 'basic_action' },
      );
    case undefined:
      break;
  }
  request.accessToken = options.oboTokens?.[request.oid] ?? `obo-token-${request.oid}`;
  return { request, status: 200 };
}

/** A JWT's claims, decoded without verifying anything. */
function decodeJwtPayload(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a PS256 client assertion: certificate thumbprint, signature, audience, issuer/subject, lifetime. */
function isValidAssertion(jwt: string, certificatePem: string, clientId: string, audience: string): boolean {
  const parts = jwt.split('.');
  if (parts.length !== 3) return false;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString()) as Record<string, unknown>;
    const certificate = new X509Certificate(certificatePem);
    const thumbprint = Buffer.from(certificate.fingerprint256.replaceAll(':', ''), 'hex').toString(
      'base64url',
    );
    const now = Date.now() / 1000;
    const signed = verify(
      'sha256',
      Buffer.from(`${headerPart}.${payloadPart}`),
      {
        key: certificate.publicKey,
        padding: cryptoConstants.RSA_PKCS1_PSS_PADDING,
        saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST,
      },
      Buffer.from(signaturePart, 'base64url'),
    );
    return (
      signed &&
      header.alg === 'PS256' &&
      header['x5t#S256'] === thumbprint &&
      claims.aud === audience &&
      claims.iss === clientId &&
      claims.sub === clientId &&
      typeof claims.exp === 'number' &&
      claims.exp > now
    );
  } catch {
    return false;
  }
}

/** An Entra-shaped error body: `error`, `error_description` starting with the AADSTS code, `error_codes`…. */
function errorBody(error: string, code: number, description: string): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store, no-cache',
  });
  res.end(text);
}
