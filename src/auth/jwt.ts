import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { ErrorCode, GatewayError } from '../errors.js';

/** Who called, as the inbound token says. */
export interface Principal {
  /** A stable, non-secret name for the caller: `tid/oid` for a user, `tid/app:azp` for an application. */
  readonly id: string;
  /** True for a user (delegated) token: it carries `scp` and an `oid`. Only users can go on-behalf-of. */
  readonly isUser: boolean;
  readonly tenantId: string | undefined;
  /** The app roles (`roles`) and delegated scopes (`scp`, space-separated) the token grants. */
  readonly grants: ReadonlySet<string>;
  /** The raw bearer token, for the on-behalf-of exchange only; never logged or stored. */
  readonly token: string;
}

export interface JwtAuthOptions {
  /** Expected `iss`, e.g. `https://login.microsoftonline.com/{tenant}/v2.0`. */
  readonly issuer: string;
  /** Expected `aud`: the gateway's application id URI or client id. */
  readonly audience: string;
  /** The authority's signing keys (Entra: `https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys`). */
  readonly jwksUri: URL;
  /** Signature algorithms accepted; anything else (`none` included) is refused. Default RS256 (Entra's). */
  readonly algorithms?: readonly string[];
  /** An app role (`roles` claim) the caller must hold, if set. */
  readonly requiredRole?: string;
  /** A delegated scope (`scp` claim) the caller must hold, if set. Either one suffices when both are set. */
  readonly requiredScope?: string;
  /** Allowed clock skew for `exp` and `nbf` (s). Default 60. */
  readonly clockToleranceSeconds?: number;
  /** Key source override (tests, or a key set fetched otherwise). */
  readonly keys?: JWTVerifyGetKey;
}

/**
 * Validates inbound Entra ID bearer tokens with `jose`: signature against the authority's JWKS (cached and
 * refreshed by jose), pinned algorithms, issuer, audience, expiry. A missing or invalid token is
 * UNAUTHENTICATED, a valid token without the required role or scope FORBIDDEN; the reason stays out of the
 * client's message (it could help an attacker tune a forgery) but is given to `onRejected` for the logs.
 */
export class JwtAuthenticator {
  readonly #keys: JWTVerifyGetKey;

  constructor(private readonly options: JwtAuthOptions) {
    this.#keys =
      options.keys ??
      createRemoteJWKSet(options.jwksUri, { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    // The scheme name is case-insensitive (RFC 7235 §2.1); the token is RFC 6750's b64token.
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '');
    if (!match) throw unauthenticated('A bearer token is required.');
    const token = match[1]!;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...(this.options.algorithms ?? ['RS256'])],
        clockTolerance: this.options.clockToleranceSeconds ?? 60,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError || error instanceof TypeError) {
        throw unauthenticated('The bearer token is not valid for this API.', error);
      }
      throw error;
    }
    const principal = principalOf(payload, token);
    if (!this.#authorized(payload)) {
      throw new GatewayError(
        ErrorCode.Forbidden,
        'The bearer token lacks the role or scope this API requires.',
      );
    }
    return principal;
  }

  #authorized(payload: JWTPayload): boolean {
    const { requiredRole, requiredScope } = this.options;
    if (!requiredRole && !requiredScope) return true;
    const roles = Array.isArray(payload['roles']) ? (payload['roles'] as unknown[]) : [];
    const scopes = typeof payload['scp'] === 'string' ? payload['scp'].split(' ') : [];
    return (
      (requiredRole !== undefined && roles.includes(requiredRole)) ||
      (requiredScope !== undefined && scopes.includes(requiredScope))
    );
  }
}

function principalOf(payload: JWTPayload, token: string): Principal {
  const tid = typeof payload['tid'] === 'string' ? payload['tid'] : undefined;
  const oid = typeof payload['oid'] === 'string' ? payload['oid'] : undefined;
  const appId = [payload['azp'], payload['appid']].find((v): v is string => typeof v === 'string');
  const isUser = oid !== undefined && typeof payload['scp'] === 'string';
  const who = isUser ? oid : `app:${appId ?? payload.sub ?? 'unknown'}`;
  const roles = Array.isArray(payload['roles'])
    ? payload['roles'].filter((r): r is string => typeof r === 'string')
    : [];
  const scopes = typeof payload['scp'] === 'string' ? payload['scp'].split(' ').filter(Boolean) : [];
  const grants = new Set([...roles, ...scopes]);
  return { id: `${tid ?? 'unknown'}/${who}`, isUser, tenantId: tid, grants, token };
}

function unauthenticated(message: string, cause?: unknown): GatewayError {
  return new GatewayError(
    ErrorCode.Unauthenticated,
    message,
    {},
    cause === undefined ? undefined : { cause },
  );
}
