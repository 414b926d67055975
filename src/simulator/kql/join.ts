// The join operator: hash join on equal keys, with Kusto's join kinds and column renaming.
import type { Operator } from './ast.js';
import type { Scope } from './bound.js';
import { semanticError } from './bound.js';
import type { Table } from './evaluate.js';
import type { Value } from './values.js';
import { keyOf } from './values.js';

/**
 * Joins `left` to the already evaluated `right` side of `op`. `checkSize` refuses a result that grows past the
 * query's row budget, checked as rows are produced so a runaway join stops early.
 */
export function join(
  left: Table,
  right: Table,
  op: Extract<Operator, { kind: 'join' }>,
  scope: Scope,
  checkSize: (rows: number, offset: number) => void,
): Table {
  const pairs = op.on.map((key) => {
    const l = left.columns.findIndex((c) => c.name === key.left);
    const r = right.columns.findIndex((c) => c.name === key.right);
    if (l === -1)
      throw semanticError(scope, `Failed to resolve column named '${key.left}' on the left side`, key.offset);
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
      checkSize(rows.length, op.offset);
    } else if (op.join === 'leftouter') rows.push([...row, ...empty]);
  }
  return { columns: [...left.columns, ...rightColumns], rows };
}
