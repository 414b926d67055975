import type { CachedAnswer } from '../cache/entity-cache.js';
import type { EntityType, ParentKind } from '../graphql/sources.js';

/**
 * Entities a field's subselection applies to: the exact objects, when the cache already holds what the field
 * will resolve from (then every call below is known); or only how many there can be, when they come from calls
 * not made yet. `mayRepeat` says one entity may stand more than once (so per-entity calls are deduplicated to
 * as few as one). Known items are the very parent objects the resolvers will receive (parents.ts).
 */
export type Entities =
  | { readonly kind: 'known'; readonly items: readonly object[] }
  | { readonly kind: 'unknown'; readonly lo: number; readonly hi: number; readonly mayRepeat: boolean };

/** Entities of one type and parent kind: what the source table says they carry and how the rest is loaded. */
export interface EntitySet {
  readonly type: EntityType;
  readonly kind: ParentKind;
  readonly entities: Entities;
}

export const known = (items: readonly object[]): Entities => ({ kind: 'known', items });

export const unknown = (lo: number, hi: number, mayRepeat: boolean): Entities => ({
  kind: 'unknown',
  lo,
  hi,
  mayRepeat,
});

/** The one entity of a lookup: known when cached (none when the cache holds a 404), else zero or one. */
export function oneOf(answer: CachedAnswer | undefined): Entities {
  if (!answer) return unknown(0, 1, false);
  return known(answer.status === 404 ? [] : [answer.body as object]);
}

/** Children found in each parent's own JSON (an alert's machine or user): as many as the parents, at most. */
export function embeddedIn(set: Entities, child: (parent: object) => object | null): Entities {
  if (set.kind === 'known') return known(set.items.map(child).filter((c): c is object => c !== null));
  return unknown(0, set.hi, true);
}
