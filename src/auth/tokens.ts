import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Configuration, NodeAuthOptions } from '@azure/msal-node';
import {
  AuthError,
  AuthErrorCodes,
  ClientAuthErrorCodes,
  ClientConfigurationErrorCodes,
  ConfidentialClientApplication,
  LogLevel,
  ServerError,
} from '@azure/msal-node';

/** Where the gateway gets the bearer token it sends to Defender. */
export interface TokenProvider {
  /** A valid access token; implementations cache and refresh. */
  getToken(signal?: AbortSignal): Promise<string>;
  /**
   * Who the token speaks for (e.g. `tenantId/clientId`, or a hash for a static token): cache keys are
   * partitioned by it. It never contains a secret or a token.
   */
  readonly identity: string;
}

/** A token minted elsewhere (`DEFENDER_TOKEN`), sent as is. */
export class StaticTokenProvider implements TokenProvider {
  readonly identity: string;
  readonly #token: string;

  /** @param identity defaults to `static:` and the first 16 hex digits of the token's SHA-256. */
  constructor(token: string, identity?: string) {
    if (token.trim() === '') throw new TypeError('StaticTokenProvider: expected a non-empty token');
    this.#token = token;
    this.identity = identity ?? `static:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    return this.#token;
  }
}

export interface MsalOptions {
  /** Entra tenant (directory) id. */
  tenantId: string;
  /** Application (client) id of the app registration. */
  clientId: string;
  /** Client secret; exactly one of `clientSecret` and `clientCertificatePath` is required. */
  clientSecret?: string;
  /** PEM file holding the private key (unencrypted, RSA) and the certificate registered on the app. */
  clientCertificatePath?: string;
  /** Authority host with scheme and no path, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** The one scope asked for, e.g. `https://api.securitycenter.microsoft.com/.default`. */
  scope: string;
  /**
   * How long one `getToken()` waits for the authority before it gives up, in milliseconds. MSAL's own token
   * POST has no timeout. Default 30 000.
   */
  timeoutMs?: number;
  /** Receives MSAL's warnings and errors (never PII). Default: MSAL logs nothing. */
  onMsalLog?: (level: 'error' | 'warning', message: string) => void;
}

/**
 * Hosts that MSAL knows (instance discovery and endpoint metadata are built in, so it asks nobody). Any
 * other host is treated as a custom authority: see {@link authorityOptionsFor}.
 */
const MICROSOFT_AUTHORITY_HOSTS: ReadonlySet<string> = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login-us.microsoftonline.com',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
  'login.microsoftonline.de',
]);

/** MSAL's own error codes, and the OAuth 2.0 ones an authority may answer with: the only codes we repeat. */
const KNOWN_ERROR_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(AuthErrorCodes),
  ...Object.values(ClientAuthErrorCodes),
  ...Object.values(ClientConfigurationErrorCodes),
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_resource',
  'access_denied',
  'interaction_required',
  'consent_required',
  'server_error',
  'temporarily_unavailable',
]);

/** Codes after which asking again later may succeed; anything else needs a change of configuration. */
const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'network_error',
  'no_network_connectivity',
  'endpoints_resolution_error',
  'openid_config_error',
  'server_error',
  'temporarily_unavailable',
  'timeout',
]);

/**
 * The gateway could not get a token. Its message is built only from MSAL's error code, the AADSTS number
 * and the non-secret configuration (host, tenant, client id): never from the authority's text, so it
 * cannot carry a secret, an assertion or a token.
 */
export class TokenAcquisitionError extends Error {
  override readonly name = 'TokenAcquisitionError';

  constructor(
    message: string,
    /** MSAL's error code (`invalid_client`, `network_error`, …), or `unrecognized_error`. */
    readonly errorCode: string,
    /** True when the authority was unreachable or failing; false when it refused the credentials or request. */
    readonly retryable: boolean,
    /** The AADSTS error number when the authority sent one, e.g. `7000215`. */
    readonly aadstsCode?: string,
  ) {
    super(message);
  }
}

/**
 * The gateway's default identity when every call must go on behalf of a caller (`DEFENDER_AUTH_MODE=obo`):
 * a call without a caller is refused rather than sent with the application's own, tenant-wide, token.
 */
export class RefusingTokenProvider implements TokenProvider {
  readonly identity = 'none';

