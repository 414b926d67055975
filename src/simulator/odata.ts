/**
 * Defender's OData dialect for `$filter` and `$orderby` on `/machines` and `/alerts` (`docs/defender-api.md` §3).
 *
 * Input is the URL-decoded query option value: the caller has already turned `+` into a space, so an offset
 * such as `+02:00` must arrive percent-encoded (`%2B02:00`). The AST is plain data with canonical property
 * names, so tests can assert exactly which structure a filter parses to.
 *
 * Literals: `'…'` with `''` for a quote, `"…"` with `""` for a quote (STAT sends double-quoted ids), integers,
 * `null`, `true`/`false`, and bare datetimes (`2019-11-22T00:00:00.1234567Z`, `2018-08-01Z`, `2018-08-01`,
 * offsets `±hh:mm`; no offset means UTC). Keywords and property names are case-insensitive.
 */

export type PropertyKind = 'string' | 'number' | 'datetime' | 'stringCollection';
/** Canonical (camelCase) property name → kind. */
export type FilterableProperties = Readonly<Record<string, PropertyKind>>;

export const MACHINE_FILTERABLE: FilterableProperties = Object.freeze({
  computerDnsName: 'string',
  id: 'string',
  version: 'string',
  deviceValue: 'string',
  aadDeviceId: 'string',
  machineTags: 'stringCollection',
  lastSeen: 'datetime',
  exposureLevel: 'string',
  onboardingStatus: 'string',
  lastIpAddress: 'string',
  healthStatus: 'string',
  osPlatform: 'string',
  riskScore: 'string',
  rbacGroupId: 'number',
});

export const ALERT_FILTERABLE: FilterableProperties = Object.freeze({
  alertCreationTime: 'datetime',
  lastUpdateTime: 'datetime',
  lastEventTime: 'datetime',
  incidentId: 'number',
  investigationId: 'number',
  id: 'string',
  assignedTo: 'string',
  detectionSource: 'string',
  status: 'string',
  severity: 'string',
  category: 'string',
});

// Error messages name the entity type as Defender does; tables built elsewhere fall back to a generic name.
const ENTITY_TYPE_NAMES = new Map<FilterableProperties, string>([
  [MACHINE_FILTERABLE, 'Machine'],
  [ALERT_FILTERABLE, 'Alert'],
]);

/** An invalid `$filter` or `$orderby`; `message` is what Defender's error body carries (code `ODataError`). */
export class ODataError extends Error {
  override readonly name = 'ODataError';
  readonly code = 'ODataError';
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  /** `value` is the text as written; `epochMs` truncates digits below the millisecond. */
  | { kind: 'datetime'; value: string; epochMs: number }
  | { kind: 'null' }
  | { kind: 'boolean'; value: boolean };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; op: CompareOp; property: string; value: Literal }
  | { type: 'in'; property: string; values: Literal[] }
  | { type: 'startswith'; property: string; value: string }
  | { type: 'any'; property: string; variable: string; op: 'eq'; value: string };

/**
 * The simulator's own safety bounds. Defender documents no limit on `or`/`in` terms (§3.2), so these only
 * keep a hostile query from costing the simulator time or stack; pass others to `parseFilter` to test limits.
 */
export interface FilterLimits {
  /** Longest `$filter`, in characters. Default 10,000. */
  maxChars: number;
  /** Most literals in one `in (…)` list. Default 200. */
  maxInValues: number;
  /** Most nodes in the tree, counting each `in` literal as one. Default 1,000. */
  maxNodes: number;
  /** Deepest nesting of parentheses. Default 32. */
  maxDepth: number;
}

export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = Object.freeze({
  maxChars: 10_000,
  maxInValues: 200,
  maxNodes: 1_000,
  maxDepth: 32,
});

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const EDM_TYPES: Record<PropertyKind | Literal['kind'], string> = {
  string: 'Edm.String',
  number: 'Edm.Int64',
  datetime: 'Edm.DateTimeOffset',
  stringCollection: 'Collection(Edm.String)',
  null: 'null',
  boolean: 'Edm.Boolean',
};

const DATETIME_SOURCE = String.raw`(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:\d{2})?`;
const DATETIME_AT = new RegExp(DATETIME_SOURCE, 'y');
const DATETIME_WHOLE = new RegExp(`^${DATETIME_SOURCE}$`);
const INTEGER_AT = /-?\d+/y;
const WORD_AT = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Milliseconds since the epoch, then the 100 ns ticks below them: Defender writes 7 fractional digits. */
type Instant = readonly [epochMs: number, ticks: number];

/** Reads a whole datetime string as an instant; undefined when it is not one or names an impossible date. */
function toInstant(text: string): Instant | undefined {
  const m = DATETIME_WHOLE.exec(text);
  if (!m) return undefined;
  const part = (i: number): number => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, s] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const fraction = (m[7] ?? '').padEnd(7, '0');
  const zone = m[8] ?? 'Z';
  const offsetMinutes =
    zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
  if (h > 23 || mi > 59 || s > 59 || Math.abs(offsetMinutes) > 14 * 60) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // unlike Date.UTC, keeps years 0–99 literal
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return undefined;
  }
  date.setUTCHours(h, mi, s, Number(fraction.slice(0, 3)));
  return [date.getTime() - offsetMinutes * 60_000, Number(fraction.slice(3))];
}

function compareInstants(a: Instant, b: Instant): number {
  return Math.sign(a[0] - b[0] || a[1] - b[1]);
}

