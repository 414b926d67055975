import type { CachedAnswer } from '../cache/entity-cache.js';
import type { EntityType, ParentKind } from '../graphql/sources.js';
import type { ListOrigin } from './tally.js';

/**
 * Entities a field's subselection applies to: the exact objects, when the cache already holds what the field
 * will resolve from (then every call below is known); or only how many there can be, when they come from calls
 * not made yet. `mayRepeat` says one entity may stand more than once (so per-entity calls are deduplicated to
 * as few as one). Known items are the very parent objects the resolvers will receive (parents.ts).
 */
export type Entities =
  | { readonly kind: 'known'; readonly items: readonly object[] }
  | {
      readonly kind: 'unknown';
      readonly lo: number;
      readonly hi: number;
      readonly mayRepeat: boolean;
      /** How many are expected (a mean, from `first` and the learned fan-out), and how many distinct. */
      readonly expected: number;
      readonly distinct: number;
    };

/** Entities of one type and parent kind: what the source table says they carry and how the rest is loaded. */
export interface EntitySet {
  readonly type: EntityType;
  readonly kind: ParentKind;
  readonly entities: Entities;
  /** The list they came from, when they came from one (for teaching a cheaper form). */
  readonly origin?: ListOrigin;
}

export const known = (items: readonly object[]): Entities => ({ kind: 'known', items });

/** Entities not known yet: between `lo` and `hi`, about `expected` of them, `distinct` of those distinct. */
export const unknown = (
  lo: number,
  hi: number,
  mayRepeat: boolean,
  expected = hi,
  distinct = expected,
): Entities => ({
  kind: 'unknown',
  lo,
  hi,
  mayRepeat,
  expected: Math.min(hi, expected),
  distinct: Math.min(hi, expected, distinct),
});

/** The one entity of a lookup: known when cached (none when the cache holds a 404), else zero or one. */
export function oneOf(answer: CachedAnswer | undefined): Entities {
  if (!answer) return unknown(0, 1, false);
  return known(answer.status === 404 ? [] : [answer.body as object]);
}

/**
 * Children found in each parent's own JSON (an alert's machine or user): as many as the parents, at most; of
 * unknown parents, `share` of them are expected to name one, and `distinct` of those children to be distinct.
 */
export function embeddedIn(
  set: Entities,
  child: (parent: object) => object | null,
  share = 1,
  distinct = 1,
): Entities {
  if (set.kind === 'known') return known(set.items.map(child).filter((c): c is object => c !== null));
  return unknown(0, set.hi, true, set.expected * share, set.distinct * share * distinct);
}
