import type { DocumentNode } from 'graphql';
import { plannedQuery } from './operation.js';
import { planRoots } from './roots.js';
import type { CostEstimate } from './tally.js';
import { Tally } from './tally.js';
import type { EstimateOptions } from './walk.js';
import { Planner } from './walk.js';

export type { CallRange, CostEstimate, FieldCost } from './tally.js';
export type { EstimateOptions } from './walk.js';

/**
 * Estimates the upstream calls of an operation before it runs, mirroring how the resolvers spend them (both
 * read the source table, src/graphql/sources.ts): which fields come free from a parent's JSON, which
 * per-entity routes DataLoader deduplicates, how lookups by id batch, and what the cache already holds. Bad
 * input (an id or filter a resolver would refuse) costs its field nothing, so it is refused before any call.
 * Undefined for anything but a query whose variables coerce.
 */
export async function estimateCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | undefined,
  options: EstimateOptions,
): Promise<CostEstimate | undefined> {
  const roots = plannedQuery(document, operationName, rawVariables);
  if (!roots) return undefined;
  const planner = new Planner(options, new Tally());
  await planRoots(planner, roots);
  return planner.tally.estimate();
}
