import type { Expr } from './ast.js';
import { KqlError } from './lexer.js';
import type { Json, KustoType, Value } from './values.js';
import {
  compare,
  equal,
  isNumeric,
  keyOf,
  parseDateTime,
  parseJson,
  toBool,
  toJson,
  toKustoString,
  toNumber,
} from './values.js';

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

export function semanticError(scope: Scope, message: string, offset: number): KqlError {
  return new KqlError(`'${scope.operator}' operator: ${message}`, offset);
}

const constant = (type: KustoType, value: Value): Bound => ({ type, evaluate: () => value, constant: true });

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

function comparable(a: KustoType, b: KustoType): boolean {
  return a === b || a === 'dynamic' || b === 'dynamic' || (isNumeric(a) && isNumeric(b));
}

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

type Signature = (args: readonly Bound[], fail: (message: string) => KqlError, scope: Scope) => Bound;

const arity = (args: readonly Bound[], min: number, max: number, fail: (m: string) => KqlError): void => {
  if (args.length < min || args.length > max) {
    throw fail(
      min === max ? `expects ${min} argument${min === 1 ? '' : 's'}` : `expects ${min} to ${max} arguments`,
    );
  }
};

const unary =
  (type: KustoType, f: (v: Value, t: KustoType) => Value, accepts?: (t: KustoType) => boolean): Signature =>
  (args, fail) => {
    arity(args, 1, 1, fail);
    const [a] = args as [Bound];
    if (accepts && !accepts(a.type)) throw fail(`does not take a value of type ${a.type}`);
    return { type, evaluate: (row) => f(a.evaluate(row), a.type) };
  };

