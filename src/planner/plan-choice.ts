/**
 * The one rule that picks a relationship level's plan, read by the estimate before execution (walk.ts) and by
 * the level's batch at execution (graphql/hunting-plans.ts), so what the dry run reports is what runs.
 *
 * A level is hunted when its selection asks only what hunting gives (checked by the callers from the source
 * table), hunting's budget has a slot for every query before the deadline, and either at least
 * {@link MIN_HUNTED_PARENTS} parents' REST answers are not cached, or REST's budget cannot serve the uncached
 * ones before the deadline. Otherwise REST: with every answer cached REST costs nothing, and for one or two
 * parents two REST reads (tens of ms each) beat one hunting query (hundreds of ms) while both budgets are free.
 * When hunting's budget has no slot in time, REST, unless REST's has none either (then hunting, fewer calls).
 */

/** Fewest uncached parents for which a level is hunted while REST's budget could serve them in time. */
export const MIN_HUNTED_PARENTS = 3;

/** Which source serves a level: one hunting query per chunk of parents, or one REST call per parent. */
export type PlanSource = 'hunting' | 'rest';

/** What the choice weighs, as the caller knows it (exactly at execution, expected before it). */
export interface LevelFacts {
  /** The selection asks only fields hunting gives, every key may be sent to it, and no `first` is asked. */
  readonly huntable: boolean;
  /** Distinct parents whose REST relationship answer the cache does not hold. */
  readonly uncached: number;
  /** Hunting's budget serves the level's queries before the operation's deadline. */
  readonly huntingInTime: boolean;
  /** The REST route's budget serves one call per uncached parent before the deadline. */
  readonly restInTime: boolean;
}

export function choosePlan(facts: LevelFacts): PlanSource {
  if (!facts.huntable || facts.uncached === 0) return 'rest';
  // Neither budget serves the level in time: hunting, the fewer calls, has the better chance.
  if (!facts.huntingInTime) return facts.restInTime ? 'rest' : 'hunting';
  return facts.uncached >= MIN_HUNTED_PARENTS || !facts.restInTime ? 'hunting' : 'rest';
}
