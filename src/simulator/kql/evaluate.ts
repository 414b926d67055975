import type { Assignment, Expr, Operator, SortKey, Statement, Tabular } from './ast.js';
import { isTabular } from './ast.js';
import type { Accumulator, RowPicker, State } from './aggregate.js';
import { bindAccumulator, bindRowPicker } from './aggregate.js';
import { KqlError } from './lexer.js';
import { parseQuery } from './parser.js';
import type { Bound, Column, Scope } from './bound.js';
import { semanticError } from './bound.js';
import { AGGREGATES, bind } from './scalar.js';
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
    const scope = this.#scope(input.columns, 'summarize');
    let unnamed = 0;
    const keys = by.map((item) => ({
      name: item.name ?? derivedName(item.expr) ?? `Column${++unnamed}`,
      bound: bind(item.expr, scope),
      offset: item.offset,
    }));
    const byNames = new Set(keys.map((k) => k.name));

    type Output =
      | { kind: 'value'; name: string; bound: Bound; accumulators: Accumulator[] }
      | { kind: 'picker'; picker: RowPicker };
    const outputs: Output[] = [];
    for (const item of aggregates) {
      const expr = item.expr;
      const picksRow =
        expr.kind === 'call' &&
        (['arg_max', 'arg_min'].includes(expr.name) ||
          (['take_any', 'any'].includes(expr.name) &&
            expr.args.every((a) => a.kind === 'name' || a.kind === 'star')));
      if (picksRow && expr.kind === 'call') {
        const picker = bindRowPicker(expr, undefined, scope, byNames);
        if (item.name !== undefined) {
          if (picker.outputs.length !== 1 && expr.name !== 'arg_max' && expr.name !== 'arg_min') {
            throw semanticError(scope, `${expr.name}() of several columns cannot take one name`, item.offset);
          }
          const [first, ...rest] = picker.outputs;
          outputs.push({
            kind: 'picker',
            picker: {
              ...picker,
              outputs: [{ ...first!, column: { ...first!.column, name: item.name } }, ...rest],
            },
          });
        } else outputs.push({ kind: 'picker', picker });
        continue;
      }
      // Any expression over aggregations (`count() * 2`, `strcat_array(make_set(x), ", ")`): each
      // aggregation becomes a slot of the group, and the expression is evaluated over the slots.
      const accumulators: Accumulator[] = [];
      const post: Scope = {
        ...this.#scope([], 'summarize'),
        aggregate: (call) => {
          const slot = accumulators.length;
          const accumulator = bindAccumulator(call, scope);
          accumulators.push(accumulator);
          return { type: accumulator.type, evaluate: (slots) => slots[slot]! };
        },
      };
      let bound: Bound;
      try {
        bound = bind(expr, post);
      } catch (error) {
        if (error instanceof KqlError && /Failed to resolve scalar expression/.test(error.message)) {
          throw semanticError(
            scope,
            `${error.message.replace(/^'summarize' operator: /, '')}: outside an aggregation, summarize can only name its by columns`,
            error.offset,
          );
        }
        throw error;
      }
      if (accumulators.length === 0) {
        throw semanticError(
          scope,
          'each summarize expression needs an aggregation such as count() or max(x)',
          item.offset,
        );
      }
      const name = item.name ?? aggregateName(expr) ?? `Column${++unnamed}`;
      outputs.push({ kind: 'value', name, bound, accumulators });
    }

    const columns: Column[] = keys.map((k) => ({ name: k.name, type: k.bound.type }));
    for (const output of outputs) {
      if (output.kind === 'value') columns.push({ name: output.name, type: output.bound.type });
      else
        columns.push(
          ...output.picker.outputs.filter((o) => !byNames.has(o.column.name)).map((o) => o.column),
        );
    }
    assertUnique(columns, scope, offset);

    interface Group {
      readonly key: Value[];
      readonly states: (State[] | ReturnType<RowPicker['create']>)[];
    }
    const groups = new Map<string, Group>();
    const newGroup = (key: Value[]): Group => ({
      key,
      states: outputs.map((o) =>
        o.kind === 'value' ? o.accumulators.map((a) => a.create()) : o.picker.create(),
      ),
    });
    for (const row of input.rows) {
      const key = keys.map((k) => k.bound.evaluate(row));
      const id = key.map(keyOf).join('\u0000');
      let group = groups.get(id);
      if (!group) {
        group = newGroup(key);
        groups.set(id, group);
      }
      for (const state of group.states) {
        if (Array.isArray(state)) for (const s of state) s.add(row);
        else state.add(row);
      }
    }
    // With no by keys Kusto answers one row even for no input (count() = 0).
    if (keys.length === 0 && groups.size === 0) groups.set('', newGroup([]));
    const rows = [...groups.values()].map((group) => {
      const out: Value[] = [...group.key];
      outputs.forEach((output, i) => {
        const state = group.states[i]!;
        if (output.kind === 'value') {
          out.push(output.bound.evaluate((state as State[]).map((s) => s.result())));
        } else {
          const kept = (state as ReturnType<RowPicker['create']>).row();
          for (const o of output.picker.outputs) {
            if (!byNames.has(o.column.name))
              out.push(kept ? kept[o.index]! : o.column.type === 'string' ? '' : null);
          }
        }
      });
      return out;
    });
    return { columns, rows };
  }

  #join(left: Table, op: Extract<Operator, { kind: 'join' }>): Table {
    const right = this.tabular(op.right);
    const scope = this.#scope(left.columns, 'join');
    const pairs = op.on.map((key) => {
      const l = left.columns.findIndex((c) => c.name === key.left);
      const r = right.columns.findIndex((c) => c.name === key.right);
      if (l === -1)
        throw semanticError(
          scope,
          `Failed to resolve column named '${key.left}' on the left side`,
          key.offset,
        );
      if (r === -1)
        throw semanticError(
          scope,
          `Failed to resolve column named '${key.right}' on the right side`,
          key.offset,
        );
      if (left.columns[l]!.type !== right.columns[r]!.type) {
        throw semanticError(
          scope,
          `join keys '${key.left}' and '${key.right}' have different types (${left.columns[l]!.type}, ${right.columns[r]!.type})`,
          key.offset,
        );
      }
      return [l, r] as const;
    });
    const keyOfRow = (row: readonly Value[], side: 0 | 1) =>
      pairs.map((p) => keyOf(row[p[side]]!)).join('\u0000');

    const index = new Map<string, (readonly Value[])[]>();
    for (const row of right.rows) {
      const k = keyOfRow(row, 1);
      const bucket = index.get(k);
      if (bucket) bucket.push(row);
      else index.set(k, [row]);
    }
    if (op.join === 'leftsemi' || op.join === 'leftanti') {
      const keep = op.join === 'leftsemi';
      return { columns: left.columns, rows: left.rows.filter((row) => index.has(keyOfRow(row, 0)) === keep) };
    }
    if (op.join === 'rightsemi' || op.join === 'rightanti') {
      const leftKeys = new Set(left.rows.map((row) => keyOfRow(row, 0)));
      const keep = op.join === 'rightsemi';
      return {
        columns: right.columns,
        rows: right.rows.filter((row) => leftKeys.has(keyOfRow(row, 1)) === keep),
      };
    }

    // Right-hand columns whose names clash get a numeric suffix (DeviceId → DeviceId1), as in Kusto.
    const names = new Set(left.columns.map((c) => c.name));
    const rightColumns = right.columns.map((c) => {
      let name = c.name;
      for (let n = 1; names.has(name); n++) name = `${c.name}${n}`;
      names.add(name);
      return { name, type: c.type };
    });
    let leftRows = left.rows;
    if (op.join === 'innerunique') {
      const seen = new Set<string>();
      leftRows = left.rows.filter((row) => {
        const k = keyOfRow(row, 0);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    const empty = right.columns.map((c) => (c.type === 'string' ? '' : null));
    const rows: Value[][] = [];
    for (const row of leftRows) {
      const matches = index.get(keyOfRow(row, 0));
      if (matches) {
        for (const match of matches) rows.push([...row, ...match]);
        this.#checkSize(rows.length, op.offset);
      } else if (op.join === 'leftouter') rows.push([...row, ...empty]);
    }
    return { columns: [...left.columns, ...rightColumns], rows };
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

function assertUnique(columns: readonly Column[], scope: Scope, offset: number): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw semanticError(scope, `the output has two columns named '${c.name}'`, offset);
    seen.add(c.name);
  }
}

/** The name Kusto gives an unnamed column: the column itself, or `a_b` for the dynamic path `a.b`. */
function derivedName(expr: Expr): string | undefined {
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
function aggregateName(expr: Expr): string | undefined {
  if (expr.kind !== 'call' || !AGGREGATES.has(expr.name)) return undefined;
  const prefix = AGGREGATE_PREFIX[expr.name] ?? `${expr.name}_`;
  if (expr.name === 'count' || expr.name === 'countif') return prefix;
  const arg = expr.args[0];
  return `${prefix}${(arg && derivedName(arg)) ?? ''}`;
}