const FUNCTIONS: Readonly<Record<string, Signature>> = {
  ago: (args, fail, scope) => {
    arity(args, 1, 1, fail);
    const [a] = args as [Bound];
    if (a.type !== 'timespan') throw fail(`expects a timespan (such as 30d), not ${a.type}`);
    return {
      type: 'datetime',
      evaluate: (row) => {
        const v = a.evaluate(row);
        return v === null ? null : scope.now - (v as bigint);
      },
    };
  },
  now: (args, fail, scope) => {
    arity(args, 0, 0, fail);
    return constant('datetime', scope.now);
  },
  tolower: unary('string', (v, t) => toKustoString(v, t).toLowerCase()),
  toupper: unary('string', (v, t) => toKustoString(v, t).toUpperCase()),
  tostring: unary('string', (v, t) => toKustoString(v, t)),
  strlen: unary('long', (v, t) => [...toKustoString(v, t)].length),
  isempty: unary('bool', (v) => v === null || v === ''),
  isnotempty: unary('bool', (v) => !(v === null || v === '')),
  isnull: unary('bool', (v) => v === null),
  isnotnull: unary('bool', (v) => v !== null),
  tobool: unary('bool', (v, t) => toBool(v, t)),
  toboolean: unary('bool', (v, t) => toBool(v, t)),
  tolong: unary('long', (v) => toNumber(v, true)),
  toint: unary('int', (v) => toNumber(v, true)),
  todouble: unary('real', (v) => toNumber(v, false)),
  toreal: unary('real', (v) => toNumber(v, false)),
  todatetime: unary('datetime', (v, t) =>
    t === 'datetime' ? v : v === null ? null : parseDateTime(toKustoString(v, t)),
  ),
  parse_json: unary('dynamic', (v, t) => parseJson(v, t)),
  todynamic: unary('dynamic', (v, t) => parseJson(v, t)),
  not: unary(
    'bool',
    (v) => (v === null ? null : !v),
    (t) => t === 'bool',
  ),
  array_length: unary(
    'long',
    (v) => (Array.isArray(v) ? v.length : null),
    (t) => t === 'dynamic',
  ),
  array_sort_asc: unary(
    'dynamic',
    (v) => (Array.isArray(v) ? [...v].sort((a, b) => compare(a, b)) : null),
    (t) => t === 'dynamic',
  ),
  strcat: (args, fail) => {
    arity(args, 1, 64, fail);
    return {
      type: 'string',
      evaluate: (row) => args.map((a) => toKustoString(a.evaluate(row), a.type)).join(''),
    };
  },
  strcat_array: (args, fail) => {
    arity(args, 2, 2, fail);
    const [array, delimiter] = args as [Bound, Bound];
    if (array.type !== 'dynamic') throw fail(`expects a dynamic array, not ${array.type}`);
    return {
      type: 'string',
      evaluate: (row) => {
        const v = array.evaluate(row);
        if (!Array.isArray(v)) return '';
        const d = toKustoString(delimiter.evaluate(row), delimiter.type);
        return v.map((x) => toKustoString(x, 'dynamic')).join(d);
      },
    };
  },
  iff: conditional,
  iif: conditional,
  coalesce: (args, fail) => {
    arity(args, 1, 64, fail);
    const type = args[0]!.type;
    if (args.some((a) => a.type !== type)) throw fail('expects arguments of one type');
    return {
      type,
      evaluate: (row) => {
        for (const a of args) {
          const v = a.evaluate(row);
          if (v !== null && v !== '') return v;
        }
        return type === 'string' ? '' : null;
      },
    };
  },
  substring: (args, fail) => {
    arity(args, 2, 3, fail);
    const [text, start, length] = args as [Bound, Bound, Bound | undefined];
    return {
      type: 'string',
      evaluate: (row) => {
        const s = toKustoString(text.evaluate(row), text.type);
        const from = Math.max(0, Number(start.evaluate(row) ?? 0));
        const n = length ? Number(length.evaluate(row) ?? s.length) : s.length;
        return s.substr(from, Math.max(0, n));
      },
    };
  },
  bin: (args, fail) => {
    arity(args, 2, 2, fail);
    const [value, size] = args as [Bound, Bound];
    if (value.type === 'datetime' || value.type === 'timespan') {
      if (size.type !== 'timespan') throw fail('expects a timespan bin size for a datetime');
      return {
        type: value.type,
        evaluate: (row) => {
          const v = value.evaluate(row) as bigint | null;
          const s = size.evaluate(row) as bigint | null;
          if (v === null || s === null || s <= 0n) return null;
          const r = v % s;
          return v - (r < 0n ? r + s : r);
        },
      };
    }
    if (!isNumeric(value.type) || !isNumeric(size.type))
      throw fail(`cannot bin a value of type ${value.type}`);
    return {
      type: value.type,
      evaluate: (row) => {
        const v = value.evaluate(row) as number | null;
        const s = size.evaluate(row) as number | null;
        return v === null || s === null || s <= 0 ? null : Math.floor(v / s) * s;
      },
    };
  },
};

function conditional(args: readonly Bound[], fail: (m: string) => KqlError): Bound {
  arity(args, 3, 3, fail);
  const [test, then, otherwise] = args as [Bound, Bound, Bound];
  if (test.type !== 'bool') throw fail(`expects a bool condition, not ${test.type}`);
  if (
    !comparable(then.type, otherwise.type) ||
    (then.type === 'dynamic') !== (otherwise.type === 'dynamic')
  ) {
    throw fail(`expects both branches of one type, not ${then.type} and ${otherwise.type}`);
  }
  const type = then.type === otherwise.type ? then.type : 'real';
  return {
    type,
    evaluate: (row) => (test.evaluate(row) === true ? then.evaluate(row) : otherwise.evaluate(row)),
  };
}

function bindCall(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): Bound {
  const signature = Object.hasOwn(FUNCTIONS, expr.name) ? FUNCTIONS[expr.name] : undefined;
  if (!signature) throw semanticError(scope, `Unknown function: '${expr.name}'`, expr.offset);
  const args = expr.args.map((a) => bind(a, scope));
  return signature(args, (message) => semanticError(scope, `${expr.name}(): ${message}`, expr.offset), scope);
}
