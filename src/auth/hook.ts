import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JwtAuthenticator, Principal } from './jwt.js';
import { ErrorCode, GatewayError, httpRefusal } from '../errors.js';
import { sendRefusal } from '../http/refusals.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (AUTH_MODE=jwt). */
    principal?: Principal;
  }
}

/**
 * Inbound authentication, before anything else runs: a request to the GraphQL endpoint without a valid bearer
 * token is answered 401 (403 without the required role or scope) with a GraphQL-shaped error, before parsing,
 * before any MSAL or Defender call. `check` may refuse an authenticated caller too (on-behalf-of needs a user).
 *
 * It makes no exception of its own: a browser's GET of the GraphiQL page needs no token only because the
 * GraphiQL hook, registered before this one, answers it first. Guessing "a browser" from `Accept` here would
 * let `Accept: application/json, text/html` run an operation with no token at all (the page goes only to a
 * request that prefers HTML; the rest are GraphQL requests).
 */
export function authenticationHook(authenticator: JwtAuthenticator, check?: (principal: Principal) => void) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization);
      check?.(request.principal);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      const status = error.code === ErrorCode.Forbidden ? 403 : 401;
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      const challenge =
        status === 403
          ? 'Bearer error="insufficient_scope"'
          : request.headers.authorization === undefined
            ? 'Bearer'
            : 'Bearer error="invalid_token"';
      await sendRefusal(
        reply,
        httpRefusal(status, error.code, error.message, { 'WWW-Authenticate': challenge }),
      );
    }
  };
}
