import { describe, expect, it } from 'vitest';
import type { LevelFacts } from '../../../src/planner/plan-choice.js';
import { MIN_HUNTED_PARENTS, choosePlan } from '../../../src/planner/plan-choice.js';

/** The one rule both the estimate and the execution follow, as a table of the cases it tells apart. */

const free: LevelFacts = { huntable: true, uncached: 20, huntingInTime: true, restInTime: true };

describe('choosePlan', () => {
  it.each<[string, Partial<LevelFacts>, 'hunting' | 'rest']>([
    ['many uncached parents, both budgets free', {}, 'hunting'],
    ['a field hunting cannot give (or a key it cannot be sent)', { huntable: false }, 'rest'],
    ['every REST answer cached: REST costs nothing', { uncached: 0 }, 'rest'],
    ['two uncached parents while REST can serve them', { uncached: MIN_HUNTED_PARENTS - 1 }, 'rest'],
    ['three uncached parents', { uncached: MIN_HUNTED_PARENTS }, 'hunting'],
    ['two uncached parents that REST cannot serve in time', { uncached: 2, restInTime: false }, 'hunting'],
    ['no hunting slot before the deadline', { huntingInTime: false }, 'rest'],
    ['neither budget in time: the fewer calls', { huntingInTime: false, restInTime: false }, 'hunting'],
    ['not huntable, whatever the budgets', { huntable: false, restInTime: false }, 'rest'],
  ])('%s', (_, facts, plan) => {
    expect(choosePlan({ ...free, ...facts })).toBe(plan);
  });
});
