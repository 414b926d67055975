import type { DocumentNode } from 'graphql';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { LRUCache } from 'lru-cache';

/** `CACHE_MAX_MB`'s default: a quarter of a 512 MiB container, the rest left to requests in flight and Node. */
export const DEFAULT_CACHE_MAX_MB = 128;

/** Bytes of heap each in-process cache may hold (estimated, see below); their sum is `CACHE_MAX_MB`. */
export interface CacheBudget {
  /** Upstream answers (cache/entity-cache.ts); 0 when they are kept in Redis (`CACHE_URL`). */
  readonly entities: number;
  /** Whole operation results (cache/response-cache.ts). */
  readonly responses: number;
  /** Parsed and validated documents (Apollo's `documentStore`). */
  readonly documents: number;
  /** Query texts registered by automatic persisted queries (Apollo's `cache`). */
  readonly persistedQueries: number;
  /** Documents compiled to JavaScript (graphql/executor.ts). */
  readonly compiled: number;
}

export type CacheName = keyof CacheBudget;

/**
 * How the budget is split, in parts: answers from Defender are what saves upstream calls, so they get the most;
 * whole results save execution only; documents, compiled documents and persisted queries save parsing and
 * compiling. With Redis the entity cache is bounded by Redis, and its share goes to the others in the same
 * proportions.
 */
const SHARES: Readonly<Record<CacheName, number>> = {
  entities: 10,
  responses: 6,
  documents: 2,
  persistedQueries: 1,
  compiled: 1,
};

/** The budget of each in-process cache out of `maxMb` MiB in all. */
export function splitCacheBudget(maxMb: number, { entitiesInProcess = true } = {}): CacheBudget {
  const total = maxMb * 1024 * 1024;
  const parts =
    (entitiesInProcess ? SHARES.entities : 0) +
    SHARES.responses +
    SHARES.documents +
    SHARES.persistedQueries +
    SHARES.compiled;
  const share = (name: CacheName) => Math.floor((total * SHARES[name]) / parts);
  return {
    entities: entitiesInProcess ? share('entities') : 0,
    responses: share('responses'),
    documents: share('documents'),
    persistedQueries: share('persistedQueries'),
    compiled: share('compiled'),
  };
}

/**
 * Heap bytes per character of JSON text for a parsed JSON tree. Measured with `node --expose-gc` (heapUsed
 * before and after keeping 20 parses, bench/heap-factor.ts): a 500-alert page of the simulator 1.21, a 500-
 * machine page 0.97, a 50-alert page 1.21. Rounded up to 1.5 for strings stored two bytes a character
 * (non-Latin-1 text) and for the objects that wrap each entry.
 */
export const HEAP_BYTES_PER_JSON_CHAR = 1.5;

/**
 * Heap bytes per lexical token of a parsed document, which keeps its token list (`loc`) and one AST node per
 * few tokens. Measured as above over 300 parses: 15 aliased `alerts(first: 500)` 349, a flat list of 480
 * fields 504, nested arguments 284, one field under a long comment 495 (the comment is one token). Apollo's
 * default, the document's JSON length, counts a quarter of it (27 kB for a 107 kB document).
 */
export const HEAP_BYTES_PER_TOKEN = 512;

/** Heap bytes of one entry beside its value: the key's characters are added to it. */
const ENTRY_OVERHEAD_BYTES = 200;

/**
 * The length of `value` as JSON text, counted without building the text, or a number above `limit` as soon as
 * it is known to exceed it: the cost is bounded by the limit, not by the value. Numbers count 8 characters.
 */
export function jsonLength(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let length = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && length <= limit) {
    const next = pending.pop();
    if (typeof next === 'string') length += next.length + 2;
    else if (typeof next === 'number') length += 8;
    else if (typeof next === 'boolean') length += 5;
    else if (next === null || next === undefined) length += 4;
    else if (Array.isArray(next)) {
      length += 1;
      // Item by item, so that a long array stops the count as soon as it passes the limit.
      for (let i = 0; i < next.length && length <= limit; i++) {
        length += 1;
        pending.push(next[i]);
      }
    } else if (typeof next === 'object') {
      length += 1;
      for (const key in next) {
        length += key.length + 4;
        pending.push((next as Record<string, unknown>)[key]);
        if (length > limit) break;
      }
    }
  }
  return length;
}

/** Estimated heap bytes of a cache entry holding a JSON-like `value` under `key`; above `limit` once past it. */
export function entryBytes(key: string, value: unknown, limit = Number.POSITIVE_INFINITY): number {
  const fixed = ENTRY_OVERHEAD_BYTES + key.length * 2;
  const json = jsonLength(value, (limit - fixed) / HEAP_BYTES_PER_JSON_CHAR);
  return fixed + Math.ceil(json * HEAP_BYTES_PER_JSON_CHAR);
}

/** Estimated heap bytes of a parsed document: its tokens (from `loc`, which every parse here keeps). */
export function documentBytes(document: DocumentNode): number {
  let tokens = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) tokens++;
  return ENTRY_OVERHEAD_BYTES + (document.loc?.source.body.length ?? 0) * 2 + tokens * HEAP_BYTES_PER_TOKEN;
}

/** lru-cache's options for a cache bounded by bytes, whatever the traffic. */
export interface ByteCacheOptions<V extends NonNullable<unknown>> {
  /** Most estimated bytes held at once; the least recently used entries go first. */
  readonly maxBytes: number;
  /** Estimated bytes of one entry. */
  readonly sizeOf: (value: V, key: string) => number;
  /** An entry estimated above this (bytes) is not kept at all. Default: `maxBytes`. */
  readonly maxEntryBytes?: number;
  /** How often expired entries are removed (ms). Default 10,000. */
  readonly sweepEveryMs?: number;
  /** The clock of expiries. Default: the system clock. */
  readonly clock?: Clock;
}

/**
 * An LRU cache bounded by estimated bytes (never by count alone), whose expired entries are swept on a timer
 * instead of kept until read. The sweep is one unref'd interval that stops once the cache is collected; lru-
 * cache's own `ttlAutopurge` arms a timer per entry and re-arms it on every write, which its documentation
 * warns against for many entries.
 */
export function createByteCache<V extends NonNullable<unknown>>(
  options: ByteCacheOptions<V>,
): LRUCache<string, V> {
  const maxBytes = Math.max(1, Math.floor(options.maxBytes));
  const cache = new LRUCache<string, V>({
    maxSize: maxBytes,
    maxEntrySize: Math.max(1, Math.min(maxBytes, Math.floor(options.maxEntryBytes ?? maxBytes))),
    sizeCalculation: (value, key) => Math.max(1, Math.ceil(options.sizeOf(value, key))),
    perf: options.clock ?? systemClock,
    // Read the clock at every check: lru-cache's default caches it for 1 ms behind a timer per read, which
    // costs more than reading it, and hides a clock a test moves by hand.
    ttlResolution: 0,
  });
  sweepEvery(cache, options.sweepEveryMs ?? 10_000);
  return cache;
}

/** Purges `cache`'s expired entries every `ms`, holding it weakly so the timer never keeps a cache alive. */
function sweepEvery<V extends NonNullable<unknown>>(cache: LRUCache<string, V>, ms: number): void {
  const ref = new WeakRef(cache);
  const timer = setInterval(() => {
    const alive = ref.deref();
    if (alive) alive.purgeStale();
    else clearInterval(timer);
  }, ms);
  timer.unref();
}
