import type { Server, ServerOptions } from 'node:http';

/**
 * What one TCP connection may hold: time to send its request, time to sit idle, header bytes, and how many
 * connections there may be at all. Node's own defaults let a connection that sends nothing, or a body sent
 * one byte at a time, stay open for minutes, and accept connections without end.
 */
export interface HttpLimits {
  /**
   * Time a client has to send a whole request, headers and body, counted from its first byte (ms); then it
   * gets 408 and its connection is closed. Stops counting once the request is in: an operation that runs
   * longer is not cut by it. Default 30,000.
   */
  readonly requestTimeoutMs: number;
  /**
   * Time a client has to send a request's headers (ms), counted from the connection for its first request:
   * a connection that sends nothing is closed after it (408). At most `requestTimeoutMs`. Default 10,000.
   */
  readonly headersTimeoutMs: number;
  /** How long a kept-alive connection may sit idle between two requests (ms). Default 5,000. */
  readonly keepAliveTimeoutMs: number;
  /**
   * A connection on which no byte moves either way for this long is destroyed (ms): a client that stops
   * reading its answer. Must exceed the operation deadline, as a connection is silent while its operation
   * waits for the upstream budget. Default 60,000.
   */
  readonly socketTimeoutMs: number;
  /** Most bytes of a request's line and headers; past it, 431 and the connection is closed. Default 16,384. */
  readonly maxHeaderBytes: number;
  /** Most open connections; one more is closed as soon as it is accepted. Default 1,000. */
  readonly maxConnections: number;
}

/** The defaults of {@link HttpLimits}, read by `config.ts` and by `createServer` when a test gives none. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  socketTimeoutMs: 60_000,
  maxHeaderBytes: 16_384,
  maxConnections: 1_000,
});

/**
 * Fastify's and Node's options for these limits. Node checks the request and headers timeouts on a timer
 * (every 30 s by default, so a 10 s timeout could take 40): here it runs often enough that a timeout is
 * enforced within a small fraction of itself.
 */
export function httpServerOptions(limits: HttpLimits): {
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionTimeout: number;
  http: ServerOptions;
} {
  // Node refuses a headers timeout longer than the request timeout; the headers are part of the request.
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.socketTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
  };
}

/**
 * Caps the server's open connections. Node closes a connection past the cap as soon as it accepts it, and
 * tells `onDrop`; the connections already open are not disturbed.
 */
export function capConnections(server: Server, maxConnections: number, onDrop?: () => void): void {
  server.maxConnections = maxConnections;
  if (onDrop) server.on('drop', onDrop);
}
