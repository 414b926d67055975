import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MsalTokenProvider } from '../../src/auth/tokens.js';
import type { ClientCertificate, TestAuthority } from '../helpers/authority.js';
import { createClientCertificate, startTestAuthority } from '../helpers/authority.js';

const SCOPE = 'https://api.securitycenter.microsoft.com/.default';
const SECRET = 'canary-secret-7f3a9c41e2b8d650';
const SECRET_CLIENT = '0b6f3e2a-9c41-4d7e-8a15-2f6c9d0e4b37';
const CERT_CLIENT = '5d2e8f4a-1b7c-4e93-a6d0-c84f2b91e7a5';
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/get-token.ts');

interface FixtureOutput {
  identity?: string;
  tokens?: string[];
  error?: { name: string; message: string; errorCode?: string; retryable?: boolean; aadstsCode?: string };
}

let authority: TestAuthority;
let certificate: ClientCertificate;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'defender-graph-token-test-'));
  certificate = await createClientCertificate(dir);
  authority = await startTestAuthority({
    clients: [
      { clientId: SECRET_CLIENT, secret: SECRET },
      { clientId: CERT_CLIENT, certificatePem: certificate.certificatePem },
    ],
  });
});

afterAll(async () => {
  await authority?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The token requests and tokens the authority sees while `body` runs. */
async function observe<T>(body: () => Promise<T>) {
  const requestsBefore = authority.tokenRequests.length;
  const issuedBefore = authority.tokensIssued.length;
  const result = await body();
  return {
    result,
    tokenRequests: authority.tokenRequests.slice(requestsBefore),
    tokensIssued: authority.tokensIssued.slice(issuedBefore),
  };
}

/**
 * Runs the fixture (real MSAL, real HTTPS) in a child process that trusts the authority's CA through
 * NODE_EXTRA_CA_CERTS, unless `trustAuthority` is false. Resolves with its JSON line and its whole output.
 */
async function getTokenInChild(
  env: Record<string, string>,
  { trustAuthority = true } = {},
): Promise<{ output: FixtureOutput; text: string }> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AZURE_TENANT_ID: authority.tenantId,
    AZURE_AUTHORITY_HOST: authority.url,
    DEFENDER_SCOPE: SCOPE,
    ...env,
  };
  // Trust must come from the CA file alone, and MSAL must not be sent to Azure's region service.
  delete childEnv.NODE_TLS_REJECT_UNAUTHORIZED;
  delete childEnv.MSAL_FORCE_REGION;
  delete childEnv.NODE_EXTRA_CA_CERTS;
  if (trustAuthority) childEnv.NODE_EXTRA_CA_CERTS = authority.caCertPath;

  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: ROOT, env: childEnv });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  clearTimeout(timer);
  const line = text.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`get-token exited with ${code}:\n${text}`);
  return { output: JSON.parse(line) as FixtureOutput, text };
}

