import type { SelectionSetNode } from 'graphql';
import { Kind, parse } from 'graphql';

/** Root fields and the calls a naive resolver makes for each: `user(id:)` has no Defender route. */
const ROOT_CALLS: Readonly<Record<string, number>> = {
  machine: 1,
  machines: 1,
  alert: 1,
  alerts: 1,
  user: 0,
  rateLimit: 0,
};

/** Fields below the root that a naive resolver answers with one Defender call per parent object. */
const RELATIONSHIPS = new Set(['logonUsers', 'alerts', 'machines', 'user', 'machine']);

/**
 * The calls a gateway without DataLoader, batching or cache would make for this answer: one per root list or
 * lookup field, and one per resolved relationship field instance (per parent object, `null` answers included,
 * since the naive resolver calls to learn it is null). Read from the answer and the query's own fields, so
 * aliases count like any field.
 */
export function naiveCalls(query: string, data: Record<string, unknown>): number {
  const operation = parse(query).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) throw new Error('naiveCalls: expected an operation in the query');
  return walk(operation.selectionSet, data, true);
}

/** Counts one selection set over one object of the answer, recursing into its children. */
function walk(selections: SelectionSetNode, value: Record<string, unknown>, root: boolean): number {
  let calls = 0;
  for (const selection of selections.selections) {
    if (selection.kind !== Kind.FIELD)
      throw new Error(`naiveCalls: fragments are not supported (got ${selection.kind})`);
    const name = selection.name.value;
    const key = selection.alias?.value ?? name;
    if (!(key in value)) continue;
    if (root) calls += ROOT_CALLS[name] ?? 0;
    else if (RELATIONSHIPS.has(name)) calls += 1;
    const child = value[key];
    if (!selection.selectionSet || child === null || child === undefined) continue;
    for (const item of Array.isArray(child) ? child : [child]) {
      if (item !== null) calls += walk(selection.selectionSet, item as Record<string, unknown>, false);
    }
  }
  return calls;
}
