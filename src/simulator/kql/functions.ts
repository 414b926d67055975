// The scalar function table (strings, conversions, datetimes, dynamic arrays, conditionals): name → type check and row function.
import type { Bound, Scope } from './bound.js';
import { comparable, constant } from './bound.js';
import type { KqlError } from './lexer.js';
import type { KustoType, Value } from './values.js';
import { compare, isNumeric, parseDateTime, parseJson, toBool, toKustoString, toNumber } from './values.js';

/** Checks a call's bound arguments and returns the bound call; `fail` words a refusal for this function. */
export type Signature = (args: readonly Bound[], fail: (message: string) => KqlError, scope: Scope) => Bound;

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

/** Every scalar function the simulator runs, by name. */
export const FUNCTIONS: Readonly<Record<string, Signature>> = {
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
