import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { onRequestHookHandler } from 'fastify';
import { ErrorCode, httpRefusal } from '../errors.js';
import { sendRefusal } from '../http/refusals.js';

/** The header the federation router sends the shared secret in. */
export const ROUTER_SECRET_HEADER = 'x-router-secret';

/**
 * Router-only access: a fastify `onRequest` hook that answers 401, before any GraphQL work, a `/graphql`
 * request (any method; `_service` and `_entities` included) that does not carry the shared secret in
 * {@link ROUTER_SECRET_HEADER}. Both sides are hashed first, so the comparison takes the same time whatever
 * the length or the content of the guess.
 */
export function routerOnly(secret: string): onRequestHookHandler {
  const carries = carriesRouterSecret(secret);
  return async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    if (carries(request.headers)) return;
    return sendRefusal(reply, UNAUTHORIZED);
  };
}

/** Whether request headers carry the shared secret, compared in constant time (also for WebSocket upgrades). */
export function carriesRouterSecret(secret: string): (headers: IncomingHttpHeaders) => boolean {
  const expected = digest(secret);
  return (headers) => {
    const given = headers[ROUTER_SECRET_HEADER];
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  };
}

const UNAUTHORIZED = httpRefusal(
  401,
  ErrorCode.Unauthenticated,
  `Only the federation router may call this subgraph: the ${ROUTER_SECRET_HEADER} header is missing or wrong.`,
);

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
