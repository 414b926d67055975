import Keyv from 'keyv';

/** What the cache keeps of one upstream answer: the parsed body, or the fact that Defender said 404. */
export type CachedAnswer = { readonly status: 200; readonly body: unknown } | { readonly status: 404 };

/** A cached answer with the time it was stored, which tells fresh from stale. */
export type StoredAnswer = CachedAnswer & { readonly storedAt: number };

/**
 * The in-process cache: keyv over a Map, without serialisation. Answers are stored as the objects themselves,
 * so a hit costs no JSON parse (the hot path of a warm query); nothing in the gateway mutates an answer, and
 * every reader must keep it that way.
 */
export function createMemoryCache(): UpstreamCache {
  return new UpstreamCache(new Keyv({ store: new Map(), serialization: false }));
}

/**
 * The shared cache of upstream answers, over keyv. A cache is an optimisation: a store that fails or is slow
 * degrades to a miss (reads) or to nothing (writes) within `timeoutMs`, and never fails a request.
 */
export class UpstreamCache {
  constructor(
    private readonly keyv: Keyv,
    private readonly timeoutMs = 50,
  ) {
    // An unhandled 'error' event would end the process.
    keyv.on('error', () => {});
  }

  async get(key: string): Promise<StoredAnswer | undefined> {
    return this.#bounded(this.keyv.get<StoredAnswer>(key));
  }

  async getMany(keys: readonly string[]): Promise<(StoredAnswer | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.#bounded(this.keyv.getMany<StoredAnswer>([...keys]));
    return values ?? keys.map(() => undefined);
  }

  async set(key: string, value: StoredAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await this.#bounded(this.keyv.set(key, value, ttlMs));
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
