import type { DefenderApi } from '../defender/apis.js';
import type { PlanSource } from './plan-choice.js';

/** Fewest, most and expected upstream calls. */
export interface CallRange {
  min: number;
  max: number;
  /** The calls the operation is expected to make: what the cache holds, `first`, and the learned fan-out. */
  expected: number;
}

/** The list a set of entities came from, for teaching a cheaper form of the field below it. */
export interface ListOrigin {
  /** The response path of the list field (field names, `nodes` and `edges`/`node` included). */
  readonly path: readonly string[];
  /** The list field's name, and whether it is a root page or a relationship. */
  readonly field: string;
  readonly kind: 'page' | 'relationship';
  /** Items each parent (or the page) is expected to hold. */
  readonly perParent: number;
}

/** The calls one field fans out to (its own calls, not those of the fields below it). */
export interface FieldCost {
  readonly path: readonly string[];
  /** The type the field is on, and whether it is a relationship (else its parents' records). */
  readonly parentType: string;
  readonly relationship: boolean;
  expected: number;
  max: number;
  /** The list its parents came from, if any. */
  readonly origin?: ListOrigin;
}

/** The plan a relationship level is expected to run with, as `extensions.upstream.plans` reports it after. */
export interface PlannedLevel {
  /** The level's response path, without list indices, e.g. `alerts.nodes.user.machines`. */
  readonly path: string;
  readonly source: PlanSource;
  /** The calls the level is expected to send for the relationship itself (to a tenth). */
  readonly calls: number;
}

/** What an operation can cost Defender, computed before any call. */
export interface CostEstimate {
  readonly min: number;
  readonly max: number;
  readonly expected: number;
  readonly byApi: Partial<Record<DefenderApi, CallRange>>;
  /** The field whose fan-out is expected to cost most; undefined when nothing costs a call. */
  readonly costliest?: FieldCost;
  /** The plan of every level hunting could serve (`DEFENDER_PLANS=auto`); none otherwise. */
  readonly plans?: readonly PlannedLevel[];
}

/** Where a call is charged: the field it is made for. */
export interface Charge {
  readonly path: readonly string[];
  readonly parentType: string;
  readonly relationship: boolean;
  readonly origin?: ListOrigin | undefined;
}

/** Ids of one batched source whose existence is expected but not known: batched together at the end. */
interface Pool {
  readonly single: DefenderApi;
  readonly list: DefenderApi;
  readonly batchSize: number;
  ids: number;
  readonly charges: { charge: Charge; ids: number }[];
}

/** The running count of an estimate: calls per API and in total, each distinct request counted once. */
export class Tally {
  readonly #byApi = new Map<DefenderApi, CallRange>();
  readonly #total: CallRange = { min: 0, max: 0, expected: 0 };
  /** Requests already counted, so that aliases and repeated entities are not counted twice. */
  readonly #counted = new Set<string>();
  readonly #fields = new Map<string, FieldCost>();
  readonly #pools = new Map<DefenderApi, Pool>();
  readonly #plans: PlannedLevel[] = [];

  /** The plan chosen for one relationship level. */
  plan(level: PlannedLevel): void {
    // Expected calls, to a tenth like every other expected figure of the estimate.
    this.#plans.push({ ...level, calls: Math.round(level.calls * 10) / 10 });
  }

  /** Whether this request is counted for the first time (and now is). */
  first(key: string): boolean {
    if (this.#counted.has(key)) return false;
    this.#counted.add(key);
    return true;
  }

  /** Calls to one API; with a `key`, only the first time that request is seen. */
  add(api: DefenderApi, range: CallRange, charge?: Charge, key?: string): void {
    if (key !== undefined && !this.first(key)) return;
    this.addRange({ [api]: range }, range, charge);
  }

  /** Calls spread over APIs, with a total of its own (one call to either of two APIs is one call). */
  addRange(byApi: Partial<Record<DefenderApi, CallRange>>, total: CallRange, charge?: Charge): void {
    for (const [api, range] of Object.entries(byApi) as [DefenderApi, CallRange][]) {
      const current = this.#byApi.get(api) ?? { min: 0, max: 0, expected: 0 };
      this.#byApi.set(api, {
        min: current.min + range.min,
        max: current.max + range.max,
        expected: current.expected + range.expected,
      });
    }
    this.#total.min += total.min;
    this.#total.max += total.max;
    this.#total.expected += total.expected;
    if (charge) this.#charge(charge, total.expected, total.max);
  }

  /**
   * Lookups by id of entities not known yet (an alert's machine): their min and max are counted per field, but
   * the loaders batch ids across the whole operation, so the expected calls are counted for all of them at once.
   */
  pool(single: DefenderApi, list: DefenderApi, batchSize: number, ids: number, charge: Charge): void {
    const pool = this.#pools.get(list) ?? { single, list, batchSize, ids: 0, charges: [] };
    this.#pools.set(list, pool);
    pool.ids += ids;
    pool.charges.push({ charge, ids });
  }

  estimate(): CostEstimate {
    for (const pool of this.#pools.values()) {
      if (pool.ids <= 0) continue;
      const calls = pool.ids <= 1 ? pool.ids : Math.ceil(pool.ids / pool.batchSize);
      this.#expect(pool.ids <= 1 ? pool.single : pool.list, calls);
      for (const { charge, ids } of pool.charges) this.#charge(charge, (calls * ids) / pool.ids, 0);
    }
    this.#pools.clear();
    const byApi = Object.fromEntries(
      [...this.#byApi].map(([api, range]) => [api, { ...range, expected: within(range) }]),
    );
    const costliest = [...this.#fields.values()].reduce<FieldCost | undefined>(
      (top, f) => (f.expected > (top?.expected ?? 0) ? f : top),
      undefined,
    );
    return {
      min: this.#total.min,
      max: this.#total.max,
      expected: within(this.#total),
      byApi,
      ...(costliest && { costliest }),
      ...(this.#plans.length > 0 && { plans: [...this.#plans] }),
    };
  }

  #expect(api: DefenderApi, calls: number): void {
    const current = this.#byApi.get(api) ?? { min: 0, max: 0, expected: 0 };
    this.#byApi.set(api, { ...current, expected: current.expected + calls });
    this.#total.expected += calls;
  }

  #charge(charge: Charge, expected: number, max: number): void {
    const key = charge.path.join('\u0000');
    const field = this.#fields.get(key);
    if (field) {
      field.expected += expected;
      field.max += max;
    } else {
      this.#fields.set(key, {
        path: charge.path,
        parentType: charge.parentType,
        relationship: charge.relationship,
        expected,
        max,
        ...(charge.origin && { origin: charge.origin }),
      });
    }
  }
}

/** An expectation rounded to a tenth, and never outside what is possible. */
function within(range: CallRange): number {
  return Math.min(range.max, Math.max(range.min, Math.round(range.expected * 10) / 10));
}
