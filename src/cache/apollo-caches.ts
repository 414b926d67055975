import type { DocumentNode } from 'graphql';
import type { LRUCache } from 'lru-cache';
import { createByteCache, documentBytes } from './budget.js';

/** Apollo's key-value cache interface (`@apollo/utils.keyvaluecache`), with `ttl` in seconds. */
export interface ByteBoundedKeyValueCache<V> {
  get(key: string): Promise<V | undefined>;
  set(key: string, value: V, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Estimated heap bytes held. */
  readonly bytes: number;
}

/**
 * Apollo's parsed and validated documents (`documentStore`), bounded by their estimated heap bytes. Apollo's
 * default store is bounded at 30 MiB of the documents' JSON length, a quarter of what they hold on the heap
 * (cache/budget.ts), and every distinct document (another comment, another alias) is a new entry.
 */
export function documentStore(maxBytes: number): ByteBoundedKeyValueCache<DocumentNode> {
  return keyValueCache(
    createByteCache<DocumentNode>({ maxBytes, sizeOf: (doc, key) => documentBytes(doc) + key.length * 2 }),
  );
}

/**
 * The query texts of automatic persisted queries (Apollo's `cache`), bounded by bytes: two a character, as a
 * text outside Latin-1 is stored.
 */
export function persistedQueryCache(maxBytes: number): ByteBoundedKeyValueCache<string> {
  return keyValueCache(
    createByteCache<string>({ maxBytes, sizeOf: (text, key) => 200 + (text.length + key.length) * 2 }),
  );
}

/** Apollo's interface over an LRU cache. */
function keyValueCache<V extends NonNullable<unknown>>(
  lru: LRUCache<string, V>,
): ByteBoundedKeyValueCache<V> {
  return {
    async get(key) {
      return lru.get(key);
    },
    async set(key, value, options) {
      const ttlSeconds = options?.ttl;
      lru.set(key, value, ttlSeconds ? { ttl: ttlSeconds * 1000 } : {});
    },
    async delete(key) {
      return lru.delete(key);
    },
    get bytes() {
      return lru.calculatedSize;
    },
  };
}
