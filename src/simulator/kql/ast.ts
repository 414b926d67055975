/** The syntax tree of the KQL subset the simulator runs (`docs/defender-api.md` §8.3). Offsets point into the query. */

export type Literal =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'long' | 'int' | 'real'; readonly value: number | null }
  | { readonly type: 'bool'; readonly value: boolean | null }
  | { readonly type: 'datetime' | 'timespan'; readonly value: bigint | null }
  | { readonly type: 'dynamic'; readonly value: unknown };

export type Expr = (
  | { readonly kind: 'literal'; readonly literal: Literal }
  /** A column or a scalar `let` name. */
  | { readonly kind: 'name'; readonly name: string }
  /** `$left.x` / `$right.x`, only in `join … on`. */
  | { readonly kind: 'side'; readonly side: 'left' | 'right'; readonly name: string }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] }
  /** `*` as a function argument (`arg_max(Timestamp, *)`). */
  | { readonly kind: 'star' }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr }
  /** `x in (a, b)`, `x !in~ (list)`, `x has_any (list)`. */
  | { readonly kind: 'in'; readonly op: string; readonly left: Expr; readonly list: readonly Expr[] }
  | { readonly kind: 'negate'; readonly operand: Expr }
  | { readonly kind: 'member'; readonly target: Expr; readonly name: string }
  | { readonly kind: 'index'; readonly target: Expr; readonly index: Expr }
) & { readonly offset: number };

/** `name = expr` or a bare `expr` in project, extend, summarize. */
export interface Assignment {
  readonly name: string | undefined;
  readonly expr: Expr;
  readonly offset: number;
}

export interface SortKey {
  readonly expr: Expr;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface JoinKey {
  readonly left: string;
  readonly right: string;
  readonly offset: number;
}

export type Operator = (
  | { readonly kind: 'where'; readonly predicate: Expr }
  | { readonly kind: 'project'; readonly items: readonly Assignment[] }
  | { readonly kind: 'extend'; readonly items: readonly Assignment[] }
  | { readonly kind: 'project-away'; readonly names: readonly { name: string; offset: number }[] }
  | {
      readonly kind: 'project-rename';
      readonly renames: readonly { name: string; from: string; offset: number }[];
    }
  | {
      readonly kind: 'summarize';
      readonly aggregates: readonly Assignment[];
      readonly by: readonly Assignment[];
    }
  | { readonly kind: 'distinct'; readonly names: readonly { name: string; offset: number }[] | '*' }
  | {
      readonly kind: 'join';
      readonly join: JoinKind;
      readonly right: Tabular;
      readonly on: readonly JoinKey[];
    }
  | { readonly kind: 'sort'; readonly keys: readonly SortKey[] }
  | { readonly kind: 'take'; readonly count: Expr }
  | { readonly kind: 'top'; readonly count: Expr; readonly key: SortKey }
  | { readonly kind: 'count' }
) & { readonly offset: number };

export type JoinKind =
  'inner' | 'innerunique' | 'leftouter' | 'leftsemi' | 'leftanti' | 'rightsemi' | 'rightanti';

export interface Tabular {
  /** A table or tabular `let` name, or a parenthesised tabular expression. */
  readonly source: { readonly name: string; readonly offset: number } | Tabular;
  readonly operators: readonly Operator[];
  readonly offset: number;
}

export type Statement =
  | { readonly kind: 'let'; readonly name: string; readonly value: Tabular | Expr; readonly offset: number }
  | { readonly kind: 'query'; readonly query: Tabular; readonly offset: number };

export const isTabular = (value: Tabular | Expr): value is Tabular => 'operators' in value;
