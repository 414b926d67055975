import type { EntityType, ParentKind } from '../graphql/sources.js';
import { SOURCES } from '../graphql/sources.js';

/**
 * What the gateway learns of each relationship's fan-out from the answers it sees, for the planner's expected
 * cost. An edge is a relationship as reached from one kind of parent (`User(alertRef).machines`: the machines of
 * users named by alerts), because how a parent was reached biases its list: the accounts alerts name log on to
 * far more machines than the average account. Per edge: how many distinct parents were seen, the sum and a
 * histogram of their list lengths (so the mean of `min(first, length)` can be read for any `first`), and how many
 * of the items delivered in one operation were distinct (DataLoader calls each distinct child once).
 *
 * Memory is bounded: a fixed number of counters per edge, and edges come from the source table, never from a
 * query. With a shared store (Redis, `CACHE_URL`), every replica adds what it saw and reads what all saw; a
 * store that fails leaves each replica with what it saw itself.
 */

/** Upper bounds (inclusive) of the histogram's buckets; the last bucket holds everything above. */
export const BUCKET_BOUNDS = [0, 1, 2, 3, 4, 7, 15, 31, 63, 127, 255, 511] as const;
const BUCKETS = BUCKET_BOUNDS.length + 1;

/** How much the table's prior (sources.ts's fan-out) weighs, in observed parents. */
export const PRIOR_WEIGHT = 1;
/** How much "every child distinct" weighs in the distinct ratio, in observed children. */
export const DISTINCT_PRIOR_WEIGHT = 5;

/** The counters of one edge. Every field only ever grows, so replicas can add them up. */
export interface EdgeCounts {
  /** Distinct parents whose list was seen. */
  parents: number;
  /** Sum of their list lengths (whole lists, before `first`). */
  sum: number;
  /** Parents per bucket of list length, and the sum of their lengths. */
  readonly buckets: number[];
  readonly bucketSums: number[];
  /** Items delivered to the next level, summed over operations, and how many of them were distinct. */
  children: number;
  distinct: number;
}

export const emptyCounts = (): EdgeCounts => ({
  parents: 0,
  sum: 0,
  buckets: Array<number>(BUCKETS).fill(0),
  bucketSums: Array<number>(BUCKETS).fill(0),
  children: 0,
  distinct: 0,
});

export function bucketOf(length: number): number {
  const i = BUCKET_BOUNDS.findIndex((bound) => length <= bound);
  return i === -1 ? BUCKETS - 1 : i;
}

/** `into` += `from`, field by field. */
export function addCounts(into: EdgeCounts, from: EdgeCounts): EdgeCounts {
  into.parents += from.parents;
  into.sum += from.sum;
  into.children += from.children;
  into.distinct += from.distinct;
  for (let i = 0; i < BUCKETS; i++) {
    into.buckets[i]! += from.buckets[i]!;
    into.bucketSums[i]! += from.bucketSums[i]!;
  }
  return into;
}

export const sumOf = (...counts: (EdgeCounts | undefined)[]): EdgeCounts =>
  counts.reduce<EdgeCounts>((total, c) => (c ? addCounts(total, c) : total), emptyCounts());

/**
 * The name an edge is learned under. A machine hunting named stands for the record `users/{id}/machines` would
 * have listed (the same parents, reached the same way), so both plans learn, and read, one edge.
 */
export function edgeOf(type: EntityType, kind: ParentKind, field: string): string {
  return `${type}(${kind === 'huntedRef' ? 'record' : kind}).${field}`;
}

/**
 * The expected number of items a parent contributes to the next level: the mean of `min(first, length)` over
 * the lengths seen, blended with the prior (`PRIOR_WEIGHT` parents of length `prior`). Within a bucket the
 * lengths are taken at the bucket's mean, exact for buckets wholly below or above `first`.
 */
export function expectedLength(counts: EdgeCounts | undefined, prior: number, first?: number): number {
  const cap = first ?? Number.POSITIVE_INFINITY;
  let total = PRIOR_WEIGHT * Math.min(cap, prior);
  let weight = PRIOR_WEIGHT;
  if (counts) {
    for (let i = 0; i < BUCKETS; i++) {
      const n = counts.buckets[i]!;
      if (n === 0) continue;
      total += n * Math.min(cap, counts.bucketSums[i]! / n);
      weight += n;
    }
  }
  return total / weight;
}

/** The expected share of an edge's items that are distinct within one operation (1 until seen otherwise). */
export function distinctRatio(counts: EdgeCounts | undefined): number {
  if (!counts) return 1;
  return (DISTINCT_PRIOR_WEIGHT + counts.distinct) / (DISTINCT_PRIOR_WEIGHT + counts.children);
}

/** What the planner reads: each edge's counts, as this gateway (and its replicas) know them now. */
export interface FanoutView {
  counts(edge: string): EdgeCounts | undefined;
}

/**
 * Where counts are shared between replicas. `add` adds deltas (all of them or none); `read` returns the
 * totals of the given edges. Either may reject (the store is down): the caller then keeps its deltas and its
 * own counts.
 */
export interface FanoutStore {
  add(deltas: ReadonlyMap<string, EdgeCounts>): Promise<void>;
  read(edges: readonly string[]): Promise<Map<string, EdgeCounts>>;
}

export interface FanoutStatsOptions {
  /** Shares the counts with other replicas (Redis). Default: none, this process's counts only. */
  readonly store?: FanoutStore;
  /** How often the shared totals are read again, at most (ms). Default 1,000. */
  readonly refreshMs?: number;
  /** Told when the store fails (logged by the caller, at most now and then). */
  readonly onStoreError?: (error: unknown) => void;
}

