import type { DefenderApi } from '../defender/apis.js';
import { UPSTREAM_APIS } from '../defender/apis.js';
import type { EnvReader } from './env.js';
import { secureUrl } from './env.js';

/** How the gateway authenticates to Defender. */
export type DefenderCredentials =
  | { readonly kind: 'static'; readonly token: string }
  | {
      readonly kind: 'msal';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret?: string;
      readonly clientCertificatePath?: string;
      readonly authorityHost: string;
      readonly scope: string;
    }
  /** The embedded simulator's own token. */
  | { readonly kind: 'simulator' };

/** Sign-in host and Defender scope per cloud (`docs/defender-api.md` §5). */
export const CLOUDS = {
  commercial: {
    authorityHost: 'https://login.microsoftonline.com',
    scope: 'https://api.securitycenter.microsoft.com/.default',
  },
  gcc: {
    authorityHost: 'https://login.microsoftonline.com',
    scope: 'https://api-gcc.securitycenter.microsoft.us/.default',
  },
  'gcc-high': {
    authorityHost: 'https://login.microsoftonline.us',
    scope: 'https://api-gov.securitycenter.microsoft.us/.default',
  },
  dod: {
    authorityHost: 'https://login.microsoftonline.us',
    scope: 'https://api-gov.securitycenter.microsoft.us/.default',
  },
} as const;

/** `DEFENDER_API_URL`: Defender's base URL, without `/api`; undefined runs the embedded simulator. */
export function parseDefenderUrl(reader: EnvReader): URL | undefined {
  const { read, fail } = reader;
  const raw = read('DEFENDER_API_URL');
  if (raw === undefined) return undefined;
  const url = secureUrl(reader, 'DEFENDER_API_URL', raw);
  if (url.username || url.password || url.search || url.hash) {
    fail('DEFENDER_API_URL', 'must not carry credentials, a query or a fragment');
  }
  if (/\/api\/?$/.test(url.pathname)) fail('DEFENDER_API_URL', 'give the base URL without /api');
  return url;
}

/** MSAL client credentials (a secret or a certificate), a static token, or the embedded simulator's. */
export function parseCredentials({ read, fail }: EnvReader, realDefender: boolean): DefenderCredentials {
  const tenantId = read('AZURE_TENANT_ID');
  const clientId = read('AZURE_CLIENT_ID');
  const clientSecret = read('AZURE_CLIENT_SECRET');
  const clientCertificatePath = read('AZURE_CLIENT_CERTIFICATE_PATH');
  const token = read('DEFENDER_TOKEN');
  if (tenantId || clientId || clientSecret || clientCertificatePath) {
    if (!tenantId) fail('AZURE_TENANT_ID', 'required with AZURE_CLIENT_ID');
    if (!clientId) fail('AZURE_CLIENT_ID', 'required with AZURE_TENANT_ID');
    if (!clientSecret && !clientCertificatePath) {
      fail('AZURE_CLIENT_SECRET', 'set it or AZURE_CLIENT_CERTIFICATE_PATH');
    }
    const cloudName = read('DEFENDER_CLOUD') ?? 'commercial';
    if (!(cloudName in CLOUDS)) fail('DEFENDER_CLOUD', `expected one of ${Object.keys(CLOUDS).join(', ')}`);
    const cloud = CLOUDS[cloudName as keyof typeof CLOUDS];
    const authorityHost = read('AZURE_AUTHORITY_HOST') ?? cloud.authorityHost;
    if (!/^https:\/\/[^/?#]+\/?$/.test(authorityHost)) fail('AZURE_AUTHORITY_HOST', 'expected https://host');
    return {
      kind: 'msal',
      tenantId: tenantId!,
      clientId: clientId!,
      ...(clientSecret ? { clientSecret } : {}),
      ...(clientCertificatePath ? { clientCertificatePath } : {}),
      authorityHost: authorityHost.replace(/\/$/, ''),
      scope: read('DEFENDER_SCOPE') ?? cloud.scope,
    };
  }
  if (token) return { kind: 'static', token };
  if (realDefender) {
    return fail(
      'DEFENDER_TOKEN',
      'DEFENDER_API_URL needs credentials: DEFENDER_TOKEN or AZURE_TENANT_ID/AZURE_CLIENT_ID',
    );
  }
  return { kind: 'simulator' };
}

/** `CACHE_TTL_SECONDS` for every API, then `CACHE_TTLS` ("api=seconds,…") per API, in ms. */
export function parseCacheTtls({ read, fail, int }: EnvReader): Readonly<Record<DefenderApi, number>> {
  const defaultTtl = int('CACHE_TTL_SECONDS', 60) * 1000;
  const cacheTtlMs = Object.fromEntries(UPSTREAM_APIS.map((api) => [api, defaultTtl])) as Record<
    DefenderApi,
    number
  >;
  for (const entry of (read('CACHE_TTLS') ?? '').split(',').filter((e) => e.trim() !== '')) {
    const [api, seconds] = entry.trim().split('=');
    if (!UPSTREAM_APIS.includes(api as DefenderApi) || !/^\d+$/.test(seconds ?? '')) {
      fail('CACHE_TTLS', `expected "api=seconds" with an API of ${UPSTREAM_APIS.join(', ')}; got "${entry}"`);
    }
    cacheTtlMs[api as DefenderApi] = Number(seconds) * 1000;
  }
  return Object.freeze(cacheTtlMs);
}
