import type { EnvReader } from './env.js';
import { secureUrl } from './env.js';

/** Inbound authentication: Entra ID bearer tokens, or none (explicit, logged as a warning). */
export type InboundAuth =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'jwt';
      readonly issuer: string;
      readonly audience: string;
      readonly jwksUri: URL;
      readonly algorithms: readonly string[];
      readonly requiredRole?: string;
      readonly requiredScope?: string;
      /** The app role or delegated scope a caller needs for any mutation (`AUTH_WRITE_ROLE`). */
      readonly writeRole: string;
    };

/** `AUTH_MODE` and the `AUTH_*` settings of jwt: jwt by default in front of a real Defender, none otherwise. */
export function parseInboundAuth(reader: EnvReader, realDefender: boolean): InboundAuth {
  const { read, fail } = reader;
  const mode = read('AUTH_MODE') ?? (realDefender ? 'jwt' : 'none');
  if (mode === 'none') return { mode };
  if (mode !== 'jwt') return fail('AUTH_MODE', `expected "jwt" or "none", got "${mode}"`);
  const required = (name: string) => read(name) ?? fail(name, 'required when AUTH_MODE=jwt');
  const issuer = required('AUTH_ISSUER');
  const audience = required('AUTH_AUDIENCE');
  const jwksUri = secureUrl(reader, 'AUTH_JWKS_URI', required('AUTH_JWKS_URI'));
  const algorithms = (read('AUTH_ALGORITHMS') ?? 'RS256').split(',').map((a) => a.trim());
  if (algorithms.some((a) => !/^(RS|PS|ES)(256|384|512)$/.test(a))) {
    fail('AUTH_ALGORITHMS', 'expected asymmetric JWS algorithms such as RS256 (never none or HS*)');
  }
  const requiredRole = read('AUTH_REQUIRED_ROLE');
  const requiredScope = read('AUTH_REQUIRED_SCOPE');
  const writeRole = read('AUTH_WRITE_ROLE') ?? 'DefenderGraph.Triage';
  if (!/^[\x21-\x7e]+$/.test(writeRole))
    fail('AUTH_WRITE_ROLE', 'expected one role or scope name, no spaces');
  return {
    mode,
    writeRole,
    issuer,
    audience,
    jwksUri,
    algorithms,
    ...(requiredRole ? { requiredRole } : {}),
    ...(requiredScope ? { requiredScope } : {}),
  };
}

/** `ROUTER_SECRET` goes in a header as it is: visible ASCII, and long enough not to be guessed. */
export function parseRouterSecret({ read, fail }: EnvReader): { routerSecret?: string } {
  const raw = read('ROUTER_SECRET');
  if (raw === undefined) return {};
  if (!/^[\x21-\x7e]{16,}$/.test(raw)) {
    fail('ROUTER_SECRET', 'expected at least 16 visible ASCII characters (no spaces)');
  }
  return { routerSecret: raw };
}
