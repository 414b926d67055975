import { isIP } from 'node:net';
import type { HttpLimits } from '../http/connection-limits.js';
import { DEFAULT_HTTP_LIMITS } from '../http/connection-limits.js';
import type { EnvReader } from './env.js';

/** `HOST`: an IP address or a host name to listen on; undefined when unset. */
export function parseHost({ read, fail }: EnvReader): string | undefined {
  const raw = read('HOST');
  if (raw === undefined) return undefined;
  if (isIP(raw) === 0 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(raw)) {
    fail('HOST', `expected an IP address or a host name, got "${raw}"`);
  }
  return raw;
}

/**
 * The connection limits. The headers timeout is part of the request timeout (Node refuses it longer), and the
 * socket timeout must outlast the longest silence of a connection whose operation runs: the wait for the
 * upstream budget (REQUEST_DEADLINE_MS) and then one upstream call (DEFENDER_TIMEOUT_MS).
 */
export function parseHttpLimits({ int, fail }: EnvReader, longestSilenceMs: number): HttpLimits {
  const limits: HttpLimits = {
    requestTimeoutMs: int('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 1),
    headersTimeoutMs: int('HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.headersTimeoutMs, 1),
    keepAliveTimeoutMs: int('HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 1),
    socketTimeoutMs: int('HTTP_SOCKET_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.socketTimeoutMs, 1),
    // Below about 1 KiB not even a request line and the usual headers fit.
    maxHeaderBytes: int('HTTP_MAX_HEADER_BYTES', DEFAULT_HTTP_LIMITS.maxHeaderBytes, 1_024),
    maxConnections: int('HTTP_MAX_CONNECTIONS', DEFAULT_HTTP_LIMITS.maxConnections, 1),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    fail('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  if (limits.socketTimeoutMs <= longestSilenceMs) {
    fail(
      'HTTP_SOCKET_TIMEOUT_MS',
      `must exceed REQUEST_DEADLINE_MS + DEFENDER_TIMEOUT_MS (${longestSilenceMs}), or a running operation is cut`,
    );
  }
  return limits;
}
