import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatError, overloaded } from '../errors.js';

/** Default of MAX_INFLIGHT_OPERATIONS. */
export const DEFAULT_MAX_INFLIGHT_OPERATIONS = 100;

/** What a refused operation is told to wait before it retries (s). */
export const SHED_RETRY_AFTER_SECONDS = 1;

export interface InFlightLimitOptions {
  /** Most GraphQL requests running at once; one more is refused at once. */
  readonly max: number;
  /** The number running changed (for the in-flight gauge). */
  readonly onCount?: (inFlight: number) => void;
  /** A request was refused at the cap. */
  readonly onShed?: () => void;
}

/**
 * The GraphQL route's pre-handler that bounds how many operations run at once. One more than `max` is answered
 * at once, before Apollo reads it and so before any upstream call: 503 with `Retry-After` and a GraphQL error
 * RATE_LIMITED with `retryAfterSeconds`. Runs after authentication and body parsing, so neither an
 * unauthenticated caller nor a slow upload holds a place. A place is freed when its response is written or
 * its client goes away. A batched request (a JSON array) takes one place.
 */
export function inFlightLimit(options: InFlightLimitOptions) {
  const { max, onCount, onShed } = options;
  let inFlight = 0;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    // A CORS preflight runs no operation.
    if (request.method === 'OPTIONS') return;
    if (inFlight >= max) {
      onShed?.();
      const error = overloaded(SHED_RETRY_AFTER_SECONDS);
      await reply
        .code(503)
        .header('retry-after', String(SHED_RETRY_AFTER_SECONDS))
        .type('application/json; charset=utf-8')
        .send({ errors: [formatError({ message: error.message }, error)] });
      return reply;
    }
    inFlight += 1;
    onCount?.(inFlight);
    reply.raw.once('close', () => {
      inFlight -= 1;
      onCount?.(inFlight);
    });
  };
}
