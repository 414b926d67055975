import type { Assignment, Expr, Operator, SortKey, Statement, Tabular } from './ast.js';
import { isTabular } from './ast.js';
import type { Bound, Column, Scope } from './bound.js';
import { semanticError } from './bound.js';
import { assertUnique, derivedName } from './columns.js';
import { join } from './join.js';
import { KqlError } from './lexer.js';
import { parseQuery } from './parser.js';
import { bind } from './scalar.js';
import { summarize } from './summarize.js';
import type { KustoType, Value } from './values.js';
import { compare, keyOf } from './values.js';

/** A table: typed columns and rows of values in column order. */
export interface Table {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Value[])[];
}

export interface EvaluateOptions {
  /** The tables a query may name. */
  readonly tables: ReadonlyMap<string, Table>;
  /** `now()` and `ago()`'s reference, in ticks since the epoch. */
  readonly now: bigint;
  /** The most rows any step may hold before the query is refused (a runaway join). Default 1,000,000. */
  readonly maxIntermediateRows?: number;
}

const DEFAULT_MAX_INTERMEDIATE_ROWS = 1_000_000;

/** Parses and runs a query. Every refusal (syntax, unknown name, type, size) is a `KqlError`. */
export function runQuery(source: string, options: EvaluateOptions): Table {
  try {
    return evaluateStatements(parseQuery(source), options);
  } catch (error) {
    // A stack or size limit of the engine itself: the query's fault, so a refusal rather than a crash.
    if (error instanceof RangeError) throw new KqlError('The query is too complex to run', 0);
    throw error;
  }
}

export function evaluateStatements(statements: readonly Statement[], options: EvaluateOptions): Table {
  const run = new Run(options);
  let result: Table | undefined;
  for (const statement of statements) {
    if (statement.kind === 'let') run.let(statement.name, statement.value);
    else result = run.tabular(statement.query);
  }
  if (!result) throw new KqlError('The query has no tabular expression statement', 0);
  return result;
}

type LetValue = { readonly type: KustoType; readonly value: Value };

/** One query's evaluation: its `let` bindings and row budget. */
class Run {
  readonly #scalars = new Map<string, LetValue>();
  readonly #tabulars = new Map<string, Table>();
  readonly #maxRows: number;

  constructor(readonly options: EvaluateOptions) {
    this.#maxRows = options.maxIntermediateRows ?? DEFAULT_MAX_INTERMEDIATE_ROWS;
  }

  let(name: string, value: Tabular | Expr): void {
    if (isTabular(value)) {
      // `let y = x;` where x is a scalar let is a scalar alias, not a table.
      const source = value.source;
      if ('name' in source && value.operators.length === 0 && this.#scalars.has(source.name)) {
        this.#scalars.set(name, this.#scalars.get(source.name)!);
        this.#tabulars.delete(name);
        return;
      }
      this.#tabulars.set(name, this.tabular(value));
      this.#scalars.delete(name);
      return;
    }
    const bound = bind(value, this.#scope([], 'let'));
    this.#scalars.set(name, { type: bound.type, value: bound.evaluate([]) });
    this.#tabulars.delete(name);
  }

  tabular(query: Tabular): Table {
    let table: Table;
    if ('operators' in query.source) table = this.tabular(query.source);
    else {
      const { name, offset } = query.source;
      const found = this.#tabulars.get(name) ?? this.options.tables.get(name);
      if (!found) throw new KqlError(`Failed to resolve table or column expression named '${name}'`, offset);
      table = found;
    }
    for (const operator of query.operators) table = this.#operator(table, operator);
    return table;
  }

  #scope(columns: readonly Column[], operator: string): Scope {
    return { columns, lets: this.#scalars, now: this.options.now, operator };
  }

  #checkSize(rows: number, offset: number): void {
    if (rows > this.#maxRows) {
      throw new KqlError(
        `The query needs more than ${this.#maxRows} rows in one step (a runaway join?); narrow it down`,
        offset,
      );
    }
  }

