import type { DefenderApi } from '../defender/apis.js';

/** Fewest and most upstream calls. */
export interface CallRange {
  min: number;
  max: number;
}

/** What an operation can cost Defender, computed before any call. */
export interface CostEstimate {
  readonly min: number;
  readonly max: number;
  readonly byApi: Partial<Record<DefenderApi, CallRange>>;
}

/** The running count of an estimate: calls per API and in total, each distinct request counted once. */
export class Tally {
  readonly #byApi = new Map<DefenderApi, CallRange>();
  readonly #total: CallRange = { min: 0, max: 0 };
  /** Requests already counted, so that aliases and repeated entities are not counted twice. */
  readonly #counted = new Set<string>();

  /** Whether this request is counted for the first time (and now is). */
  first(key: string): boolean {
    if (this.#counted.has(key)) return false;
    this.#counted.add(key);
    return true;
  }

  /** Calls to one API; with a `key`, only the first time that request is seen. */
  add(api: DefenderApi, min: number, max: number, key?: string): void {
    if (key !== undefined && !this.first(key)) return;
    this.addRange({ [api]: { min, max } }, { min, max });
  }

  /** Calls spread over APIs, with a total of its own (one call to either of two APIs is one call). */
  addRange(byApi: Partial<Record<DefenderApi, CallRange>>, total: CallRange): void {
    for (const [api, range] of Object.entries(byApi) as [DefenderApi, CallRange][]) {
      const current = this.#byApi.get(api) ?? { min: 0, max: 0 };
      this.#byApi.set(api, { min: current.min + range.min, max: current.max + range.max });
    }
    this.#total.min += total.min;
    this.#total.max += total.max;
  }

  estimate(): CostEstimate {
    return { min: this.#total.min, max: this.#total.max, byApi: Object.fromEntries(this.#byApi) };
  }
}
