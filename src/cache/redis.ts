import { createClient } from 'redis';

/** The node-redis client the shared cache and the shared limiter use. */
export type RedisConnection = ReturnType<typeof newClient>;

function newClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), 1_000),
    },
  });
}

export interface RedisConnectionOptions {
  /** Called with every connection error (the client keeps reconnecting on its own). */
  readonly onError?: (error: unknown) => void;
}

/**
 * A client for `CACHE_URL` that never hangs a caller and never ends the process:
 * - the offline queue is off, so while Redis is unreachable every command fails at once instead of waiting;
 * - it reconnects by itself, backing off up to 1 s, for as long as the process lives;
 * - 'error' always has a listener (node-redis ends the process on an unhandled one).
 * It connects in the background: callers do not wait for Redis to start serving.
 */
export function connectRedis(url: string, options: RedisConnectionOptions = {}): RedisConnection {
  const client = newClient(url);
  client.on('error', (error: unknown) => options.onError?.(error));
  client.connect().catch((error: unknown) => options.onError?.(error));
  return client;
}

/** Closes the client without waiting on a Redis that may be gone. */
export async function closeRedis(client: RedisConnection): Promise<void> {
  if (client.isOpen) client.destroy();
}

/** `promise`, or a rejection after `ms`: a Redis that does not answer in time counts as failed. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
