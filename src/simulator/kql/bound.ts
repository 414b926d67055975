// What binding an expression produces and needs (Bound, Column, Scope), shared by the binder, the function table and the aggregates.
import type { Expr } from './ast.js';
import { KqlError } from './lexer.js';
import type { KustoType, Value } from './values.js';
import { isNumeric } from './values.js';

/** A type-checked expression: its static type and how to compute it for one row. */
export interface Bound {
  readonly type: KustoType;
  readonly evaluate: (row: readonly Value[]) => Value;
  /** The same for every row (a literal or a scalar `let`), so it may be computed once. */
  readonly constant?: boolean;
}

export interface Column {
  readonly name: string;
  readonly type: KustoType;
}

/** What an expression may name: the row's columns, the query's scalar `let`s, the tenant's now. */
export interface Scope {
  readonly columns: readonly Column[];
  readonly lets: ReadonlyMap<string, { readonly type: KustoType; readonly value: Value }>;
  /** The query's `now()`, in ticks since the epoch. */
  readonly now: bigint;
  /** The operator being bound, for messages (`'where' operator: …`). */
  readonly operator: string;
  /**
   * Inside `summarize`: binds an aggregation call (`count()`, `max(x)`) and returns its per-group value.
   * Absent elsewhere, where an aggregation is an error.
   */
  readonly aggregate?: (call: Extract<Expr, { kind: 'call' }>) => Bound;
}

/** A refusal naming the operator being bound, as Kusto words it. */
export function semanticError(scope: Scope, message: string, offset: number): KqlError {
  return new KqlError(`'${scope.operator}' operator: ${message}`, offset);
}

/** A value known when the query is bound: the same for every row. */
export const constant = (type: KustoType, value: Value): Bound => ({
  type,
  evaluate: () => value,
  constant: true,
});

/** Whether two types may be compared or share a branch: equal, numeric both, or one is dynamic. */
export function comparable(a: KustoType, b: KustoType): boolean {
  return a === b || a === 'dynamic' || b === 'dynamic' || (isNumeric(a) && isNumeric(b));
}
