/** A whole operation's result, kept while every upstream answer it was built from is still fresh. */
export interface CachedResponse {
  readonly data: Record<string, unknown> | null | undefined;
  /** Epoch ms until which the answers it was built from are all fresh. */
  readonly validUntil: number;
  /** How many upstream answers it was built from (shown as its cache hits). */
  readonly answers: number;
}

/**
 * The results of recent operations, per upstream identity, exact document and variables. Executing the same
 * operation again within that time would read the very same cached answers and give the same result, so the
 * result is served directly: a warm dashboard query skips execution altogether. Only results without errors
 * are kept, for no longer than their least fresh answer, and only when no field read something else (the rate
 * limiter's budget). Bounded: the least recently used result goes first.
 */
export class ResponseCache {
  readonly #entries = new Map<string, CachedResponse>();

  constructor(private readonly maxEntries = 1_000) {}

  static keyFor(
    identity: string,
    queryHash: string,
    operationName: string | undefined,
    variables: unknown,
  ): string {
    return JSON.stringify([identity, queryHash, operationName ?? null, variables ?? null]);
  }

  get(key: string, now = Date.now()): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.validUntil <= now) return undefined;
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: CachedResponse, now = Date.now()): void {
    if (entry.validUntil <= now) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