  async getToken(): Promise<string> {
    throw new TokenAcquisitionError('No caller to act on behalf of', 'no_caller', false);
  }
}

/**
 * Client-credential tokens from Entra ID through one MSAL `ConfidentialClientApplication`, whose in-memory
 * cache hands back the same token until shortly before it expires and then fetches a new one.
 */
export class MsalTokenProvider implements TokenProvider {
  readonly identity: string;
  readonly #app: ConfidentialClientApplication;
  readonly #scope: string;
  readonly #timeoutMs: number;
  readonly #describe: string;
  /** MSAL does not share an in-flight client-credential request, so concurrent cold callers would each POST. */
  #pending: Promise<string> | undefined;

  constructor(options: MsalOptions) {
    const authorityUrl = parseAuthorityHost(options.authorityHost);
    for (const name of ['tenantId', 'clientId', 'scope'] as const) {
      if (!options[name]) throw new TypeError(`MsalTokenProvider: expected a non-empty ${name}`);
    }
    if (!/^[A-Za-z0-9.-]+$/.test(options.tenantId)) {
      throw new TypeError('MsalTokenProvider: tenantId must be a tenant GUID or domain name');
    }
    this.identity = `${options.tenantId}/${options.clientId}`;
    this.#scope = options.scope;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#describe = `${authorityUrl.host} for ${this.identity}`;

    const config = msalConfiguration(options, authorityUrl);
    this.#app = new ConfidentialClientApplication(config);
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    this.#pending ??= this.#acquire().finally(() => {
      this.#pending = undefined;
    });
    return waitFor(this.#pending, this.#timeoutMs, this.#describe, signal);
  }

  /** One trip through MSAL: from its cache when the token is still fresh, else from the authority. */
  async #acquire(): Promise<string> {
    try {
      const result = await this.#app.acquireTokenByClientCredential({ scopes: [this.#scope] });
      if (!result?.accessToken) {
        throw new TokenAcquisitionError(
          `No token from ${this.#describe}: the authority answered without an access token`,
          'unrecognized_error',
          false,
        );
      }
      return result.accessToken;
    } catch (error) {
      throw toTokenAcquisitionError(error, this.#describe);
    }
  }
}

/** MSAL's configuration for this gateway: the authority, the credential, and a logger that never sees PII. */
export function msalConfiguration(options: MsalOptions, authorityUrl: URL): Configuration {
  const onLog = options.onMsalLog;
  return {
    auth: {
      clientId: options.clientId,
      authority: `${authorityUrl.origin}/${options.tenantId}`,
      ...credentialOptions(options),
      ...authorityOptionsFor(authorityUrl),
    },
    system: {
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: onLog ? LogLevel.Warning : LogLevel.Error,
        loggerCallback: (level, message, containsPii) => {
          if (!onLog || containsPii) return;
          if (level === LogLevel.Error) onLog('error', message);
          else if (level === LogLevel.Warning) onLog('warning', message);
        },
      },
    },
  };
}

/** Validates `AZURE_AUTHORITY_HOST`-style input: https (http is refused by MSAL anyway), no path or query. */
export function parseAuthorityHost(authorityHost: string): URL {
  let url: URL;
  try {
    url = new URL(authorityHost);
  } catch {
    throw new TypeError(`MsalTokenProvider: authorityHost is not a URL: ${JSON.stringify(authorityHost)}`);
  }
  if (url.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new TypeError(
      `MsalTokenProvider: authorityHost must be https://host[:port] with no path, got ${JSON.stringify(authorityHost)}`,
    );
  }
  return url;
}

/**
 * MSAL knows the Microsoft clouds; for any other host it would ask Microsoft's instance-discovery
 * endpoint whether the host is an authority (a call to the internet). Listing the host (with its port,
 * which is what MSAL compares) in `knownAuthorities` makes it trust the host and read
 * `{authority}/v2.0/.well-known/openid-configuration` from the host itself. Forced regional endpoints
 * (`MSAL_FORCE_REGION`) only exist for Microsoft hosts, and would make MSAL ask Azure IMDS for a region.
 */
function authorityOptionsFor(authorityUrl: URL): Partial<NodeAuthOptions> {
  if (MICROSOFT_AUTHORITY_HOSTS.has(authorityUrl.hostname) && authorityUrl.port === '') return {};
  return { knownAuthorities: [authorityUrl.host] };
}

