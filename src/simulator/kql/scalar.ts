// Binds scalar expressions: type-checks each against its scope and compiles it to a function of a row.
import type { Expr } from './ast.js';
import type { Bound, Scope } from './bound.js';
import { comparable, constant, semanticError } from './bound.js';
import { FUNCTIONS } from './functions.js';
import type { KqlError } from './lexer.js';
import type { Json, KustoType, Value } from './values.js';
import { compare, equal, isNumeric, keyOf, toJson, toKustoString } from './values.js';

export const AGGREGATES = new Set([
  'count',
  'countif',
  'dcount',
  'dcountif',
  'min',
  'max',
  'minif',
  'maxif',
  'sum',
  'sumif',
  'avg',
  'make_set',
  'make_set_if',
  'make_list',
  'make_list_if',
  'take_any',
  'any',
  'arg_max',
  'arg_min',
]);

/** Type-checks `expr` against `scope` and compiles it to a function of a row. */
export function bind(expr: Expr, scope: Scope): Bound {
  switch (expr.kind) {
    case 'literal':
      return constant(expr.literal.type, expr.literal.value as Value);
    case 'name': {
      const index = scope.columns.findIndex((c) => c.name === expr.name);
      if (index !== -1) {
        const type = scope.columns[index]!.type;
        return { type, evaluate: (row) => row[index]! };
      }
      const bound = scope.lets.get(expr.name);
      if (bound) return constant(bound.type, bound.value);
      throw semanticError(scope, `Failed to resolve scalar expression named '${expr.name}'`, expr.offset);
    }
    case 'side':
      throw semanticError(scope, '$left and $right may only be used in join … on', expr.offset);
    case 'star':
      throw semanticError(scope, "'*' may only be an argument of arg_max, arg_min or count", expr.offset);
    case 'negate': {
      const operand = bind(expr.operand, scope);
      if (!isNumeric(operand.type) && operand.type !== 'timespan') {
        throw semanticError(scope, `cannot negate a value of type ${operand.type}`, expr.offset);
      }
      return {
        type: operand.type,
        evaluate: (row) => {
          const v = operand.evaluate(row);
          return v === null ? null : typeof v === 'bigint' ? -v : -(v as number);
        },
      };
    }
    case 'member':
    case 'index':
      return bindAccess(expr, scope);
    case 'binary':
      return bindBinary(expr, scope);
    case 'in':
      return bindIn(expr, scope);
    case 'call':
      if (AGGREGATES.has(expr.name)) {
        if (!scope.aggregate) {
          throw semanticError(
            scope,
            `'${expr.name}' is an aggregation function: use it in summarize`,
            expr.offset,
          );
        }
        return scope.aggregate(expr);
      }
      return bindCall(expr, scope);
  }
}

function bindAccess(expr: Extract<Expr, { kind: 'member' | 'index' }>, scope: Scope): Bound {
  const target = bind(expr.target, scope);
  if (target.type !== 'dynamic') {
    throw semanticError(
      scope,
      `a value of type ${target.type} has no properties (use parse_json() to read a JSON string)`,
      expr.offset,
    );
  }
  if (expr.kind === 'member') {
    const name = expr.name;
    return { type: 'dynamic', evaluate: (row) => property(target.evaluate(row), name) };
  }
  const index = bind(expr.index, scope);
  return {
    type: 'dynamic',
    evaluate: (row) => {
      const container = target.evaluate(row);
      const key = index.evaluate(row);
      if (Array.isArray(container) && typeof key === 'number') {
        return (container[key < 0 ? container.length + key : key] ?? null) as Json;
      }
      return typeof key === 'string' ? property(container, key) : null;
    },
  };
}

function property(container: Value, name: string): Json {
  if (container === null || typeof container !== 'object' || Array.isArray(container)) return null;
  return Object.hasOwn(container, name) ? ((container as Record<string, Json>)[name] ?? null) : null;
}

const STRING_LIKE = (type: KustoType) => type === 'string' || type === 'dynamic';

