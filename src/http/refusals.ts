import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyServerOptions } from 'fastify';
import type { HttpRefusal } from '../errors.js';
import { ErrorCode, frameworkRefusal, httpRefusal } from '../errors.js';
import type { Logger } from '../ops/logger.js';

/** Methods a route may answer, to tell an unknown path (404) from a known path asked with another method (405). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Sends a refusal as a GraphQL-over-HTTP error body. */
export function sendRefusal(reply: FastifyReply, refusal: HttpRefusal): FastifyReply {
  return reply
    .code(refusal.status)
    .headers(refusal.headers)
    .type('application/json; charset=utf-8')
    .send(refusal.body);
}

/**
 * Fastify's options for refusals made before any route or hook runs: a URL Fastify cannot decode
 * (`frameworkErrors`), and a request Node's HTTP parser rejects, e.g. headers or a URL over the 16 kB header
 * limit (`clientErrorHandler`, written straight to the socket). Both answer in the one error shape.
 */
export const refusalOptions = {
  frameworkErrors: (error, _request, reply) => void sendRefusal(reply, frameworkRefusal(error)),
  clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
    // Nothing to answer on a connection the client already reset.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const refusal = frameworkRefusal({ code: error.code, statusCode: 400 });
    const body = JSON.stringify(refusal.body);
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroySoon();
  },
} satisfies Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'>;

export interface RefusalsOptions {
  /** Where an unexpected error (a bug, answered as a masked 500) is logged. Default: nowhere. */
  readonly logger?: Logger;
}

/**
 * Every refusal of the HTTP layer in the one error shape: `{"errors":[{"message","extensions":{"code"}}]}`
 * with a contract code and the right status (413 for a body over the limit, 415 for a body that is not JSON,
 * 400 for invalid JSON, 404 for an unknown path, 405 with `Allow` for a known path asked with another method),
 * never Fastify's own body (`FST_ERR_*`, `statusCode`) and never a stack.
 */
export function registerRefusals(app: FastifyInstance, options: RefusalsOptions = {}): void {
  app.setErrorHandler(async (error, request, reply) => {
    const refusal = frameworkRefusal(typeof error === 'object' && error !== null ? error : {});
    // Its name and code only: an unexpected error's message may quote an upstream URL or worse.
    if (refusal.status >= 500) {
      const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
      options.logger?.error(
        { requestId: request.id, error: { name: String(name), code: String(code) } },
        'unexpected error',
      );
    }
    return sendRefusal(reply, refusal);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = METHODS.filter((method) => app.hasRoute({ url: path, method }));
    if (allowed.length === 0) {
      return sendRefusal(
        reply,
        httpRefusal(404, ErrorCode.BadUserInput, 'Not found: GraphQL is served at /graphql.'),
      );
    }
    const allow = allowed.join(', ');
    return sendRefusal(
      reply,
      httpRefusal(405, ErrorCode.BadUserInput, `This method is not allowed here; allowed: ${allow}.`, {
        allow,
      }),
    );
  });
}