type Fail = (detail: string) => never;

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

  const orExpression = (): FilterNode => {
    let left = andExpression();
    while (isWord(peek(), 'or')) {
      next();
      left = counted({ type: 'or', left, right: andExpression() });
    }
    return left;
  };
  const andExpression = (): FilterNode => {
    let left = unary();
    while (isWord(peek(), 'and')) {
      next();
      left = counted({ type: 'and', left, right: unary() });
    }
    return left;
  };
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

function unreachable(value: never): never {
  throw new Error(`Unexpected filter node ${JSON.stringify(value)}`);
}

function valueOf(entity: object, property: string): unknown {
  return (entity as Record<string, unknown>)[property] ?? null;
}

function compareText(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Orders an entity value against a literal; undefined when they are of different kinds (never equal). */
function compareToLiteral(actual: unknown, literal: Exclude<Literal, { kind: 'null' }>): number | undefined {
  switch (literal.kind) {
    case 'string':
      return typeof actual === 'string' ? compareText(actual, literal.value) : undefined;
    case 'number':
      return typeof actual === 'number' ? Math.sign(actual - literal.value) : undefined;
    case 'boolean':
      return typeof actual === 'boolean' ? Number(actual) - Number(literal.value) : undefined;
    case 'datetime': {
      const instant = typeof actual === 'string' ? toInstant(actual) : undefined;
      const expected = toInstant(literal.value);
      return instant && expected && compareInstants(instant, expected);
    }
  }
}

function matches(actual: unknown, op: CompareOp, literal: Literal): boolean {
  // null equals only null, and an ordering against null is false, as in SQL-backed OData services.
  if (literal.kind === 'null' || actual === null) {
    const bothNull = literal.kind === 'null' && actual === null;
    return op === 'eq' ? bothNull : op === 'ne' ? !bothNull : false;
  }
  const order = compareToLiteral(actual, literal);
  if (order === undefined) return op === 'ne';
  const outcomes: Record<CompareOp, boolean> = {
    eq: order === 0,
    ne: order !== 0,
    gt: order > 0,
    ge: order >= 0,
    lt: order < 0,
    le: order <= 0,
  };
  return outcomes[op];
}

/** Whether an entity (a MachineDto or AlertDto as sent on the wire) passes the filter. */
export function evaluateFilter(node: FilterNode, entity: object): boolean {
  switch (node.type) {
    case 'and':
      return evaluateFilter(node.left, entity) && evaluateFilter(node.right, entity);
    case 'or':
      return evaluateFilter(node.left, entity) || evaluateFilter(node.right, entity);
    case 'not':
      return !evaluateFilter(node.operand, entity);
    case 'compare':
      return matches(valueOf(entity, node.property), node.op, node.value);
    case 'in': {
      const actual = valueOf(entity, node.property);
      return node.values.some((value) => matches(actual, 'eq', value));
    }
    case 'startswith': {
      const actual = valueOf(entity, node.property);
      return typeof actual === 'string' && actual.toLowerCase().startsWith(node.value.toLowerCase());
    }
    case 'any': {
      const actual = valueOf(entity, node.property);
      return (
        Array.isArray(actual) && actual.some((e) => typeof e === 'string' && compareText(e, node.value) === 0)
      );
    }
    default:
      return unreachable(node);
  }
}

export interface OrderKey {
  property: string;
  descending: boolean;
}

/** Parses `$orderby` (`prop [asc|desc]`, comma-separated) against the same property lists. Throws `ODataError`. */
export function parseOrderBy(text: string, properties: FilterableProperties): OrderKey[] {
  const fail: Fail = (detail) => {
    throw new ODataError(`Invalid orderby clause: ${detail}`);
  };
  if (text.length > DEFAULT_FILTER_LIMITS.maxChars) fail('The orderby is too long.');
  if (text.trim() === '') fail('The orderby is empty.');
  const typeName = ENTITY_TYPE_NAMES.get(properties) ?? 'the entity';
  const canonical = new Map(Object.keys(properties).map((name) => [name.toLowerCase(), name]));
  const keys: OrderKey[] = [];
  for (const item of text.split(',')) {
    const [written = '', direction = 'asc', ...rest] = item.trim().split(/\s+/);
    if (written === '') fail(`Expected a property name in '${text}'.`);
    const property = canonical.get(written.toLowerCase());
    if (property === undefined) fail(`Could not find a property named '${written}' on type '${typeName}'.`);
    if (properties[property] === 'stringCollection') fail(`Cannot order by the collection '${property}'.`);
    const dir = direction.toLowerCase();
    if ((dir !== 'asc' && dir !== 'desc') || rest.length > 0) {
      fail(
        `Expected 'asc', 'desc', ',' or the end after '${written}' but found '${[direction, ...rest].join(' ')}'.`,
      );
    }
    if (keys.some((k) => k.property === property)) fail(`Duplicate property '${property}' in orderby.`);
    keys.push({ property, descending: dir === 'desc' });
  }
  return keys;
}

/** Sorts nulls first; two datetime strings compare as instants (fraction lengths vary), other strings case-insensitively. */
function compareValues(a: unknown, b: unknown): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'string' && typeof b === 'string') {
    const x = toInstant(a);
    const y = toInstant(b);
    return x && y ? compareInstants(x, y) : compareText(a, b);
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareText(typeof a, typeof b); // mixed kinds: any fixed order keeps the sort consistent
}

/** Comparator for `Array.prototype.sort` (which is stable): ties on every key keep the input order. */
export function compareForOrder(a: object, b: object, order: readonly OrderKey[]): number {
  for (const { property, descending } of order) {
    const c = compareValues(valueOf(a, property), valueOf(b, property));
    if (c !== 0) return descending ? -c : c;
  }
  return 0;
}