function bindBinary(expr: Extract<Expr, { kind: 'binary' }>, scope: Scope): Bound {
  const left = bind(expr.left, scope);
  const right = bind(expr.right, scope);
  const { op } = expr;
  const mismatch = () =>
    semanticError(
      scope,
      `Cannot apply '${op}' to values of types ${left.type} and ${right.type}; try adding explicit casts`,
      expr.offset,
    );
  if (op === 'and' || op === 'or') {
    if (left.type !== 'bool' || right.type !== 'bool') {
      throw semanticError(
        scope,
        `'${op}' needs bool operands, not ${left.type} and ${right.type}`,
        expr.offset,
      );
    }
    const isAnd = op === 'and';
    return {
      type: 'bool',
      evaluate: (row) => {
        const a = left.evaluate(row);
        if (a === !isAnd) return a;
        const b = right.evaluate(row);
        if (b === !isAnd) return b;
        return a === null || b === null ? null : isAnd;
      },
    };
  }
  if (op === '==' || op === '!=') {
    if (!comparable(left.type, right.type)) throw mismatch();
    const negate = op === '!=';
    return {
      type: 'bool',
      evaluate: (row) => {
        const a = left.evaluate(row);
        const b = right.evaluate(row);
        if (a === null || b === null) return null;
        return equal(a, b, false) !== negate;
      },
    };
  }
  if (op === '=~' || op === '!~') {
    if (!STRING_LIKE(left.type) || !STRING_LIKE(right.type)) throw mismatch();
    const negate = op === '!~';
    return {
      type: 'bool',
      evaluate: (row) =>
        equal(
          toKustoString(left.evaluate(row), left.type),
          toKustoString(right.evaluate(row), right.type),
          true,
        ) !== negate,
    };
  }
  if (op === '<' || op === '<=' || op === '>' || op === '>=') {
    if (!comparable(left.type, right.type) || left.type === 'bool') throw mismatch();
    const test =
      op === '<'
        ? (c: number) => c < 0
        : op === '<='
          ? (c: number) => c <= 0
          : op === '>'
            ? (c: number) => c > 0
            : (c: number) => c >= 0;
    return {
      type: 'bool',
      evaluate: (row) => {
        const a = left.evaluate(row);
        const b = right.evaluate(row);
        return a === null || b === null ? null : test(compare(a, b));
      },
    };
  }
  const text = STRING_OPERATORS[op.replace(/^!/, '')];
  if (text) {
    if (!STRING_LIKE(left.type) && left.type !== 'long' && left.type !== 'int') throw mismatch();
    const negate = op.startsWith('!');
    const caseSensitive = op.endsWith('_cs');
    return {
      type: 'bool',
      evaluate: (row) => {
        let a = toKustoString(left.evaluate(row), left.type);
        let b = toKustoString(right.evaluate(row), right.type);
        if (!caseSensitive) {
          a = a.toLowerCase();
          b = b.toLowerCase();
        }
        return text(a, b) !== negate;
      },
    };
  }
  return bindArithmetic(op, left, right, mismatch);
}

/** `has` matches whole terms: the needle must start and end at a boundary between alphanumerics and the rest. */
function hasTerm(haystack: string, needle: string): boolean {
  if (needle === '') return true;
  const word = /[\p{L}\p{N}_]/u;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = haystack[at - 1];
    const after = haystack[at + needle.length];
    const startOk = before === undefined || !word.test(before) || !word.test(needle[0]!);
    const endOk = after === undefined || !word.test(after) || !word.test(needle[needle.length - 1]!);
    if (startOk && endOk) return true;
  }
  return false;
}

const STRING_OPERATORS: Readonly<Record<string, (a: string, b: string) => boolean>> = {
  has: hasTerm,
  has_cs: hasTerm,
  contains: (a, b) => a.includes(b),
  contains_cs: (a, b) => a.includes(b),
  startswith: (a, b) => a.startsWith(b),
  startswith_cs: (a, b) => a.startsWith(b),
  endswith: (a, b) => a.endsWith(b),
  endswith_cs: (a, b) => a.endsWith(b),
};

