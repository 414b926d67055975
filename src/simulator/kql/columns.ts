// Kusto's rules for output column names, shared by project, summarize and project-rename.
import type { Expr } from './ast.js';
import type { Column, Scope } from './bound.js';
import { semanticError } from './bound.js';
import { AGGREGATES } from './scalar.js';

/** Refuses an output with two columns of one name. */
export function assertUnique(columns: readonly Column[], scope: Scope, offset: number): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw semanticError(scope, `the output has two columns named '${c.name}'`, offset);
    seen.add(c.name);
  }
}

/** The name Kusto gives an unnamed column: the column itself, or `a_b` for the dynamic path `a.b`. */
export function derivedName(expr: Expr): string | undefined {
  if (expr.kind === 'name') return expr.name;
  if (expr.kind === 'member') {
    const base = derivedName(expr.target);
    return base === undefined ? undefined : `${base}_${expr.name}`;
  }
  if (expr.kind === 'call' && expr.name === 'bin' && expr.args[0]) return derivedName(expr.args[0]);
  return undefined;
}

const AGGREGATE_PREFIX: Readonly<Record<string, string>> = {
  count: 'count_',
  countif: 'countif_',
  make_set: 'set_',
  make_set_if: 'set_',
  make_list: 'list_',
  make_list_if: 'list_',
};

/** Kusto's default names: `count_`, `dcount_X`, `max_X`, `set_X`. */
export function aggregateName(expr: Expr): string | undefined {
  if (expr.kind !== 'call' || !AGGREGATES.has(expr.name)) return undefined;
  const prefix = AGGREGATE_PREFIX[expr.name] ?? `${expr.name}_`;
  if (expr.name === 'count' || expr.name === 'countif') return prefix;
  const arg = expr.args[0];
  return `${prefix}${(arg && derivedName(arg)) ?? ''}`;
}
