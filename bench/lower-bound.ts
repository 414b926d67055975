import type { DefenderApi } from '../src/defender/apis.js';

/** Defender's batched lookups: `$filter=id in (…)` with this many ids per call (MACHINE_BATCH_SIZE). */
export const LOOKUP_CHUNK = 50;

/** The fewest upstream calls an operation needs, and on which APIs. */
export interface CallCount {
  readonly calls: number;
  readonly byApi: Readonly<Partial<Record<DefenderApi, number>>>;
}

type Entity = 'machine' | 'alert';

const ROUTES: Record<Entity, { single: DefenderApi; list: DefenderApi }> = {
  machine: { single: 'machines/{id}', list: 'machines' },
  alert: { single: 'alerts/{id}', list: 'alerts' },
};

/**
 * The lower bound of one operation, written down by hand from the tenant's data: every distinct (route, key)
 * pair it needs is one call, and the entities it must look up by id are one call for a single id or one
 * batched call per {@link LOOKUP_CHUNK} ids, less those already seen whole in a list answer of the same
 * operation. Independent of how the gateway resolves anything.
 */
export class CallPlan {
  readonly #calls = new Set<string>();
  readonly #lookups: Record<Entity, Set<string>> = { machine: new Set(), alert: new Set() };
  readonly #seen: Record<Entity, Set<string>> = { machine: new Set(), alert: new Set() };

  /** One call to `api` for `key` (an id, an account name, or a page); repeats are free. */
  call(api: DefenderApi, key: string): this {
    this.#calls.add(`${api} ${key}`);
    return this;
  }

  /** The whole entity is needed and is not in any parent's JSON: it must be looked up by id. */
  lookup(entity: Entity, id: string): this {
    this.#lookups[entity].add(id);
    return this;
  }

  /** The whole entity arrived in a list answer: a lookup of it costs nothing. */
  seen(entity: Entity, id: string): this {
    this.#seen[entity].add(id);
    return this;
  }

  count(): CallCount {
    const byApi: Partial<Record<DefenderApi, number>> = {};
    const add = (api: DefenderApi, n: number) => {
      if (n > 0) byApi[api] = (byApi[api] ?? 0) + n;
    };
    for (const call of this.#calls) add(call.slice(0, call.indexOf(' ')) as DefenderApi, 1);
    for (const entity of ['machine', 'alert'] as const) {
      const missing = [...this.#lookups[entity]].filter((id) => !this.#seen[entity].has(id)).length;
      if (missing === 1) add(ROUTES[entity].single, 1);
      else add(ROUTES[entity].list, Math.ceil(missing / LOOKUP_CHUNK));
    }
    return { calls: Object.values(byApi).reduce((a, b) => a + b, 0), byApi };
  }
}
