import type { CachedAnswer } from '../cache/entity-cache.js';
import type { DefenderApi } from '../defender/apis.js';
import type { DefenderRequest } from '../defender/client.js';
import { collection } from '../defender/resources.js';
import type { AlertDto } from '../defender/types.js';
import { refFrom } from '../graphql/parents.js';
import type {
  ByIdSource,
  EntityType,
  HuntingSource,
  PerParentSource,
  Relationship,
  SearchSource,
} from '../graphql/sources.js';
import {
  distinctKeyOf,
  huntingGives,
  huntingSourceOf,
  isFree,
  recordSourceOf,
  relationshipOf,
  sourceOf,
} from '../graphql/sources.js';
import { HUNTING_CHUNK_SIZE } from '../defender/kql.js';
import type { Entities, EntitySet } from './entities.js';
import { embeddedIn, known, unknown } from './entities.js';
import type { PlannedField } from './operation.js';
import type { Tally } from './tally.js';

export interface EstimateOptions {
  /** What the cache holds for these requests (read without counting, and undefined when bypassed). */
  readonly lookup: (requests: readonly DefenderRequest[]) => Promise<(CachedAnswer | undefined)[]>;
  /** Ids per batched `$filter=id in (…)` call (the loaders' batch size). */
  readonly batchSize: number;
  /** Cap on `first`; a larger one is BAD_USER_INPUT, as the resolvers say. */
  readonly maxPageSize: number;
  /** `DEFENDER_PLANS=auto`: levels hunting can serve are counted as hunting queries. Default false. */
  readonly hunting?: boolean;
}

/**
 * The calls below a field, level by level, as the resolvers spend them (both follow the source table,
 * sources.ts): a partial entity's record only when a field it does not carry is asked, each relationship from
 * its source, per-entity routes once per distinct key (DataLoader), lookups by id batched, and nothing the
 * cache holds.
 */
export class Planner {
  constructor(
    readonly options: EstimateOptions,
    readonly tally: Tally,
  ) {}

  /** What a field asks of a set of entities: their records when it needs them, then each relationship. */
  async entities(field: PlannedField, set: EntitySet): Promise<void> {
    if (field.selections.some((f) => !isFree(set.type, set.kind, f.name))) await this.#records(set);
    for (const f of field.selections) {
      const relationship = relationshipOf(set.type, f.name);
      if (relationship) await this.#related(f, set, relationship);
    }
  }

  /** A connection's `nodes` and `edges { node }` both walk the page. */
  async connection(field: PlannedField, page: EntitySet): Promise<void> {
    for (const f of field.selections) {
      if (f.name === 'nodes') await this.entities(f, page);
      if (f.name === 'edges') {
        for (const e of f.selections) if (e.name === 'node') await this.entities(e, page);
      }
    }
  }

  /** A list page: known when cached, else one call (per distinct request) for up to `top` entities. */
  async page(request: DefenderRequest, top: number): Promise<Entities> {
    const [cached] = await this.options.lookup([request]);
    if (cached) return known(cached.status === 404 ? [] : collection(cached).slice(0, top));
    this.tally.add(
      request.api,
      1,
      1,
      `${request.api} ${request.id ?? ''}?${JSON.stringify(request.query ?? {})}`,
    );
    return unknown(0, top, false);
  }

  /** Lookups by id, all at once: one call for one uncached id, else one batched call per batch. */
  async lookups(source: ByIdSource, ids: readonly string[]): Promise<(CachedAnswer | undefined)[]> {
    const answers = await this.options.lookup(ids.map((id) => ({ api: source.single, id })));
    this.#missing(source, new Set(ids.filter((_, i) => !answers[i])).size);
    return answers;
  }

