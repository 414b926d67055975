// The $filter parser: tokens, then a bounded recursive descent into a FilterNode tree.
import type {
  CompareOp,
  Fail,
  FilterLimits,
  FilterNode,
  FilterableProperties,
  Literal,
  PropertyKind,
} from './odata-model.js';
import { DEFAULT_FILTER_LIMITS, ENTITY_TYPE_NAMES, ODataError } from './odata-model.js';
import { DATETIME_AT, toInstant } from './odata-values.js';

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const EDM_TYPES: Record<PropertyKind | Literal['kind'], string> = {
  string: 'Edm.String',
  number: 'Edm.Int64',
  datetime: 'Edm.DateTimeOffset',
  stringCollection: 'Collection(Edm.String)',
  null: 'null',
  boolean: 'Edm.Boolean',
};

const INTEGER_AT = /-?\d+/y;
const WORD_AT = /[A-Za-z_][A-Za-z0-9_]*/y;

type Token =
  | { kind: 'punct' | 'word'; text: string; pos: number }
  | { kind: 'literal'; text: string; pos: number; literal: Literal }
  | { kind: 'end'; text: ''; pos: number };

/** Reads a quoted string whose quote character is also its escape (`'O''Brien'`, `"a ""b"" c"`). */
function readQuoted(text: string, start: number, fail: Fail): { value: string; end: number } {
  const quote = text[start]!;
  let value = '';
  for (let pos = start + 1; ;) {
    const close = text.indexOf(quote, pos);
    if (close < 0) fail(`Unterminated string literal starting at position ${start}.`);
    value += text.slice(pos, close);
    if (text[close + 1] !== quote) return { value, end: close + 1 };
    value += quote;
    pos = close + 2;
  }
}

/** Splits a filter into tokens, so string contents can never be read as syntax by the parser. */
function tokenize(text: string, fail: Fail): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  const sticky = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    return re.exec(text)?.[0];
  };
  while (pos < text.length) {
    const c = text[pos]!;
    const start = pos;
    if (/\s/.test(c)) {
      pos += 1;
    } else if ('(),:/'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: start });
      pos += 1;
    } else if (c === "'" || c === '"') {
      const { value, end } = readQuoted(text, start, fail);
      const literal: Literal = { kind: 'string', value };
      tokens.push({ kind: 'literal', text: text.slice(start, end), pos: start, literal });
      pos = end;
    } else if (/[0-9-]/.test(c)) {
      const datetime = sticky(DATETIME_AT);
      if (datetime) {
        const instant = toInstant(datetime) ?? fail(`'${datetime}' is not a valid datetime.`);
        const literal: Literal = { kind: 'datetime', value: datetime, epochMs: instant[0] };
        tokens.push({ kind: 'literal', text: datetime, pos: start, literal });
      } else {
        const digits = sticky(INTEGER_AT) ?? fail(`Unexpected character '-' at position ${start}.`);
        const value = Number(digits);
        if (!Number.isSafeInteger(value)) fail(`The number ${digits} at position ${start} is out of range.`);
        tokens.push({ kind: 'literal', text: digits, pos: start, literal: { kind: 'number', value } });
      }
      pos = start + tokens[tokens.length - 1]!.text.length;
    } else {
      const word = sticky(WORD_AT) ?? fail(`Unexpected character '${c}' at position ${start}.`);
      tokens.push({ kind: 'word', text: word, pos: start });
      pos += word.length;
    }
  }
  tokens.push({ kind: 'end', text: '', pos });
  return tokens;
}

// Long literals are cut so that an error message stays readable.
function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the filter';
  const shown = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
  return `'${shown}' at position ${token.pos}`;
}

/**
 * Parses a URL-decoded `$filter` against the properties an entity may be filtered on.
 * `and` binds tighter than `or`; both associate to the left. `not` applies to a parenthesised expression or a
 * function call only, which sidesteps OData's surprising `not` precedence. Throws `ODataError`.
 */
