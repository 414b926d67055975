import type { Expr } from './ast.js';
import type { Bound, Column, Scope } from './bound.js';
import { semanticError } from './bound.js';
import { bind } from './scalar.js';
import type { Json, KustoType, Value } from './values.js';
import { compare, isNumeric, keyOf, toJson } from './values.js';

/** One aggregation inside `summarize`: a fresh state per group, fed every row of the group. */
export interface Accumulator {
  readonly type: KustoType;
  readonly create: () => State;
}

export interface State {
  add(row: readonly Value[]): void;
  result(): Value;
}

/**
 * `arg_max(x, *)`, `arg_max(x, a, b)`, `take_any(a, b)`: aggregations that produce several columns. Each group
 * keeps one input row; the outputs are columns of that row.
 */
export interface RowPicker {
  readonly outputs: readonly { readonly column: Column; readonly index: number }[];
  readonly create: () => { add(row: readonly Value[]): void; row(): readonly Value[] | undefined };
}

const MAX_SET_SIZE = 1_048_576;

/** Binds a single-valued aggregation call such as `count()`, `make_set(x, 100)` or `countif(p)`. */
export function bindAccumulator(call: Extract<Expr, { kind: 'call' }>, scope: Scope): Accumulator {
  const inner: Scope = { ...scope, aggregate: undefined };
  const fail = (message: string) => semanticError(scope, `${call.name}(): ${message}`, call.offset);
  const args = call.args.map((a) => (a.kind === 'star' ? undefined : bind(a, inner)));
  const arg = (i: number): Bound => {
    const a = args[i];
    if (!a) throw fail(`argument ${i + 1} is missing or '*'`);
    return a;
  };
  const count = (n: number, m = n) => {
    if (args.length < n || args.length > m) {
      throw fail(n === m ? `expects ${n} argument${n === 1 ? '' : 's'}` : `expects ${n} to ${m} arguments`);
    }
  };
  const predicate = (i: number): Bound => {
    const p = arg(i);
    if (p.type !== 'bool') throw fail(`expects a bool predicate, not ${p.type}`);
    return p;
  };
  const limit = (i: number): number => {
    if (args.length <= i) return MAX_SET_SIZE;
    const v = arg(i).evaluate([]);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw fail('expects a positive size limit');
    return v;
  };
  const always: Bound = { type: 'bool', evaluate: () => true };

  switch (call.name) {
    case 'count':
      if (args.length > 0 && !(args.length === 1 && call.args[0]!.kind === 'star'))
        throw fail('expects no arguments');
      return counter(always);
    case 'countif':
      count(1);
      return counter(predicate(0));
    case 'dcount':
    case 'dcountif': {
      const conditional = call.name === 'dcountif';
      count(conditional ? 2 : 1, conditional ? 3 : 2);
      const value = arg(0);
      const when = conditional ? predicate(1) : always;
      return {
        type: 'long',
        create: () => {
          const seen = new Set<string>();
          return {
            add: (row) => {
              const v = value.evaluate(row);
              if (v !== null && when.evaluate(row) === true) seen.add(keyOf(v));
            },
            result: () => seen.size,
          };
        },
      };
    }
    case 'min':
    case 'max':
    case 'minif':
    case 'maxif': {
      const conditional = call.name.endsWith('if');
      count(conditional ? 2 : 1);
      const value = arg(0);
      if (value.type === 'dynamic') throw fail('cannot order values of type dynamic');
      const when = conditional ? predicate(1) : always;
      const sign = call.name.startsWith('max') ? 1 : -1;
      return {
        type: value.type,
        create: () => {
          let best: Value = null;
          return {
            add: (row) => {
              const v = value.evaluate(row);
              if (v === null || v === '' || when.evaluate(row) !== true) return;
              if (best === null || sign * compare(v, best) > 0) best = v;
            },
            result: () => (best === null && value.type === 'string' ? '' : best),
          };
        },
      };
    }
    case 'sum':
    case 'sumif':
    case 'avg': {
      const conditional = call.name === 'sumif';
      count(conditional ? 2 : 1);
      const value = arg(0);
      if (!isNumeric(value.type)) throw fail(`cannot add up values of type ${value.type}`);
      const when = conditional ? predicate(1) : always;
      const average = call.name === 'avg';
      return {
        type: average || value.type === 'real' ? 'real' : 'long',
        create: () => {
          let total = 0;
          let n = 0;
          return {
            add: (row) => {
              const v = value.evaluate(row);
              if (typeof v !== 'number' || when.evaluate(row) !== true) return;
              total += v;
              n++;
            },
            result: () => (average ? (n === 0 ? null : total / n) : total),
          };
        },
      };
    }
    case 'make_set':
    case 'make_list':
    case 'make_set_if':
    case 'make_list_if': {
      const conditional = call.name.endsWith('_if');
      count(conditional ? 2 : 1, conditional ? 3 : 2);
      const value = arg(0);
      const when = conditional ? predicate(1) : always;
      const max = limit(conditional ? 2 : 1);
      const unique = call.name.startsWith('make_set');
      return {
        type: 'dynamic',
        create: () => {
          const items: Json[] = [];
          const seen = new Set<string>();
          return {
            add: (row) => {
              if (items.length >= max || when.evaluate(row) !== true) return;
              const v = value.evaluate(row);
              if (v === null) return;
              const json = toJson(v, value.type);
              if (unique) {
                const key = keyOf(json);
                if (seen.has(key)) return;
                seen.add(key);
              }
              items.push(json);
            },
            result: () => items,
          };
        },
      };
    }
    case 'take_any':
    case 'any': {
      count(1);
      const value = arg(0);
      return {
        type: value.type,
        create: () => {
          let kept: Value = null;
          let found = false;
          return {
            add: (row) => {
              if (found) return;
              kept = value.evaluate(row);
              found = kept !== null && kept !== '';
            },
            result: () => kept,
          };
        },
      };
    }
    default:
      throw fail('produces several columns: use it alone, as in summarize arg_max(Timestamp, *) by DeviceId');
  }
}