/** The secret or the certificate, as MSAL wants them; a bad certificate file stops start-up here. */
function credentialOptions(
  options: MsalOptions,
): Pick<NodeAuthOptions, 'clientSecret' | 'clientCertificate'> {
  const hasSecret = Boolean(options.clientSecret);
  const hasCertificate = Boolean(options.clientCertificatePath);
  if (hasSecret === hasCertificate) {
    throw new TypeError(
      `MsalTokenProvider: expected exactly one of clientSecret and clientCertificatePath, got ${hasSecret ? 'both' : 'neither'}`,
    );
  }
  if (options.clientSecret) return { clientSecret: options.clientSecret };
  return { clientCertificate: readClientCertificate(options.clientCertificatePath as string) };
}

/**
 * Reads a PEM holding the key and the certificate (in any order; a chain may follow). MSAL signs the
 * client assertion with PS256 and names the certificate by its SHA-256 thumbprint (`x5t#S256`).
 * Error messages name the file and never quote it.
 */
function readClientCertificate(path: string): { thumbprintSha256: string; privateKey: string } {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`MsalTokenProvider: cannot read the client certificate file ${path} (${code})`, {
      cause: error,
    });
  }
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const keyPem = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/.exec(pem)?.[0];
  if (!certificatePem || !keyPem) {
    const missing = !certificatePem ? 'CERTIFICATE block' : 'unencrypted PRIVATE KEY block';
    throw new Error(`MsalTokenProvider: the client certificate file ${path} has no ${missing}`);
  }
  let certificate: X509Certificate;
  let privateKey: string;
  try {
    certificate = new X509Certificate(certificatePem);
    const key = createPrivateKey(keyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    if (!certificate.checkPrivateKey(key)) throw new Error('key does not match');
    privateKey = key.export({ format: 'pem', type: 'pkcs8' }) as string;
  } catch {
    throw new Error(
      `MsalTokenProvider: the client certificate file ${path} must hold an RSA private key and the certificate that matches it`,
    );
  }
  return { thumbprintSha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase(), privateKey };
}

/** Lets one caller give up (abort, timeout) without cancelling the acquisition other callers share. */
export function waitFor(
  pending: Promise<string>,
  timeoutMs: number,
  describe: string,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanUp();
      reject(
        new TokenAcquisitionError(
          `No token from ${describe}: no answer within ${timeoutMs} ms`,
          'timeout',
          true,
        ),
      );
    }, timeoutMs);
    const onAbort = () => {
      cleanUp();
      reject(signal?.reason);
    };
    const cleanUp = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (token) => {
        cleanUp();
        resolve(token);
      },
      (error: unknown) => {
        cleanUp();
        reject(error);
      },
    );
  });
}

/** Turns whatever MSAL threw into an error whose text we wrote ourselves from its code alone. */
export function toTokenAcquisitionError(error: unknown, describe: string): TokenAcquisitionError {
  if (error instanceof TokenAcquisitionError) return error;
  if (!(error instanceof AuthError)) {
    return new TokenAcquisitionError(
      `No token from ${describe}: unexpected failure`,
      'unrecognized_error',
      false,
    );
  }
  const errorCode = KNOWN_ERROR_CODES.has(error.errorCode) ? error.errorCode : 'unrecognized_error';
  const status = error instanceof ServerError ? error.status : undefined;
  // Typed as a string, but MSAL copies the JSON number from the authority's `error_codes`.
  const errorNo = error instanceof ServerError ? String(error.errorNo ?? '') : '';
  const aadstsCode = /^\d{1,9}$/.test(errorNo) ? errorNo : undefined;
  const retryable = RETRYABLE_ERROR_CODES.has(errorCode) || (status !== undefined && status >= 500);
  const details = [
    errorCode,
    aadstsCode ? `AADSTS${aadstsCode}` : undefined,
    typeof status === 'number' && Number.isInteger(status) ? `HTTP ${status}` : undefined,
    /^[0-9a-f-]{36}$/i.test(error.correlationId) ? `correlation id ${error.correlationId}` : undefined,
  ].filter(Boolean);
  return new TokenAcquisitionError(
    `No token from ${describe}: ${details.join(', ')}`,
    errorCode,
    retryable,
    aadstsCode,
  );
}
