import type { LRUCache } from 'lru-cache';
import { createByteCache, entryBytes } from './budget.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';

/** A whole operation's result, kept while every upstream answer it was built from is still fresh. */
export interface CachedResponse {
  readonly data: Record<string, unknown> | null | undefined;
  /** Epoch ms until which the answers it was built from are all fresh. */
  readonly validUntil: number;
  /** How many upstream answers it was built from (shown as its cache hits). */
  readonly answers: number;
}

export interface ResponseCacheOptions {
  /** Most estimated heap bytes of results held; the least recently used go first. */
  readonly maxBytes: number;
  /**
   * A result estimated above this fraction of `maxBytes` is not kept: one wide result would otherwise push out
   * many ordinary ones, and its upstream answers are in the entity cache anyway. Default 1/8.
   */
  readonly maxEntryFraction?: number;
  /** How often expired results are removed (ms). Default: the byte cache's (10 s). */
  readonly sweepEveryMs?: number;
  /** The clock results' `validUntil` is read against. Default: the system clock. */
  readonly clock?: Clock;
}

/**
 * The results of recent operations, per upstream identity, exact document and variables. Executing the same
 * operation again within that time would read the very same cached answers and give the same result, so the
 * result is served directly: a warm dashboard query skips execution altogether. Only results without errors
 * are kept, for no longer than their least fresh answer, and only when no field read something else (the rate
 * limiter's budget). Bounded by estimated bytes: the least recently used result goes first, a result too
 * large for its share is not kept, and expired results are swept.
 */
export class ResponseCache {
  readonly #entries: LRUCache<string, CachedResponse>;
  readonly #maxEntryBytes: number;
  readonly #clock: Clock;

  constructor(options: ResponseCacheOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#maxEntryBytes = Math.floor(options.maxBytes * (options.maxEntryFraction ?? 1 / 8));
    // Sized once when stored, with the estimate cut short past the cap (a wide result costs no full walk). A
    // result's strings are mostly its cached answers' own, so the JSON-length estimate errs high.
    this.#entries = createByteCache<CachedResponse>({
      maxBytes: options.maxBytes,
      maxEntryBytes: this.#maxEntryBytes,
      sizeOf: (entry, key) => entryBytes(key, entry.data, this.#maxEntryBytes),
      ...(options.sweepEveryMs !== undefined && { sweepEveryMs: options.sweepEveryMs }),
      clock: this.#clock,
    });
  }

  /**
   * Per upstream identity, alerts' generation (a result may show alerts: a write anywhere moves it on, see
   * cache/alert-generation.ts), exact document, operation and variables.
   */
  static keyFor(
    identity: string,
    alertGeneration: string,
    queryHash: string,
    operationName: string | undefined,
    variables: unknown,
  ): string {
    return JSON.stringify([identity, alertGeneration, queryHash, operationName ?? null, variables ?? null]);
  }

  /** Estimated heap bytes held. */
  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  get(key: string, now = this.#clock.now()): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.validUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Drops every stored result of one upstream identity (a write by it made them stale: any of them may show the
   * alert it changed). Results of other identities may show it too; they expire by their own freshness.
   */
  forgetIdentity(identity: string): void {
    const prefix = JSON.stringify([identity]).slice(0, -1) + ',';
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  set(key: string, entry: CachedResponse, now = this.#clock.now()): void {
    if (entry.validUntil <= now) return;
    this.#entries.set(key, entry, { ttl: entry.validUntil - now });
  }
}
