import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationArgs } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fastify';
import type { LiveEngine, LiveCaller } from './engine.js';

/** The engine keeps what it needs of a subscription under its context object. */
type Context = Record<PropertyKey, unknown>;

/** Whether a request asks for GraphQL over Server-Sent Events (graphql-sse sends exactly this `Accept`). */
export function wantsEventStream(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.headers.accept?.trim() === 'text/event-stream';
}

/**
 * GraphQL over Server-Sent Events, `graphql-sse`'s distinct connections mode: a `POST /graphql` with
 * `Accept: text/event-stream` carries one subscription and gets one stream (`event: next` per change, then
 * `event: complete`; a comment every 12 s keeps it alive). It runs after the route's hooks, so the router's
 * secret and the bearer token are checked as for any request; the engine does the rest. A refused subscription
 * is one `next` with its errors, then `complete`. The single-connection mode (reservations with a token) is
 * off: every stream is its own.
 */
export function sseHandler(
  engine: LiveEngine,
  callerOf: (request: FastifyRequest) => LiveCaller,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const handle = createHandler<Context>({
    authenticate: () => null,
    onSubscribe: async (req, params) => {
      const prepared = await engine.prepare(params, callerOf(req.raw), 'sse');
      return Array.isArray(prepared) ? { errors: prepared } : (prepared as OperationArgs<Context>);
    },
    subscribe: (args) => engine.subscribe(args),
  });
  return async (request, reply) => {
    // The stream is written by graphql-sse on the raw response, for as long as the subscription lasts.
    reply.hijack();
    await handle(request, reply);
  };
}