/**
 * The learned fan-out of every edge. Reads are synchronous (the planner runs per request): they see the last
 * shared totals read from the store plus what this process saw since it last sent its deltas, or, while the
 * store is failing, what this process saw itself. Deltas are sent after each operation that saw something, and
 * the totals read again at most every `refreshMs`, in the background.
 */
export class FanoutStats implements FanoutView {
  /** Everything this process saw since it started. */
  readonly #local = new Map<string, EdgeCounts>();
  /** Seen here, not yet added to the store. */
  #pending = new Map<string, EdgeCounts>();
  /** Sent to the store, not yet reflected in `#shared` (so they are neither lost nor counted twice). */
  #sent = new Map<string, EdgeCounts>();
  /** The store's totals as last read; undefined before the first read or after a failure. */
  #shared: Map<string, EdgeCounts> | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #syncing: Promise<void> | undefined;

  constructor(private readonly options: FanoutStatsOptions = {}) {}

  counts(edge: string): EdgeCounts | undefined {
    this.#refreshSoon();
    if (!this.#shared) return this.#local.get(edge);
    return sumOf(this.#shared.get(edge), this.#sent.get(edge), this.#pending.get(edge));
  }

  /** Adds what one operation saw. */
  record(seen: ReadonlyMap<string, EdgeCounts>): void {
    if (seen.size === 0) return;
    for (const [edge, counts] of seen) {
      addCounts(ensure(this.#local, edge), counts);
      if (this.options.store) addCounts(ensure(this.#pending, edge), counts);
    }
    this.#refreshSoon(true);
  }

  /** Sends pending deltas and reads the shared totals now (tests, and shutdown). */
  sync(): Promise<void> {
    // After the exchange under way, if any: what was recorded since is sent too.
    const next = (this.#syncing ?? Promise.resolve()).then(() => this.#sync());
    this.#syncing = next;
    void next.finally(() => {
      if (this.#syncing === next) this.#syncing = undefined;
    });
    return next;
  }

  #refreshSoon(send = false): void {
    if (!this.options.store || this.#syncing) return;
    const due = Date.now() - this.#readAt >= (this.options.refreshMs ?? 1_000);
    if (send || due) void this.sync();
  }

  async #sync(): Promise<void> {
    const store = this.options.store!;
    try {
      if (this.#pending.size > 0) {
        const deltas = this.#pending;
        this.#pending = new Map();
        try {
          await store.add(deltas);
        } catch (error) {
          // Not added: kept for the next attempt (bounded: one set of counters per edge).
          for (const [edge, counts] of deltas) addCounts(ensure(this.#pending, edge), counts);
          throw error;
        }
        for (const [edge, counts] of deltas) addCounts(ensure(this.#sent, edge), counts);
      }
      if (this.#shared && Date.now() - this.#readAt < (this.options.refreshMs ?? 1_000)) return;
      // Everything sent so far is in the totals read now: `#sent` starts again empty.
      this.#shared = await store.read([...new Set([...TABLE_EDGES, ...this.#local.keys()])]);
      this.#sent = new Map();
      this.#readAt = Date.now();
    } catch (error) {
      // Each replica keeps to what it saw itself until the store answers again.
      this.#shared = undefined;
      this.#sent = new Map();
      this.#readAt = Date.now();
      this.options.onStoreError?.(error);
    }
  }
}

function ensure(map: Map<string, EdgeCounts>, edge: string): EdgeCounts {
  let counts = map.get(edge);
  if (!counts) map.set(edge, (counts = emptyCounts()));
  return counts;
}

const PARENT_KINDS: readonly ParentKind[] = ['record', 'alertRef', 'nameRef', 'listed'];

/** Every edge of the source table, so a replica reads what others learned before it sees any itself. */
const TABLE_EDGES: readonly string[] = (['Machine', 'User', 'Alert'] as const).flatMap((type) =>
  Object.keys(SOURCES[type].relationships).flatMap((field) =>
    PARENT_KINDS.map((kind) => edgeOf(type, kind, field)),
  ),
);

/**
 * What one operation sees, per edge: each distinct parent's list length (once, however often the parent
 * appears), and the children delivered with how many were distinct. Added to the stats when it ends.
 */
export class FanoutRecorder {
  readonly #edges = new Map<
    string,
    { parents: Set<string>; counts: EdgeCounts; children: Set<string>; delivered: number }
  >();

  /**
   * One parent's list: `length` items in Defender's answer, of which `delivered` went on to the next level
   * (fewer with `first`), told apart by `keyOf` (strings by themselves). A parent seen before in the operation
   * is not counted again, nor are its items' keys made.
   */
  observe<T = string>(
    edge: string,
    parent: string,
    length: number,
    delivered: readonly T[],
    keyOf: (item: T) => string = String,
  ): void {
    let entry = this.#edges.get(edge);
    if (!entry) {
      entry = { parents: new Set(), counts: emptyCounts(), children: new Set(), delivered: 0 };
      this.#edges.set(edge, entry);
    }
    if (entry.parents.has(parent)) return;
    entry.parents.add(parent);
    const b = bucketOf(length);
    entry.counts.parents++;
    entry.counts.sum += length;
    entry.counts.buckets[b]!++;
    entry.counts.bucketSums[b]! += length;
    entry.delivered += delivered.length;
    for (const child of delivered) entry.children.add(keyOf(child));
  }

  /** Each edge's counts for this operation. */
  seen(): Map<string, EdgeCounts> {
    const out = new Map<string, EdgeCounts>();
    for (const [edge, entry] of this.#edges) {
      out.set(edge, { ...entry.counts, children: entry.delivered, distinct: entry.children.size });
    }
    return out;
  }
}
