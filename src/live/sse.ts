import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GraphQLError } from 'graphql';
import type { OperationArgs, Response } from 'graphql-sse';
import { createHandler } from 'graphql-sse/lib/use/fastify';
import { ErrorCode, httpRefusal } from '../errors.js';
import { sendRefusal } from '../http/refusals.js';
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
 * secret and the bearer token are checked as for any request; the engine does the rest. A subscription the
 * engine refuses before it runs (a document that does not parse or validate, a query, one too expensive) is
 * answered as a query would be: a JSON body in the one error shape, with its status; one its resolver refuses
 * (a bad filter, the subscription cap) is one `next` with its errors, then `complete`. The single-connection
 * mode (reservations with a token) is off: every stream is its own.
 */
export function sseHandler(
  engine: LiveEngine,
  callerOf: (request: FastifyRequest) => LiveCaller,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const handle = createHandler<Context>({
    authenticate: () => null,
    onSubscribe: async (req, params) => {
      const prepared = await engine.prepare(params, callerOf(req.raw), 'sse', req.raw.headers);
      // graphql-sse takes `{ errors }` without `data` for arguments (and answers a bare message of its own).
      return Array.isArray(prepared) ? refusal(prepared) : (prepared as OperationArgs<Context>);
    },
    subscribe: (args) => engine.subscribe(args),
  });
  return async (request, reply) => {
    // graphql-sse answers a malformed request with a bare message of its own: refused here in the one shape.
    const malformed = malformedParams(request.body);
    if (malformed) return sendRefusal(reply, httpRefusal(400, ErrorCode.BadUserInput, malformed));
    // The stream is written by graphql-sse on the raw response, for as long as the subscription lasts.
    reply.hijack();
    await handle(request, reply);
  };
}

/** What is wrong with a stream request's parameters, as graphql-sse checks them; undefined when nothing is. */
function malformedParams(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Expected a JSON object body.';
  const { query, variables, operationName, extensions } = body as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (typeof query !== 'string' || query === '') return 'The request needs a `query` string.';
  if (variables != null && !isObject(variables)) return '`variables` must be an object.';
  if (operationName != null && typeof operationName !== 'string') return '`operationName` must be a string.';
  if (extensions != null && !isObject(extensions)) return '`extensions` must be an object.';
  return undefined;
}

/** A subscription refused before it runs, as graphql-sse sends a response: JSON, the one error shape, a 4xx. */
function refusal(errors: readonly GraphQLError[]): Response {
  const codes = errors.map((e) => e.extensions['code']);
  const status = codes.includes(ErrorCode.RateLimited)
    ? 429
    : codes.includes(ErrorCode.Unauthenticated)
      ? 401
      : codes.includes(ErrorCode.Forbidden)
        ? 403
        : 400;
  const retryAfter = errors.find((e) => typeof e.extensions['retryAfterSeconds'] === 'number')?.extensions[
    'retryAfterSeconds'
  ];
  return [
    JSON.stringify({ errors }),
    {
      status,
      statusText: STATUS_CODES[status] ?? '',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        ...(retryAfter !== undefined && { 'retry-after': String(retryAfter) }),
      },
    },
  ];
}
