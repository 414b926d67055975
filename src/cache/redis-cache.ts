import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { UpstreamCache } from './entity-cache.js';
import type { RedisConnection } from './redis.js';

export interface RedisCacheOptions {
  /** Prefix of every key (keyv namespace), so several gateways or test runs can share one Redis. */
  readonly namespace?: string;
  /** Bound on every get and set (ms); past it the call is a miss. Default: UpstreamCache's. */
  readonly timeoutMs?: number;
}

/**
 * The cache shared by every replica: keyv over Redis, values JSON-serialised. A Redis that is down or slow
 * makes reads misses and writes no-ops within the cache's timeout (UpstreamCache), never a hang or a crash.
 */
export function createRedisCache(client: RedisConnection, options: RedisCacheOptions = {}): UpstreamCache {
  const store = new KeyvRedis(client as never, { throwOnConnectError: false, throwOnErrors: false });
  // The adapter re-emits client and command errors; keyv forwards them, and UpstreamCache listens on keyv.
  store.on('error', () => {});
  // keyv's default serialiser: JSON text in Redis (the memory cache alone keeps objects as they are).
  const keyv = new Keyv({ store, namespace: options.namespace ?? 'defender-graph' });
  return new UpstreamCache(keyv, options.timeoutMs);
}
