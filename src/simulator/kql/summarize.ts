// The summarize operator: grouping rows and running aggregations over each group.
import type { Assignment } from './ast.js';
import type { Accumulator, RowPicker, State } from './aggregate.js';
import { bindAccumulator, bindRowPicker } from './aggregate.js';
import type { Bound, Column, Scope } from './bound.js';
import { semanticError } from './bound.js';
import { aggregateName, assertUnique, derivedName } from './columns.js';
import type { Table } from './evaluate.js';
import { KqlError } from './lexer.js';
import { bind } from './scalar.js';
import type { Value } from './values.js';
import { keyOf } from './values.js';

/** `summarize aggregates by keys` over `input`; `scope` is the operator's scope over the input columns. */
export function summarize(
  input: Table,
  aggregates: readonly Assignment[],
  by: readonly Assignment[],
  offset: number,
  scope: Scope,
): Table {
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
      ...scope,
      columns: [],
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
      columns.push(...output.picker.outputs.filter((o) => !byNames.has(o.column.name)).map((o) => o.column));
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