function counter(when: Bound): Accumulator {
  return {
    type: 'long',
    create: () => {
      let n = 0;
      return {
        add: (row) => {
          if (when.evaluate(row) === true) n++;
        },
        result: () => n,
      };
    },
  };
}

/**
 * Binds `arg_max`/`arg_min`/`take_any`. `*` stands for every input column not already a `by` key; named
 * arguments must be columns. The extremum's own column comes first, named after `alias` when given.
 */
export function bindRowPicker(
  call: Extract<Expr, { kind: 'call' }>,
  alias: string | undefined,
  scope: Scope,
  byNames: ReadonlySet<string>,
): RowPicker {
  const fail = (message: string) => semanticError(scope, `${call.name}(): ${message}`, call.offset);
  const columnIndex = (e: Expr): number => {
    if (e.kind !== 'name') throw fail('expects column names or *');
    const index = scope.columns.findIndex((c) => c.name === e.name);
    if (index === -1)
      throw semanticError(scope, `Failed to resolve scalar expression named '${e.name}'`, e.offset);
    return index;
  };
  const outputs: { column: Column; index: number }[] = [];
  const add = (index: number, name = scope.columns[index]!.name) => {
    if (outputs.some((o) => o.column.name === name)) return;
    outputs.push({ column: { name, type: scope.columns[index]!.type }, index });
  };
  const extremum = call.name === 'arg_max' || call.name === 'arg_min';
  let by: Bound | undefined;
  const rest = extremum ? call.args.slice(1) : call.args;
  if (extremum) {
    const first = call.args[0];
    if (first?.kind !== 'name') throw fail('expects the column to maximise first');
    by = bind(first, { ...scope, aggregate: undefined });
    if (by.type === 'dynamic') throw fail('cannot order values of type dynamic');
    add(columnIndex(first), alias ?? first.name);
  }
  if (rest.length === 0 && !extremum) throw fail('expects at least one column');
  for (const e of rest) {
    if (e.kind === 'star') {
      scope.columns.forEach((c, i) => {
        if (!byNames.has(c.name)) add(i);
      });
    } else add(columnIndex(e));
  }
  const sign = call.name === 'arg_min' ? -1 : 1;
  return {
    outputs,
    create: () => {
      let kept: readonly Value[] | undefined;
      let best: Value = null;
      return {
        add: (row) => {
          if (!by) {
            kept ??= row;
            return;
          }
          const v = by.evaluate(row);
          if (v === null) {
            kept ??= row;
            return;
          }
          if (best === null || sign * compare(v, best) > 0) {
            best = v;
            kept = row;
          }
        },
        row: () => kept,
      };
    },
  };
}