  #operator(input: Table, op: Operator): Table {
    switch (op.kind) {
      case 'where': {
        const scope = this.#scope(input.columns, 'where');
        const predicate = bind(op.predicate, scope);
        if (predicate.type !== 'bool') {
          throw semanticError(
            scope,
            `the predicate must be of type bool, not ${predicate.type}`,
            op.predicate.offset,
          );
        }
        return { columns: input.columns, rows: input.rows.filter((row) => predicate.evaluate(row) === true) };
      }
      case 'project':
      case 'extend':
        return this.#project(input, op.items, op.kind);
      case 'project-away': {
        const scope = this.#scope(input.columns, 'project-away');
        const drop = new Set<number>();
        for (const { name, offset } of op.names) {
          const index = input.columns.findIndex((c) => c.name === name);
          if (index === -1) throw semanticError(scope, `Failed to resolve column named '${name}'`, offset);
          drop.add(index);
        }
        const keep = input.columns.map((_, i) => i).filter((i) => !drop.has(i));
        return {
          columns: keep.map((i) => input.columns[i]!),
          rows: input.rows.map((row) => keep.map((i) => row[i]!)),
        };
      }
      case 'project-rename': {
        const scope = this.#scope(input.columns, 'project-rename');
        const columns = [...input.columns];
        for (const { name, from, offset } of op.renames) {
          const index = columns.findIndex((c) => c.name === from);
          if (index === -1) throw semanticError(scope, `Failed to resolve column named '${from}'`, offset);
          columns[index] = { name, type: columns[index]!.type };
        }
        assertUnique(columns, scope, op.offset);
        return { columns, rows: input.rows };
      }
      case 'summarize':
        return this.#summarize(input, op.aggregates, op.by, op.offset);
      case 'distinct': {
        const scope = this.#scope(input.columns, 'distinct');
        const indexes =
          op.names === '*'
            ? input.columns.map((_, i) => i)
            : op.names.map(({ name, offset }) => {
                const index = input.columns.findIndex((c) => c.name === name);
                if (index === -1)
                  throw semanticError(scope, `Failed to resolve column named '${name}'`, offset);
                return index;
              });
        const seen = new Set<string>();
        const rows: Value[][] = [];
        for (const row of input.rows) {
          const picked = indexes.map((i) => row[i]!);
          const key = picked.map(keyOf).join('\u0000');
          if (seen.has(key)) continue;
          seen.add(key);
          rows.push(picked);
        }
        return { columns: indexes.map((i) => input.columns[i]!), rows };
      }
      case 'join':
        return this.#join(input, op);
      case 'sort':
        return { columns: input.columns, rows: this.#sorted(input, op.keys, 'sort') };
      case 'take': {
        const n = this.#count(op.count, 'take');
        return { columns: input.columns, rows: input.rows.slice(0, n) };
      }
      case 'top': {
        const n = this.#count(op.count, 'top');
        return { columns: input.columns, rows: this.#sorted(input, [op.key], 'top').slice(0, n) };
      }
      case 'count':
        return { columns: [{ name: 'Count', type: 'long' }], rows: [[input.rows.length]] };
    }
  }

  #count(expr: Expr, operator: string): number {
    const scope = this.#scope([], operator);
    const bound = bind(expr, scope);
    const n = bound.evaluate([]);
    if ((bound.type !== 'long' && bound.type !== 'int') || typeof n !== 'number' || n < 0) {
      throw semanticError(scope, 'expects a non-negative integer constant', expr.offset);
    }
    return n;
  }

  #project(input: Table, items: readonly Assignment[], kind: 'project' | 'extend'): Table {
    const scope = this.#scope(input.columns, kind);
    const columns: Column[] = kind === 'extend' ? [...input.columns] : [];
    const computed: { index: number; bound: Bound }[] = [];
    let unnamed = 0;
    for (const item of items) {
      const bound = bind(item.expr, scope);
      const name = item.name ?? derivedName(item.expr) ?? `Column${++unnamed}`;
      const existing = columns.findIndex((c) => c.name === name);
      if (existing !== -1 && kind === 'project') {
        throw semanticError(scope, `the column '${name}' is projected twice`, item.offset);
      }
      const index = existing === -1 ? columns.length : existing;
      columns[index] = { name, type: bound.type };
      computed.push({ index, bound });
    }
    const rows = input.rows.map((row) => {
      const out: Value[] = kind === 'extend' ? [...row] : new Array<Value>(columns.length);
      // Every expression sees the input row, as in Kusto: an extend item cannot read a sibling.
      for (const { index, bound } of computed) out[index] = bound.evaluate(row);
      return out;
    });
    return { columns, rows };
  }

  #summarize(
    input: Table,
    aggregates: readonly Assignment[],
    by: readonly Assignment[],
    offset: number,
  ): Table {
    return summarize(input, aggregates, by, offset, this.#scope(input.columns, 'summarize'));
  }

  #join(left: Table, op: Extract<Operator, { kind: 'join' }>): Table {
    const right = this.tabular(op.right);
    return join(left, right, op, this.#scope(left.columns, 'join'), (rows, offset) =>
      this.#checkSize(rows, offset),
    );
  }

  #sorted(input: Table, keys: readonly SortKey[], operator: string): (readonly Value[])[] {
    const scope = this.#scope(input.columns, operator);
    const bound = keys.map((k) => {
      const b = bind(k.expr, scope);
      if (b.type === 'dynamic')
        throw semanticError(scope, 'cannot order by a value of type dynamic', k.expr.offset);
      return { ...k, bound: b };
    });
    const decorated = input.rows.map((row) => ({ row, values: bound.map((k) => k.bound.evaluate(row)) }));
    decorated.sort((a, b) => {
      for (let i = 0; i < bound.length; i++) {
        const { descending, nullsFirst } = bound[i]!;
        const x = a.values[i]!;
        const y = b.values[i]!;
        if (x === null || y === null) {
          if (x === y) continue;
          return (x === null) === nullsFirst ? -1 : 1;
        }
        const c = compare(x, y);
        if (c !== 0) return descending ? -c : c;
      }
      return 0;
    });
    return decorated.map((d) => d.row);
  }
}
