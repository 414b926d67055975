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
   */
  readonly clock?: Clock;
}

/**
 * The in-process cache: an LRU cache bounded by bytes, without serialisation. Answers are stored as
 * the objects themselves, so a hit costs no JSON parse (the hot path of a warm query); nothing in the gateway
 * mutates an answer, and every reader must keep it that way. An answer's size is estimated from its JSON
 * length (cache/budget.ts); an entity primed from a page shares its objects with the page and is counted
 * twice, which errs on the safe side.
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): UpstreamCache {
  const lru = createByteCache<StoredAnswer>({
    maxBytes: options.maxBytes ?? splitCacheBudget(DEFAULT_CACHE_MAX_MB).entities,
    sizeOf: (entry, key) => entryBytes(key, entry),
    ...(options.sweepEveryMs !== undefined && { sweepEveryMs: options.sweepEveryMs }),
    ...(options.clock && { clock: options.clock }),
  });
  // The in-process tier is read and written synchronously, without keyv's promise chain (hooks, telemetry, the
  // envelope with its expiry on the system clock, the store timeout): a warm operation reads it for nearly every
  // field. keyv stays the interface to a shared store (cache/redis-cache.ts). Writing here directly also keeps the
  // TTL exact: keyv hands its store the time left until an expiry it computed on the system clock a moment
  // earlier, which can be a millisecond short.
  const store: LocalStore = {
    read: (key) => lru.get(key),
    write: (key, value, ttlMs) => void lru.set(key, value, { ttl: ttlMs }),
    delete: (key) => void lru.delete(key),
  };
  return new UpstreamCache(store, undefined, () => lru.calculatedSize);
}

/** A store in this process, read and written synchronously. */
export interface LocalStore {
  read(key: string): StoredAnswer | undefined;
  write(key: string, value: StoredAnswer, ttlMs: number): void;
  delete(key: string): void;
}

/**
 * The cache of upstream answers: a shared store over keyv (Redis), or a store in this process read and written
 * synchronously. A cache is an optimisation: a shared store that fails or is slow degrades to a miss (reads) or
 * to nothing (writes) within `timeoutMs`, and never fails a request.
 */
export class UpstreamCache {
  private readonly keyv: Keyv | undefined;
  private readonly local: LocalStore | undefined;

  constructor(
    store: Keyv | LocalStore,
    private readonly timeoutMs = 50,
    private readonly heldBytes?: () => number,
  ) {
    if (store instanceof Keyv) {
      this.keyv = store;
      // An unhandled 'error' event would end the process.
      store.on('error', () => {});
    } else {
      this.local = store;
    }
  }

  /** Estimated heap bytes held in this process; undefined when the store is elsewhere (Redis). */
  get bytes(): number | undefined {
    return this.heldBytes?.();
  }

  async get(key: string): Promise<StoredAnswer | undefined> {
    if (this.local) return this.local.read(key);
    return this.#bounded(this.keyv!.get<StoredAnswer>(key));
  }

  async getMany(keys: readonly string[]): Promise<(StoredAnswer | undefined)[]> {
    if (keys.length === 0) return [];
    const local = this.local;
    if (local) return keys.map((key) => local.read(key));
    const values = await this.#bounded(this.keyv!.getMany<StoredAnswer>([...keys]));
    return values ?? keys.map(() => undefined);
  }

  async set(key: string, value: StoredAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    if (this.local) return this.local.write(key, value, ttlMs);
    await this.#bounded(this.keyv!.set(key, value, ttlMs));
  }

  /** Forgets an answer (a write made it stale). */
  async delete(key: string): Promise<void> {
    if (this.local) return this.local.delete(key);
    await this.#bounded(this.keyv!.delete(key));
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