  /** The calls for `missing` uncached ids of a batched source. */
  #missing(source: ByIdSource, missing: number): void {
    const batches = Math.ceil(missing / this.options[source.batchedBy]);
    if (missing === 1) this.tally.add(source.single, 1, 1);
    else if (missing > 1) this.tally.add(source.list, batches, batches);
  }

  /** The full records of partial entities, from the source the table gives their kind. */
  async #records(set: EntitySet): Promise<void> {
    const source = recordSourceOf(set.type, set.kind);
    if (!source) return;
    if (source.kind === 'byId') return this.#batchedRecords(source, set.entities);
    if (source.kind === 'search') return this.#search(set.type, source, set.entities);
    return this.#perEntity(set.entities, source, 1, async () => {});
  }

  /** A relationship from its preferred source: its items become the next level's entities. */
  async #related(field: PlannedField, set: EntitySet, relationship: Relationship): Promise<void> {
    const source = relationship.sources[0];
    const hunting = this.options.hunting ? huntingSourceOf(set.type, field.name) : undefined;
    if (source?.kind === 'perParent' && hunting && this.#huntable(field, set.entities, hunting)) {
      return this.#hunted(field, set.entities, relationship, source, hunting);
    }
    if (source?.kind === 'perParent') {
      return this.#perEntity(set.entities, source, relationship.fanout, (children) =>
        this.entities(field, { type: relationship.type, kind: source.yields, entities: children }),
      );
    }
    if (source?.kind === 'embedded') {
      const children = embeddedIn(set.entities, (alert) => refFrom(source, alert as AlertDto));
      return this.entities(field, { type: relationship.type, kind: source.yields, entities: children });
    }
  }

  /** Whether the resolvers may answer this level by hunting: it asks only what hunting gives, of 2+ parents. */
  #huntable(field: PlannedField, entities: Entities, hunting: HuntingSource): boolean {
    const parents = entities.kind === 'known' ? entities.items.length : entities.hi;
    return parents >= 2 && field.selections.every((f) => huntingGives(hunting, f.name));
  }

  /**
   * A level hunting may serve: at least one query per chunk of parents that must be there (two when the
   * selection needs the accounts' statistics), at most one per chunk of all of them plus, should hunting
   * fail, the per-parent route's calls. The children are what hunting names (machines by id only).
   */
  async #hunted(
    field: PlannedField,
    entities: Entities,
    relationship: Relationship,
    source: PerParentSource,
    hunting: HuntingSource,
  ): Promise<void> {
    const hi = entities.kind === 'known' ? entities.items.length : entities.hi;
    const lo = entities.kind === 'known' ? hi : entities.lo;
    const perChunk = field.selections.some((f) => hunting.secondQuery?.includes(f.name)) ? 2 : 1;
    const min = lo >= 2 ? Math.ceil(lo / HUNTING_CHUNK_SIZE) * perChunk : 0;
    const max = Math.ceil(hi / HUNTING_CHUNK_SIZE) * perChunk;
    this.tally.addRange({ hunting: { min, max }, [source.api]: { min: 0, max: hi } }, { min, max: max + hi });
    return this.entities(field, {
      type: relationship.type,
      kind: hunting.yields,
      entities: unknown(0, hi * relationship.fanout, true),
    });
  }

  /**
   * A record found among the items of two relationships (a user known by name among its machines' logon
   * users): the resolver usually finds it on the first machine, so only that one is counted.
   */
  async #search(type: EntityType, source: SearchSource, entities: Entities): Promise<void> {
    const through = relationshipOf(type, source.through)!;
    const then = sourceOf(through.type, source.then, 'perParent');
    await this.#perEntity(entities, sourceOf(type, source.through, 'perParent'), through.fanout, (items) =>
      this.#perEntity(
        items.kind === 'known' ? known(items.items.slice(0, 1)) : items,
        then,
        1,
        async () => {},
        1,
      ),
    );
  }

  /** Records loaded by id through the batching loaders. */
  async #batchedRecords(source: ByIdSource, entities: Entities): Promise<void> {
    if (entities.kind === 'known') {
      const ids = [...new Set(entities.items.map((item) => (item as { id: string }).id))];
      await this.lookups(source, ids);
      return;
    }
    if (entities.hi === 0) return;
    // One id is one single lookup, several are batched: which API is not known before the ids are.
    const batches = Math.ceil(entities.hi / this.options[source.batchedBy]);
    const byApi: Partial<Record<DefenderApi, { min: number; max: number }>> = {
      [source.single]: { min: 0, max: 1 },
      [source.list]: { min: 0, max: batches },
    };
    this.tally.addRange(byApi, { min: entities.lo > 0 ? 1 : 0, max: Math.max(1, batches) });
  }

  /**
   * A route called once per distinct key (DataLoader deduplicates within the operation), at most `maxCalls`
   * times. Known entities are looked up in the cache, and what it holds becomes the known children; others
   * count one call each, and `fanout` children at most.
   */
  async #perEntity(
    entities: Entities,
    source: PerParentSource,
    fanout: number,
    children: (set: Entities) => Promise<void>,
    maxCalls = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    const { api } = source;
    if (entities.kind === 'unknown') {
      const lo = Math.min(entities.mayRepeat ? Math.min(entities.lo, 1) : entities.lo, maxCalls);
      this.tally.add(api, lo, Math.min(entities.hi, maxCalls));
      return children(unknown(0, entities.hi * fanout, true));
    }
    const keys = [
      ...new Set(entities.items.map((item) => distinctKeyOf(source, item)).filter((k) => k !== undefined)),
    ].slice(0, maxCalls);
    const answers = await this.options.lookup(keys.map((id) => ({ api, id })));
    const found: object[] = [];
    let uncached = 0;
    answers.forEach((answer, i) => {
      if (answer) found.push(...itemsOf(source, answer));
      else if (this.tally.first(`${api} ${keys[i]}`)) uncached++;
    });
    this.tally.add(api, uncached, uncached);
    return children(uncached === 0 ? known(found) : unknown(0, found.length + uncached * fanout, true));
  }
}

/** What a cached answer of a per-parent route holds: its collection, or its one entity (none for a 404). */
function itemsOf(source: PerParentSource, answer: CachedAnswer): object[] {
  if (answer.status === 404) return [];
  return source.answers === 'many' ? collection(answer) : [answer.body as object];
}
