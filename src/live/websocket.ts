import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleProtocols } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/jwt.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { LiveEngine } from './engine.js';

export interface WebSocketOptions {
  /** The HTTP server whose upgrades of `/graphql` become GraphQL WebSocket connections. */
  readonly server: Server;
  readonly engine: LiveEngine;
  /**
   * Inbound authentication of a connection, from the `Authorization` of its `connection_init` payload or else of
   * its upgrade request; absent, every caller is trusted (AUTH_MODE=none). Throws to refuse it.
   */
  readonly authenticate?: (authorization: string | undefined) => Promise<Principal>;
  /** Whether the upgrade request may go on (the federation router's shared secret); absent, every one may. */
  readonly admits?: (request: IncomingMessage) => boolean;
  /** Most subscriptions one connection may hold; one more is RATE_LIMITED. */
  readonly maxPerConnection: number;
  /** Between keep-alive pings (ms); a peer that does not answer one is closed. Default 12,000. */
  readonly keepAliveMs?: number;
  /** Most bytes one message may have (the HTTP body limit). */
  readonly maxPayloadBytes: number;
}

/** What the caller learns of the connections: a way to end them all, gracefully. */
export interface WebSocketTransport {
  /** Refuses new connections, waits (at most `graceMs`) for every completed stream to be told, then closes all. */
  close(graceMs?: number): Promise<void>;
}

// A type, not an interface: graphql-ws wants a record.
type Extra = { principal?: Principal };

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, the `graphql-ws` library) on the `upgrade` of `GET /graphql`:
 * the shared secret is checked on the upgrade request, the bearer token on `connection_init` (refused: close
 * 4403), and each subscription goes through the engine (validation, limits, cost, then execution); the library
 * pings every `keepAliveMs` and completes each stream when the hub ends it. Other paths are refused 404.
 */
export function attachWebSocket(options: WebSocketOptions): WebSocketTransport {
  const wss = new WebSocketServer({ noServer: true, handleProtocols, maxPayload: options.maxPayloadBytes });
  let closing = false;
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = request.url?.split('?')[0];
    if (closing || path !== '/graphql') return refuse(socket, closing ? 503 : 404);
    if (options.admits && !options.admits(request)) return refuse(socket, 401);
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.server.on('upgrade', onUpgrade);
  const connections = new Set<{ readonly subscriptions: Record<string, unknown> }>();

  const served = useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        connections.add(ctx);
        if (!options.authenticate) return true;
        const given = authorizationIn(ctx.connectionParams) ?? ctx.extra.request.headers.authorization;
        try {
          ctx.extra.principal = await options.authenticate(given);
          return true;
        } catch {
          return false;
        }
      },
      onClose: (ctx) => {
        connections.delete(ctx);
      },
      onSubscribe: async (ctx, _id, payload) => {
        // The count includes the subscription being made.
        if (Object.keys(ctx.subscriptions).length > options.maxPerConnection) {
          return options.engine.refusal(
            new GatewayError(
              ErrorCode.RateLimited,
              `A connection may hold ${options.maxPerConnection} subscriptions; complete one first.`,
              { retryAfterSeconds: 1 },
            ),
          );
        }
        const { request } = ctx.extra;
        const address = request.socket.remoteAddress ?? 'unknown';
        // The upgrade request's headers: its `traceparent` is the trace context of every subscription's start.
        return options.engine.prepare(
          payload,
          { principal: ctx.extra.principal, caller: `ip:${address}` },
          'websocket',
          request.headers,
        );
      },
      subscribe: (args) => options.engine.subscribe(args),
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  let closed: Promise<void> | undefined;
  return {
    // Once: a second close (the server's and a test's, say) must not close the WebSocket server again, which
    // `ws` answers with "The server is not running".
    close(graceMs = 2_000) {
      return (closed ??= closeOnce(graceMs));
    },
  };

  async function closeOnce(graceMs: number): Promise<void> {
    closing = true;
    options.server.off('upgrade', onUpgrade);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...connections].some((c) => Object.keys(c.subscriptions).length > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    try {
      await served.dispose();
    } catch (error) {
      if (!(error instanceof Error && /not running/.test(error.message))) throw error;
    }
  }
}

/** `Authorization` (any case) of a `connection_init` payload, when it is a string. */
function authorizationIn(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  const key = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  const value = key === undefined ? undefined : params[key];
  return typeof value === 'string' ? value : undefined;
}

const REASONS: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/** Answers an upgrade that may not go on with a bare HTTP status, and closes the socket. */
function refuse(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
