import type { CachedAnswer } from '../cache/entity-cache.js';
import type { DefenderRequest } from '../defender/client.js';
import { collection } from '../defender/resources.js';
import type { AlertDto } from '../defender/types.js';
import { refFrom } from '../graphql/parents.js';
import type {
  ByIdSource,
  EntityType,
  HuntingSource,
  ParentKind,
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
import type { DefenderApi } from '../defender/apis.js';
import { HUNTING_CHUNK_SIZE } from '../defender/kql.js';
import { MIN_HUNTED_PARENTS, choosePlan } from './plan-choice.js';
import type { Entities, EntitySet } from './entities.js';
import { embeddedIn, known, unknown } from './entities.js';
import type { FanoutView } from './fanout.js';
import { distinctRatio, edgeOf, expectedLength } from './fanout.js';
import type { PlannedField } from './operation.js';
import type { Charge, Tally } from './tally.js';

export interface EstimateOptions {
  /** What the cache holds for these requests (read without counting, and undefined when bypassed). */
  readonly lookup: (requests: readonly DefenderRequest[]) => Promise<(CachedAnswer | undefined)[]>;
  /** Ids per batched `$filter=id in (…)` call (the loaders' batch size). */
  readonly batchSize: number;
  /** Cap on `first`; a larger one is BAD_USER_INPUT, as the resolvers say. */
  readonly maxPageSize: number;
  /** The fan-out learnt from earlier answers. Default: none, the source table's priors alone. */
  readonly fanout?: FanoutView;
  /** `DEFENDER_PLANS=auto`: levels hunting can serve are counted as hunting queries. Default false. */
  readonly hunting?: boolean;
  /**
   * Whether an API's budget serves `calls` more before the operation's deadline, for the plan choice
   * (plan-choice.ts). Default: always.
   */
  readonly inTime?: (api: DefenderApi, calls: number) => boolean;
}

/** The `first` a relationship field keeps, or undefined for the whole list (`bad` when a resolver refuses it). */
export function firstOf(field: PlannedField, maxPageSize: number): number | undefined | 'bad' {
  const first = field.args['first'];
  if (first === undefined || first === null) return undefined;
  return Number.isInteger(first) && (first as number) >= 0 && (first as number) <= maxPageSize
    ? (first as number)
    : 'bad';
}

/**
 * The calls below a field, level by level, as the resolvers spend them (both follow the source table,
 * sources.ts): a partial entity's record only when a field it does not carry is asked, each relationship from
 * its source, per-entity routes once per distinct key (DataLoader), lookups by id batched, and nothing the
 * cache holds. Besides the fewest and most calls, the expected ones: `first`, then the fan-out learnt per edge
 * (fanout.ts) blended with the table's prior. Each call is charged to the field it is made for (`path`).
 */
export class Planner {
  constructor(
    readonly options: EstimateOptions,
    readonly tally: Tally,
  ) {}

  /** What a field asks of a set of entities: their records when it needs them, then each relationship. */
  async entities(field: PlannedField, set: EntitySet, path: readonly string[]): Promise<void> {
    if (field.selections.some((f) => !isFree(set.type, set.kind, f.name))) await this.#records(set, path);
    for (const f of field.selections) {
      const relationship = relationshipOf(set.type, f.name);
      if (relationship) await this.#related(f, set, relationship, [...path, f.name]);
    }
  }

  /** A connection's `nodes` and `edges { node }` both walk the page. */
  async connection(field: PlannedField, page: EntitySet, path: readonly string[]): Promise<void> {
    for (const f of field.selections) {
      if (f.name === 'nodes') await this.entities(f, page, [...path, 'nodes']);
      if (f.name === 'edges') {
        for (const e of f.selections)
          if (e.name === 'node') await this.entities(e, page, [...path, 'edges', 'node']);
      }
    }
  }

  /** A list page: known when cached, else one call (per distinct request) for up to `top` entities. */
  async page(request: DefenderRequest, top: number, charge: Charge): Promise<Entities> {
    const [cached] = await this.options.lookup([request]);
    if (cached) return known(cached.status === 404 ? [] : collection(cached).slice(0, top));
    this.tally.add(
      request.api,
      { min: 1, max: 1, expected: 1 },
      charge,
      `${request.api} ${request.id ?? ''}?${JSON.stringify(request.query ?? {})}`,
    );
    return unknown(0, top, false);
  }

  /** Lookups by id, all at once: one call for one uncached id, else one batched call per batch. */
  async lookups(
    source: ByIdSource,
    ids: readonly string[],
    charge: Charge,
  ): Promise<(CachedAnswer | undefined)[]> {
    const answers = await this.options.lookup(ids.map((id) => ({ api: source.single, id })));
    this.#missing(source, new Set(ids.filter((_, i) => !answers[i])).size, charge);
    return answers;
  }

  /** The calls for `missing` uncached ids of a batched source. */
  #missing(source: ByIdSource, missing: number, charge: Charge): void {
    const batches = Math.ceil(missing / this.options[source.batchedBy]);
    if (missing === 1) this.tally.add(source.single, exactly(1), charge);
    else if (missing > 1) this.tally.add(source.list, exactly(batches), charge);
  }

  /** The full records of partial entities, from the source the table gives their kind. */
  async #records(set: EntitySet, path: readonly string[]): Promise<void> {
    const source = recordSourceOf(set.type, set.kind);
    if (!source) return;
    const charge = { path, parentType: set.type, relationship: false, origin: set.origin };
    if (source.kind === 'byId') return this.#batchedRecords(source, set.entities, charge);
    if (source.kind === 'search') return this.#search(set.type, source, set.entities, charge);
    return this.#perEntity(set.entities, source, { fanout: 1, first: undefined }, charge, async () => {});
  }

  /** A relationship from its preferred source: its items become the next level's entities. */
  async #related(
    field: PlannedField,
    set: EntitySet,
    relationship: Relationship,
    path: readonly string[],
  ): Promise<void> {
    const source = relationship.sources[0];
    const first = firstOf(field, this.options.maxPageSize);
    // The resolver refuses a bad `first` before calling: nothing below it runs.
    if (first === 'bad') return;
    const counts = this.options.fanout?.counts(edgeOf(set.type, set.kind, field.name));
    const fan = {
      fanout: relationship.fanout,
      first,
      length: expectedLength(counts, relationship.fanout, first),
      distinct: distinctRatio(counts),
    };
    const charge = { path, parentType: set.type, relationship: true, origin: set.origin };
    const origin = {
      path,
      field: field.name,
      kind: 'relationship' as const,
      perParent: fan.length,
    };
    const hunting =
      this.options.hunting && first === undefined ? huntingSourceOf(set.type, field.name) : undefined;
    if (source?.kind === 'perParent' && hunting) {
      const uncached = await this.#uncached(source, set.entities);
      const perChunk = field.selections.some((f) => hunting.secondQuery?.includes(f.name)) ? 2 : 1;
      const inTime = this.options.inTime ?? (() => true);
      const plan = choosePlan({
        huntable: field.selections.every((f) => huntingGives(hunting, f.name)),
        uncached,
        huntingInTime: inTime('hunting', huntingQueries(uncached, perChunk)),
        restInTime: inTime(source.api, Math.ceil(uncached)),
      });
      if (plan === 'hunting') {
        const expected =
          set.entities.kind === 'known'
            ? huntingQueries(uncached, perChunk)
            : expectedHuntingQueries(uncached, perChunk);
        this.tally.plan({ path: path.join('.'), source: 'hunting', calls: expected });
        return this.#hunted(field, set.entities, relationship, source, hunting, fan, charge, origin, path, {
          uncached,
          perChunk,
        });
      }
      this.tally.plan({ path: path.join('.'), source: 'rest', calls: round(uncached) });
    }
    if (source?.kind === 'perParent') {
      return this.#perEntity(set.entities, source, fan, charge, (children) =>
        this.entities(
          field,
          { type: relationship.type, kind: source.yields, entities: children, origin },
          path,
        ),
      );
    }
    if (source?.kind === 'embedded') {
      const children = embeddedIn(
        set.entities,
        (alert) => refFrom(source, alert as AlertDto),
        fan.length,
        fan.distinct,
      );
      return this.entities(
        field,
        {
          type: relationship.type,
          kind: source.yields,
          entities: children,
          ...(set.origin && { origin: set.origin }),
        },
        path,
      );
    }
  }

  /**
   * The distinct parents whose REST relationship answers the cache does not hold: counted when the parents are
   * known, else the expected distinct ones (whether any of those is cached is not known before they are).
   */
  async #uncached(source: PerParentSource, entities: Entities): Promise<number> {
    if (entities.kind === 'unknown') return entities.distinct;
    const keys = [
      ...new Set(entities.items.map((item) => distinctKeyOf(source, item)).filter((k) => k !== undefined)),
    ];
    const answers = await this.options.lookup(keys.map((id) => ({ api: source.api, id })));
    return answers.filter((answer) => !answer).length;
  }

  /**
   * A level the plan choice gives hunting: one query per chunk of uncached parents (two when the selection
   * needs the accounts' statistics), at least for the parents that must be there, at most for all of them
   * plus, should hunting fail, the per-parent route's calls (the fallback is never expected). The children
   * are what hunting names (machines by id and name).
   */
  async #hunted(
    field: PlannedField,
    entities: Entities,
    relationship: Relationship,
    source: PerParentSource,
    hunting: HuntingSource,
    fan: { fanout: number; length: number; distinct: number },
    charge: Charge,
    origin: NonNullable<EntitySet['origin']>,
    path: readonly string[],
    level: { uncached: number; perChunk: number },
  ): Promise<void> {
    const known = entities.kind === 'known';
    const hi = known ? entities.items.length : entities.hi;
    const parents = known ? hi : entities.distinct;
    const queries = (n: number) => huntingQueries(n, level.perChunk);
    const lo = known ? level.uncached : entities.lo;
    const range = {
      min: lo >= MIN_HUNTED_PARENTS ? queries(lo) : 0,
      max: queries(known ? level.uncached : hi),
      expected: known ? queries(level.uncached) : expectedHuntingQueries(level.uncached, level.perChunk),
    };
    this.tally.addRange(
      { hunting: range, [source.api]: { min: 0, max: hi, expected: 0 } },
      { ...range, max: range.max + hi },
      charge,
    );
    const children = unknown(
      0,
      hi * fan.fanout,
      true,
      parents * fan.length,
      parents * fan.length * fan.distinct,
    );
    return this.entities(
      field,
      { type: relationship.type, kind: hunting.yields, entities: children, origin },
      path,
    );
  }

  /**
   * A record found among the items of two relationships (a user known by name among its machines' logon
   * users): the resolver usually finds it on the first machine, so only that one is counted.
   */
  async #search(type: EntityType, source: SearchSource, entities: Entities, charge: Charge): Promise<void> {
    const through = relationshipOf(type, source.through)!;
    const then = sourceOf(through.type, source.then, 'perParent');
    const kind: ParentKind = 'nameRef';
    const counts = this.options.fanout?.counts(edgeOf(type, kind, source.through));
    const fan = {
      fanout: through.fanout,
      first: undefined,
      length: expectedLength(counts, through.fanout),
      distinct: distinctRatio(counts),
    };
    await this.#perEntity(entities, sourceOf(type, source.through, 'perParent'), fan, charge, (items) =>
      this.#perEntity(
        items.kind === 'known' ? known(items.items.slice(0, 1)) : items,
        then,
        { fanout: 1, first: undefined },
        charge,
        async () => {},
        1,
      ),
    );
  }

  /** Records loaded by id through the batching loaders. */
  async #batchedRecords(source: ByIdSource, entities: Entities, charge: Charge): Promise<void> {
    if (entities.kind === 'known') {
      const ids = [...new Set(entities.items.map((item) => (item as { id: string }).id))];
      await this.lookups(source, ids, charge);
      return;
    }
    if (entities.hi === 0) return;
    // One id is one single lookup, several are batched: which API is not known before the ids are.
    const batches = Math.ceil(entities.hi / this.options[source.batchedBy]);
    const byApi = {
      [source.single]: { min: 0, max: 1, expected: 0 },
      [source.list]: { min: 0, max: batches, expected: 0 },
    };
    this.tally.addRange(
      byApi,
      { min: entities.lo > 0 ? 1 : 0, max: Math.max(1, batches), expected: 0 },
      charge,
    );
    // Expected: the loaders batch every id of the operation together.
    this.tally.pool(source.single, source.list, this.options[source.batchedBy], entities.distinct, charge);
  }

  /**
   * A route called once per distinct key (DataLoader deduplicates within the operation), at most `maxCalls`
   * times. Known entities are looked up in the cache, and what it holds becomes the known children (the first
   * `first` of each list); others count one call each, and at most `min(first, fanout)` children, about
   * `length` of them, `distinct` of those distinct.
   */
  async #perEntity(
    entities: Entities,
    source: PerParentSource,
    fan: { fanout: number; first: number | undefined; length?: number; distinct?: number },
    charge: Charge,
    children: (set: Entities) => Promise<void>,
    maxCalls = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    const { api } = source;
    const most = Math.min(fan.first ?? Number.POSITIVE_INFINITY, fan.fanout);
    const length = fan.length ?? most;
    const distinct = fan.distinct ?? 1;
    if (entities.kind === 'unknown') {
      const lo = Math.min(entities.mayRepeat ? Math.min(entities.lo, 1) : entities.lo, maxCalls);
      // Per-parent keys are the parent's id or name, except an alert's user (by the alert's id).
      const parents = source.key === 'alertId' ? entities.expected : entities.distinct;
      const calls = Math.min(parents, maxCalls);
      this.tally.add(api, { min: lo, max: Math.min(entities.hi, maxCalls), expected: calls }, charge);
      return children(unknown(0, entities.hi * most, true, parents * length, parents * length * distinct));
    }
    const keys = [
      ...new Set(entities.items.map((item) => distinctKeyOf(source, item)).filter((k) => k !== undefined)),
    ].slice(0, maxCalls);
    const answers = await this.options.lookup(keys.map((id) => ({ api, id })));
    const found: object[] = [];
    let uncached = 0;
    answers.forEach((answer, i) => {
      if (answer) found.push(...itemsOf(source, answer).slice(0, fan.first));
      else if (this.tally.first(`${api} ${keys[i]}`)) uncached++;
    });
    this.tally.add(api, exactly(uncached), charge);
    if (uncached === 0) return children(known(found));
    const expected = found.length + uncached * length;
    return children(
      unknown(0, found.length + uncached * most, true, expected, found.length + uncached * length * distinct),
    );
  }
}

const exactly = (calls: number) => ({ min: calls, max: calls, expected: calls });

/** Hunting queries for `parents` parents: one per chunk (at least one when there are any), times `perChunk`. */
function huntingQueries(parents: number, perChunk: number): number {
  return parents > 0 ? Math.ceil(parents / HUNTING_CHUNK_SIZE) * perChunk : 0;
}

/**
 * The queries expected for an expected number of parents: `⌈n / chunk⌉` is a step, and `n` is uncertain by
 * more than a chunk's worth near a step, where the mean of `⌈x / chunk⌉` over the `x` it may be is about
 * `n / chunk + ½`; never less than one query for parents there are.
 */
function expectedHuntingQueries(parents: number, perChunk: number): number {
  return parents > 0 ? Math.max(1, parents / HUNTING_CHUNK_SIZE + 0.5) * perChunk : 0;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** What a cached answer of a per-parent route holds: its collection, or its one entity (none for a 404). */
function itemsOf(source: PerParentSource, answer: CachedAnswer): object[] {
  if (answer.status === 404) return [];
  return source.answers === 'many' ? collection(answer) : [answer.body as object];
}