export function parseFilter(
  text: string,
  properties: FilterableProperties,
  limits: Readonly<FilterLimits> = DEFAULT_FILTER_LIMITS,
): FilterNode {
  const fail: Fail = (detail) => {
    throw new ODataError(`Invalid filter clause: ${detail}`);
  };
  if (text.length > limits.maxChars) {
    fail(`The filter is ${text.length} characters long; at most ${limits.maxChars} are allowed.`);
  }
  if (text.trim() === '') fail('The filter is empty.');
  const tokens = tokenize(text, fail);
  const typeName = ENTITY_TYPE_NAMES.get(properties) ?? 'the entity';
  const canonical = new Map(Object.keys(properties).map((name) => [name.toLowerCase(), name]));
  let index = 0;
  let nodes = 0;
  let depth = 0;

  const peek = (offset = 0): Token => tokens[Math.min(index + offset, tokens.length - 1)]!;
  const next = (): Token => tokens[Math.min(index++, tokens.length - 1)]!;
  const isPunct = (token: Token, punct: string): boolean => token.kind === 'punct' && token.text === punct;
  const isWord = (token: Token, word: string): boolean =>
    token.kind === 'word' && token.text.toLowerCase() === word;
  const expect = (punct: string, context: string): void => {
    const token = next();
    if (!isPunct(token, punct)) fail(`Expected '${punct}' ${context} but found ${describeToken(token)}.`);
  };
  const counted = <T extends FilterNode>(node: T, extra = 0): T => {
    nodes += 1 + extra;
    if (nodes > limits.maxNodes) fail(`The filter has more than ${limits.maxNodes} terms.`);
    return node;
  };
  const property = (token: Token): [name: string, kind: PropertyKind] => {
    if (token.kind !== 'word') return fail(`Expected a property name but found ${describeToken(token)}.`);
    const name = canonical.get(token.text.toLowerCase());
    if (name === undefined)
      return fail(`Could not find a property named '${token.text}' on type '${typeName}'.`);
    return [name, properties[name]!];
  };
  const literal = (after: string): Literal => {
    const token = next();
    if (token.kind === 'literal') return token.literal;
    const word = token.kind === 'word' ? token.text.toLowerCase() : '';
    if (word === 'null') return { kind: 'null' };
    if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
    return fail(`Expected a literal after '${after}' but found ${describeToken(token)}.`);
  };
  const checkKind = (name: string, kind: PropertyKind, op: string, value: Literal): void => {
    if (kind !== 'stringCollection' && (value.kind === kind || value.kind === 'null')) return;
    const hint =
      kind === 'datetime' && value.kind === 'string' && toInstant(value.value)
        ? ` Write datetimes unquoted, e.g. ${name} ${op} ${value.value}.`
        : kind === 'stringCollection'
          ? ` Use ${name}/any(x: x eq 'value').`
          : '';
    fail(
      `Incompatible types in '${name} ${op}': the property is ${EDM_TYPES[kind]}, the literal is ${EDM_TYPES[value.kind]}.${hint}`,
    );
  };

  /** One precedence level, associating to the left: `operand (word operand)*`. */
  const leftAssociative = (type: 'and' | 'or', operand: () => FilterNode): FilterNode => {
    let left = operand();
    while (isWord(peek(), type)) {
      next();
      left = counted({ type, left, right: operand() });
    }
    return left;
  };
  const orExpression = (): FilterNode => leftAssociative('or', andExpression);
  const andExpression = (): FilterNode => leftAssociative('and', unary);
  const unary = (): FilterNode => {
    if (!isWord(peek(), 'not')) return primary();
    const not = next();
    const operand = peek();
    const opensCall = isPunct(peek(1), '(') || isPunct(peek(1), '/');
    if (!isPunct(operand, '(') && !(operand.kind === 'word' && opensCall)) {
      fail(
        `'not' at position ${not.pos} must be followed by '(' or a function call, not ${describeToken(operand)}.`,
      );
    }
    return counted({ type: 'not', operand: primary() });
  };
  const primary = (): FilterNode => {
    const first = next();
    if (isPunct(first, '(')) {
      if (++depth > limits.maxDepth) fail(`Parentheses are nested more than ${limits.maxDepth} deep.`);
      const inner = orExpression();
      expect(')', `to close the '(' at position ${first.pos}`);
      depth -= 1;
      return inner;
    }
    if (first.kind !== 'word')
      return fail(`Expected a property, '(', 'not' or a function but found ${describeToken(first)}.`);
    if (isPunct(peek(), '(')) return call(first);
    const [name, kind] = property(first);
    if (isPunct(peek(), '/')) return lambda(name, kind);
    const opToken = next();
    const op = opToken.kind === 'word' ? opToken.text.toLowerCase() : '';
    if (op === 'in') return inList(name, kind);
    if (!COMPARE_OPS.has(op))
      fail(
        `Expected eq, ne, gt, ge, lt, le or in after '${first.text}' but found ${describeToken(opToken)}.`,
      );
    const value = literal(op);
    checkKind(name, kind, op, value);
    return counted({ type: 'compare', op: op as CompareOp, property: name, value });
  };
  const inList = (name: string, kind: PropertyKind): FilterNode => {
    expect('(', `after '${name} in'`);
    const values: Literal[] = [];
    for (;;) {
      const value = literal(values.length === 0 ? '(' : ',');
      checkKind(name, kind, 'in', value);
      values.push(value);
      if (values.length > limits.maxInValues)
        fail(`An 'in' list holds more than ${limits.maxInValues} values.`);
      if (!isPunct(peek(), ',')) break;
      next();
    }
    expect(')', `to close the 'in' list of '${name}'`);
    return counted({ type: 'in', property: name, values }, values.length);
  };
  const call = (fn: Token): FilterNode => {
    if (fn.text.toLowerCase() !== 'startswith')
      return fail(`Unknown function '${fn.text}' at position ${fn.pos}.`);
    expect('(', "after 'startswith'");
    const [name, kind] = property(next());
    if (kind !== 'string') fail(`startswith needs a string property; '${name}' is ${EDM_TYPES[kind]}.`);
    expect(',', `after '${name}' in startswith`);
    const value = literal(',');
    if (value.kind !== 'string') fail(`startswith needs a string literal; found ${EDM_TYPES[value.kind]}.`);
    expect(')', "to close 'startswith'");
    return counted({ type: 'startswith', property: name, value: value.value });
  };
  const lambda = (name: string, kind: PropertyKind): FilterNode => {
    next(); // the '/'
    const fn = next();
    if (!isWord(fn, 'any')) fail(`Only any() may follow '${name}/', found ${describeToken(fn)}.`);
    if (kind !== 'stringCollection')
      fail(`any() needs a collection property; '${name}' is ${EDM_TYPES[kind]}.`);
    expect('(', "after 'any'");
    const variable = next();
    if (variable.kind !== 'word')
      fail(`Expected a range variable in any() but found ${describeToken(variable)}.`);
    expect(':', `after the range variable '${variable.text}'`);
    const use = next();
    if (use.kind !== 'word' || use.text !== variable.text) {
      fail(`Expected the range variable '${variable.text}' but found ${describeToken(use)}.`);
    }
    if (!isWord(next(), 'eq')) fail(`Only '${variable.text} eq <string>' is supported inside any().`);
    const value = literal('eq');
    if (value.kind !== 'string')
      fail(`Elements of '${name}' are Edm.String; found ${EDM_TYPES[value.kind]}.`);
    expect(')', "to close 'any'");
    return counted({ type: 'any', property: name, variable: variable.text, op: 'eq', value: value.value });
  };

  const tree = orExpression();
  if (peek().kind !== 'end')
    fail(`Expected 'and', 'or' or the end of the filter but found ${describeToken(peek())}.`);
  return tree;
}
