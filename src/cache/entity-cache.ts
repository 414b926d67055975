import Keyv from 'keyv';
import { DEFAULT_CACHE_MAX_MB, createByteCache, entryBytes, splitCacheBudget } from './budget.js';
import type { Clock } from '../clock.js';

/** What the cache keeps of one upstream answer: the parsed body, or the fact that Defender said 404. */
export type CachedAnswer = { readonly status: 200; readonly body: unknown } | { readonly status: 404 };

/** A cached answer with the time it was stored, which tells fresh from stale. */
export type StoredAnswer = CachedAnswer & { readonly storedAt: number };

export interface MemoryCacheOptions {
  /**
   * Most estimated heap bytes of answers held; the least recently used go first. Default: the entities' share
   * of {@link DEFAULT_CACHE_MAX_MB}.
   */
  readonly maxBytes?: number;
  /** How often expired answers are removed (ms). Default: the byte cache's (10 s). */
  readonly sweepEveryMs?: number;
  /**
   * The clock answers expire by (the TTL each is stored with) and the sweep reads. Default: the system clock.
   * keyv, beneath, also drops an answer past its TTL on the system clock: a clock moved ahead of it decides.
   */
  readonly clock?: Clock;
}

/**
 * The in-process cache: keyv over an LRU cache bounded by bytes, without serialisation. Answers are stored as
 * the objects themselves, so a hit costs no JSON parse (the hot path of a warm query); nothing in the gateway
 * mutates an answer, and every reader must keep it that way. An answer's size is estimated from its JSON
 * length (cache/budget.ts); an entity primed from a page shares its objects with the page and is counted
 * twice, which errs on the safe side.
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): UpstreamCache {
  const lru = createByteCache<object>({
    maxBytes: options.maxBytes ?? splitCacheBudget(DEFAULT_CACHE_MAX_MB).entities,
    sizeOf: (entry, key) => entryBytes(key, entry),
    ...(options.sweepEveryMs !== undefined && { sweepEveryMs: options.sweepEveryMs }),
    ...(options.clock && { clock: options.clock }),
  });
  // keyv hands a Map-like store the TTL as a number (ms); lru-cache takes it in an options object.
  const store = {
    get: (key: string) => lru.get(key),
    set: (key: string, entry: object, ttl?: number) => {
      lru.set(key, entry, ttl === undefined ? {} : { ttl });
      return store;
    },
    delete: (key: string) => lru.delete(key),
    has: (key: string) => lru.has(key),
    clear: () => lru.clear(),
    keys: () => lru.keys(),
  };
  // Reads skip keyv's promise chain (hooks, telemetry, expiry check, the store timeout): a warm operation reads
  // the cache for nearly every field. keyv keeps each answer in the store inside its envelopes,
  // `{ value, expires }` (one per layer of keyv: two in keyv 6 with a TTL), and an envelope past `expires` on the
  // system clock is a miss that keyv would delete: so is it here. An answer itself never has a `value` key.
  const readNow = (key: string): StoredAnswer | undefined => {
    let entry: unknown = lru.get(key);
    while (isEnvelope(entry)) {
      if (typeof entry.expires === 'number' && Date.now() > entry.expires) {
        lru.delete(key);
        return undefined;
      }
      entry = entry.value;
    }
    return entry as StoredAnswer | undefined;
  };
  return new UpstreamCache(
    new Keyv({ store, serialization: false }),
    undefined,
    () => lru.calculatedSize,
    readNow,
  );
}

/** keyv's wrapping of a stored value: the value and its absolute expiry (ms since epoch), if any. */
function isEnvelope(entry: unknown): entry is { value: unknown; expires?: unknown } {
  return typeof entry === 'object' && entry !== null && 'value' in entry && !('status' in entry);
}

/**
 * The shared cache of upstream answers, over keyv. A cache is an optimisation: a store that fails or is slow
 * degrades to a miss (reads) or to nothing (writes) within `timeoutMs`, and never fails a request.
 */
export class UpstreamCache {
  constructor(
    private readonly keyv: Keyv,
    private readonly timeoutMs = 50,
    private readonly heldBytes?: () => number,
    /** Reads the same store synchronously, when it is in this process (the memory cache); writes go through keyv. */
    private readonly readNow?: (key: string) => StoredAnswer | undefined,
  ) {
    // An unhandled 'error' event would end the process.
    keyv.on('error', () => {});
  }

  /** Estimated heap bytes held in this process; undefined when the store is elsewhere (Redis). */
  get bytes(): number | undefined {
    return this.heldBytes?.();
  }

  async get(key: string): Promise<StoredAnswer | undefined> {
    if (this.readNow) return this.readNow(key);
    return this.#bounded(this.keyv.get<StoredAnswer>(key));
  }

  async getMany(keys: readonly string[]): Promise<(StoredAnswer | undefined)[]> {
    if (keys.length === 0) return [];
    if (this.readNow) return keys.map(this.readNow);
    const values = await this.#bounded(this.keyv.getMany<StoredAnswer>([...keys]));
    return values ?? keys.map(() => undefined);
  }

  async set(key: string, value: StoredAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await this.#bounded(this.keyv.set(key, value, ttlMs));
  }

  /** Forgets an answer (a write made it stale). */
  async delete(key: string): Promise<void> {
    await this.#bounded(this.keyv.delete(key));
  }

  async #bounded<T>(operation: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.timeoutMs);
    });
    try {
      return await Promise.race([operation.catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