function bindArithmetic(op: string, left: Bound, right: Bound, mismatch: () => KqlError): Bound {
  const l = left.type;
  const r = right.type;
  if (isNumeric(l) && isNumeric(r)) {
    const type: KustoType =
      l === 'real' || r === 'real' ? 'real' : l === 'int' && r === 'int' ? 'int' : 'long';
    const integer = type !== 'real';
    const f = (a: number, b: number): number | null => {
      switch (op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return integer ? (b === 0 ? null : Math.trunc(a / b)) : a / b;
        default:
          return integer && b === 0 ? null : a % b;
      }
    };
    return {
      type,
      evaluate: (row) => {
        const a = left.evaluate(row);
        const b = right.evaluate(row);
        return a === null || b === null ? null : f(a as number, b as number);
      },
    };
  }
  const ticks = (type: KustoType): boolean => type === 'datetime' || type === 'timespan';
  let type: KustoType | undefined;
  if (op === '+' && ticks(l) && ticks(r) && !(l === 'datetime' && r === 'datetime')) {
    type = l === 'datetime' || r === 'datetime' ? 'datetime' : 'timespan';
  } else if (op === '-' && ticks(l) && r === 'timespan') type = l;
  else if (op === '-' && l === 'datetime' && r === 'datetime') type = 'timespan';
  if (type) {
    const subtract = op === '-';
    return {
      type,
      evaluate: (row) => {
        const a = left.evaluate(row);
        const b = right.evaluate(row);
        if (a === null || b === null) return null;
        return subtract ? (a as bigint) - (b as bigint) : (a as bigint) + (b as bigint);
      },
    };
  }
  throw mismatch();
}

function bindIn(expr: Extract<Expr, { kind: 'in' }>, scope: Scope): Bound {
  const left = bind(expr.left, scope);
  const items = expr.list.map((e) => bind(e, scope));
  const negate = expr.op.startsWith('!');
  const ignoreCase = expr.op.endsWith('~');
  const any = expr.op === 'has_any';
  if (any && !STRING_LIKE(left.type)) {
    throw semanticError(scope, `has_any needs a string, not ${left.type}`, expr.offset);
  }
  const candidatesOf = (row: readonly Value[]): Value[] => {
    const candidates: Value[] = [];
    for (const item of items) {
      const v = item.evaluate(row);
      if (item.type === 'dynamic' && Array.isArray(v)) for (const element of v) candidates.push(element);
      else candidates.push(item.type === 'dynamic' ? v : (toJson(v, item.type) as Value));
    }
    return candidates;
  };
  const fold = (v: Value): Value => (ignoreCase && typeof v === 'string' ? v.toLowerCase() : v);
  // A list of literals or lets (the planner's `in (ids)`) becomes one set, looked up per row.
  const fixed = items.every((i) => i.constant) && !any ? candidatesOf([]) : undefined;
  const scalars =
    fixed && new Set(fixed.filter((c) => c !== null && typeof c !== 'object').map((c) => keyOf(fold(c))));
  const objects = fixed?.filter((c) => c !== null && typeof c === 'object') ?? [];
  return {
    type: 'bool',
    evaluate: (row) => {
      const value = left.evaluate(row);
      const subject = left.type === 'dynamic' ? value : (toJson(value, left.type) as Value);
      let found: boolean;
      if (scalars) {
        found =
          subject !== null &&
          (typeof subject === 'object'
            ? objects.some((c) => equal(subject, c, ignoreCase))
            : scalars.has(keyOf(fold(subject))));
      } else if (any) {
        const text = toKustoString(value, left.type).toLowerCase();
        found = candidatesOf(row).some((c) => hasTerm(text, toKustoString(c, 'dynamic').toLowerCase()));
      } else {
        found = candidatesOf(row).some((c) => equal(subject, c, ignoreCase));
      }
      return found !== negate;
    },
  };
}

function bindCall(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): Bound {
  const signature = Object.hasOwn(FUNCTIONS, expr.name) ? FUNCTIONS[expr.name] : undefined;
  if (!signature) throw semanticError(scope, `Unknown function: '${expr.name}'`, expr.offset);
  const args = expr.args.map((a) => bind(a, scope));
  return signature(args, (message) => semanticError(scope, `${expr.name}(): ${message}`, expr.offset), scope);
}