describe('MsalTokenProvider against an Entra-like authority (child process, real MSAL)', () => {
  it('asks the authority once for a client-secret token and serves the second call from MSAL’s cache', async () => {
    authority.issue('issued-token-secret-1');
    const { result, tokenRequests, tokensIssued } = await observe(() =>
      getTokenInChild({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: SECRET }),
    );

    expect(tokenRequests).toEqual([
      {
        clientId: SECRET_CLIENT,
        scope: SCOPE,
        grantType: 'client_credentials',
        hasSecret: true,
        hasAssertion: false,
      },
    ]);
    expect(tokensIssued).toEqual(['issued-token-secret-1']);
    expect(result.output).toEqual({
      identity: `${authority.tenantId}/${SECRET_CLIENT}`,
      tokens: ['issued-token-secret-1', 'issued-token-secret-1'],
    });
  });

  it('shares one token request between concurrent first callers', async () => {
    const { result, tokenRequests, tokensIssued } = await observe(() =>
      getTokenInChild({
        AZURE_CLIENT_ID: SECRET_CLIENT,
        AZURE_CLIENT_SECRET: SECRET,
        GET_TOKEN_CONCURRENT: '1',
      }),
    );

    expect(tokenRequests).toHaveLength(1);
    expect(tokensIssued).toHaveLength(1);
    expect(result.output.tokens).toEqual([tokensIssued[0], tokensIssued[0]]);
  });

  it('signs a client assertion with the certificate from the PEM file and sends no secret', async () => {
    const { result, tokenRequests, tokensIssued } = await observe(() =>
      getTokenInChild({ AZURE_CLIENT_ID: CERT_CLIENT, AZURE_CLIENT_CERTIFICATE_PATH: certificate.path }),
    );

    expect(tokenRequests).toEqual([
      {
        clientId: CERT_CLIENT,
        scope: SCOPE,
        grantType: 'client_credentials',
        hasSecret: false,
        hasAssertion: true,
        assertionValid: true,
      },
    ]);
    expect(result.output.tokens).toEqual([tokensIssued[0], tokensIssued[0]]);
  });

  it('rejects a wrong secret with invalid_client, and no output of the process carries the secret', async () => {
    const wrongSecret = 'canary-wrong-secret-e41b7d09a3c2';
    const { result, tokenRequests, tokensIssued } = await observe(() =>
      getTokenInChild({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: wrongSecret }),
    );

    // The authority quotes the secret it got in its error description, on purpose.
    expect(tokenRequests).toEqual([expect.objectContaining({ clientId: SECRET_CLIENT, hasSecret: true })]);
    expect(tokensIssued).toEqual([]);
    expect(result.output.error).toEqual({
      name: 'TokenAcquisitionError',
      message: expect.stringMatching(
        new RegExp(
          `^No token from localhost:\\d+ for ${authority.tenantId}/${SECRET_CLIENT}: invalid_client, AADSTS7000215, HTTP 401`,
        ),
      ),
      errorCode: 'invalid_client',
      retryable: false,
      aadstsCode: '7000215',
    });
    expect(result.text).not.toContain(wrongSecret);
    expect(result.text).not.toContain(SECRET);
  });

  it('refuses an authority whose certificate it does not trust, before sending any credential', async () => {
    const { result, tokenRequests } = await observe(() =>
      getTokenInChild(
        { AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: SECRET },
        { trustAuthority: false },
      ),
    );

    expect(tokenRequests).toEqual([]);
    expect(result.output.error).toMatchObject({ name: 'TokenAcquisitionError', retryable: true });
    expect(result.text).not.toContain(SECRET);
  });
});

describe('MsalTokenProvider in process', () => {
  const options = {
    tenantId: '3f2b8c1e-7d4a-4e59-9c1b-0a6f5e2d8b71',
    clientId: SECRET_CLIENT,
    clientSecret: SECRET,
    authorityHost: 'https://login.microsoftonline.com',
    scope: SCOPE,
  };

  it('names its identity tenant/client, without the secret', () => {
    expect(new MsalTokenProvider(options).identity).toBe(`${options.tenantId}/${SECRET_CLIENT}`);
  });

  it('refuses a configuration that cannot work, saying what it expected', () => {
    expect(() => new MsalTokenProvider({ ...options, clientSecret: undefined })).toThrow(
      /exactly one of clientSecret and clientCertificatePath, got neither/,
    );
    expect(() => new MsalTokenProvider({ ...options, clientCertificatePath: certificate.path })).toThrow(
      /got both/,
    );
    expect(() => new MsalTokenProvider({ ...options, authorityHost: 'http://localhost:1' })).toThrow(
      /https:\/\/host/,
    );
    expect(
      () => new MsalTokenProvider({ ...options, authorityHost: 'https://login.microsoftonline.com/tenant' }),
    ).toThrow(/no path/);
  });

  it('refuses a certificate file without a private key, naming the file but not quoting it', async () => {
    const path = join(dir, 'cert-only.pem');
    await writeFile(path, certificate.certificatePem);
    const build = () =>
      new MsalTokenProvider({ ...options, clientSecret: undefined, clientCertificatePath: path });
    expect(build).toThrow(`the client certificate file ${path} has no unencrypted PRIVATE KEY block`);
  });

  it('gives up after timeoutMs when the authority never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const { port } = silent.address() as { port: number };
    try {
      const provider = new MsalTokenProvider({
        ...options,
        authorityHost: `https://127.0.0.1:${port}`,
        timeoutMs: 200,
      });
      await expect(provider.getToken()).rejects.toMatchObject({
        name: 'TokenAcquisitionError',
        errorCode: 'timeout',
        retryable: true,
        message: `No token from 127.0.0.1:${port} for ${options.tenantId}/${SECRET_CLIENT}: no answer within 200 ms`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });

  it('rejects with the signal’s reason when the caller has already given up', async () => {
    const provider = new MsalTokenProvider(options);
    const reason = new Error('caller went away');
    await expect(provider.getToken(AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
