import type {
  Assignment,
  Expr,
  JoinKey,
  JoinKind,
  Literal,
  Operator,
  SortKey,
  Statement,
  Tabular,
} from './ast.js';
import { parseDateTime } from './values.js';
import type { Token } from './lexer.js';
import { KqlError, Lexer } from './lexer.js';

/** Nesting past this is refused rather than risking the stack on hostile input. */
const MAX_DEPTH = 64;
/** The deepest expression tree accepted (`a or b or …` nests one level per term): a few hundred ids fit. */
const MAX_EXPRESSION_DEPTH = 2_000;

const JOIN_KINDS = new Set<JoinKind>([
  'inner',
  'innerunique',
  'leftouter',
  'leftsemi',
  'leftanti',
  'rightsemi',
  'rightanti',
]);
const COMPARISONS = new Set([
  '==',
  '!=',
  '<>',
  '=~',
  '!~',
  '<',
  '<=',
  '>',
  '>=',
  'has',
  '!has',
  'has_cs',
  '!has_cs',
  'contains',
  '!contains',
  'contains_cs',
  '!contains_cs',
  'startswith',
  '!startswith',
  'startswith_cs',
  '!startswith_cs',
  'endswith',
  '!endswith',
  'endswith_cs',
  '!endswith_cs',
]);
const LIST_OPERATORS = new Set(['in', 'in~', '!in', '!in~', 'has_any']);
/** Operators of Kusto this simulator does not run: named in the error so nobody mistakes it for a typo. */
const UNSUPPORTED_OPERATORS = new Set([
  'union',
  'mv-expand',
  'mv-apply',
  'make-series',
  'parse',
  'parse-where',
  'parse-kv',
  'evaluate',
  'render',
  'search',
  'find',
  'lookup',
  'as',
  'invoke',
  'facet',
  'fork',
  'sample',
  'sample-distinct',
  'serialize',
  'scan',
  'getschema',
  'project-keep',
  'project-reorder',
  'top-nested',
  'top-hitters',
  'range',
  'print',
  'datatable',
]);

/**
 * Parses a KQL query into statements: any number of `let`s, then exactly one tabular expression. Throws a
 * `KqlError` (with the offset it points at) for anything outside the subset; never anything else.
 */
export function parseQuery(source: string): Statement[] {
  return new Parser(source).query();
}

class Parser {
  readonly #lexer: Lexer;
  #offset = 0;
  #depth = 0;
  /** Height of each expression tree built, so a long chain is refused before it can exhaust the stack. */
  readonly #heights = new WeakMap<Expr, number>();

  constructor(readonly source: string) {
    this.#lexer = new Lexer(source);
  }

  query(): Statement[] {
    const statements: Statement[] = [];
    let query = false;
    while (this.#peek().kind !== 'eof') {
      const token = this.#peek();
      if (query) {
        throw this.#error(token, 'only one tabular expression statement is supported (one result set)');
      }
      if (this.#isWord('let')) {
        statements.push(this.#let());
      } else {
        statements.push({ kind: 'query', query: this.#tabular(), offset: token.start });
        query = true;
      }
      if (this.#isOp(';')) this.#next();
      else if (this.#peek().kind !== 'eof')
        throw this.#error(this.#peek(), "expected ';' or the end of the query");
    }
    if (!query) throw new KqlError('The query has no tabular expression statement', this.source.length);
    return statements;
  }

  #let(): Statement {
    const start = this.#next();
    const name = this.#identifier('a name after let');
    this.#expectOp('=');
    // A let binds a table (`let t = DeviceInfo | where …`) or a scalar (`let ids = dynamic([…])`): try the
    // tabular reading first and fall back to an expression, keeping the error of whichever got further.
    const saved = this.#offset;
    const depth = this.#depth;
    let tabularError: KqlError | undefined;
    try {
      const value = this.#tabular();
      if (this.#isOp(';') || this.#peek().kind === 'eof') {
        return { kind: 'let', name: name.text, value, offset: start.start };
      }
      tabularError = this.#error(this.#peek(), "expected ';' after the let statement");
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      tabularError = error;
    }
    const tabularEnd = this.#offset;
    this.#offset = saved;
    this.#depth = depth;
    try {
      const value = this.#expr();
      if (!this.#isOp(';') && this.#peek().kind !== 'eof') {
        throw this.#error(this.#peek(), "expected ';' after the let statement");
      }
      return { kind: 'let', name: name.text, value, offset: start.start };
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      throw tabularError.offset > error.offset ||
        (tabularError.offset === error.offset && tabularEnd > this.#offset)
        ? tabularError
        : error;
    }
  }

  #tabular(): Tabular {
    const start = this.#peek();
    this.#enter(start);
    let source: Tabular['source'];
    if (this.#isOp('(')) {
      this.#next();
      source = this.#tabular();
      this.#expectOp(')');
    } else {
      const name = this.#identifier('a table name');
      if (this.#isOp('(')) throw this.#error(name, 'a table name is expected here, not a function call');
      source = { name: name.text, offset: name.start };
    }
    const operators: Operator[] = [];
    while (this.#isOp('|')) {
      this.#next();
      operators.push(this.#operator());
    }
    this.#depth--;
    return { source, operators, offset: start.start };
  }

  #operator(): Operator {
    const token = this.#peek();
    if (token.kind !== 'ident') throw this.#error(token, 'expected a query operator after |');
    const offset = token.start;
    this.#next();
    switch (token.text) {
      case 'where':
      case 'filter':
        return { kind: 'where', predicate: this.#expr(), offset };
      case 'project':
        return { kind: 'project', items: this.#assignments(), offset };
      case 'extend':
        return { kind: 'extend', items: this.#assignments(), offset };
      case 'project-away':
        return { kind: 'project-away', names: this.#names(), offset };
      case 'project-rename': {
        const renames: { name: string; from: string; offset: number }[] = [];
        do {
          const name = this.#identifier('a new column name');
          this.#expectOp('=');
          const from = this.#identifier('the column to rename');
          renames.push({ name: name.text, from: from.text, offset: from.start });
        } while (this.#eatOp(','));
        return { kind: 'project-rename', renames, offset };
      }
      case 'summarize': {
        const aggregates = this.#isWord('by') ? [] : this.#assignments();
        let by: Assignment[] = [];
        if (this.#isWord('by')) {
          this.#next();
          by = this.#assignments();
        }
        if (aggregates.length === 0 && by.length === 0)
          throw this.#error(this.#peek(), 'summarize needs an aggregate or by');
        return { kind: 'summarize', aggregates, by, offset };
      }
      case 'distinct': {
        if (this.#isOp('*')) {
          this.#next();
          return { kind: 'distinct', names: '*', offset };
        }
        return { kind: 'distinct', names: this.#names(), offset };
      }
      case 'join':
        return this.#join(offset);
      case 'order':
      case 'sort': {
        this.#expectWord('by');
        const keys: SortKey[] = [];
        do keys.push(this.#sortKey());
        while (this.#eatOp(','));
        return { kind: 'sort', keys, offset };
      }
      case 'take':
      case 'limit':
        return { kind: 'take', count: this.#expr(), offset };
      case 'top': {
        const count = this.#expr();
        this.#expectWord('by');
        return { kind: 'top', count, key: this.#sortKey(), offset };
      }
      case 'count':
        return { kind: 'count', offset };
      default:
        if (UNSUPPORTED_OPERATORS.has(token.text)) {
          throw new KqlError(`The operator '${token.text}' is not supported by this simulator`, offset);
        }
        throw this.#error(token, 'expected a query operator after |');
    }
  }

  #join(offset: number): Operator {
    let join: JoinKind = 'innerunique';
    while (this.#peek().kind === 'ident' && this.#peek().text !== 'on' && this.#peekAt(1).text === '=') {
      const parameter = this.#next();
      this.#next();
      if (parameter.text !== 'kind') {
        throw new KqlError(
          `The join parameter '${parameter.text}' is not supported by this simulator`,
          parameter.start,
        );
      }
      const kind = this.#identifier('a join kind');
      if (!JOIN_KINDS.has(kind.text as JoinKind)) throw this.#error(kind, `unknown join kind '${kind.text}'`);
      join = kind.text as JoinKind;
    }
    const right = this.#tabularOperand();
    this.#expectWord('on');
    const on: JoinKey[] = [];
    do {
      const start = this.#peek();
      const left = this.#postfix();
      if (left.kind === 'name' && !this.#isOp('==')) {
        on.push({ left: left.name, right: left.name, offset: start.start });
        continue;
      }
      if (left.kind !== 'side')
        throw this.#error(start, 'expected a column, or $left.column == $right.column');
      this.#expectOp('==');
      const rightKey = this.#postfix();
      if (rightKey.kind !== 'side' || rightKey.side === left.side) {
        throw new KqlError('expected $left.column == $right.column', rightKey.offset);
      }
      const [l, r] = left.side === 'left' ? [left.name, rightKey.name] : [rightKey.name, left.name];
      on.push({ left: l, right: r, offset: start.start });
    } while (this.#eatOp(','));
    return { kind: 'join', join, right, on, offset };
  }

  /** The right side of a join: `(tabular)` or a bare table name. */
  #tabularOperand(): Tabular {
    if (this.#isOp('(')) {
      const open = this.#next();
      const inner = this.#tabular();
      this.#expectOp(')');
      return { source: inner, operators: [], offset: open.start };
    }
    const name = this.#identifier('a table or a parenthesised query');
    return { source: { name: name.text, offset: name.start }, operators: [], offset: name.start };
  }

  #sortKey(): SortKey {
    const expr = this.#expr();
    let descending = true;
    if (this.#isWord('asc') || this.#isWord('desc')) descending = this.#next().text === 'desc';
    let nullsFirst = !descending;
    if (this.#isWord('nulls')) {
      this.#next();
      const which = this.#identifier('first or last');
      if (which.text !== 'first' && which.text !== 'last') throw this.#error(which, 'expected first or last');
      nullsFirst = which.text === 'first';
    }
    return { expr, descending, nullsFirst };
  }

  #names(): { name: string; offset: number }[] {
    const names: { name: string; offset: number }[] = [];
    do {
      const token = this.#identifier('a column name');
      names.push({ name: token.text, offset: token.start });
    } while (this.#eatOp(','));
    return names;
  }

  #assignments(): Assignment[] {
    const items: Assignment[] = [];
    do {
      const start = this.#peek();
      let name: string | undefined;
      if (start.kind === 'ident' && this.#peekAt(1).text === '=' && this.#peekAt(1).kind === 'op') {
        name = start.text;
        this.#next();
        this.#next();
      }
      items.push({ name, expr: this.#expr(), offset: start.start });
    } while (this.#eatOp(','));
    return items;
  }

  // Expressions, loosest binding first.

  #expr(): Expr {
    const token = this.#peek();
    this.#enter(token);
    const expr = this.#or();
    this.#depth--;
    return expr;
  }

  #or(): Expr {
    let left = this.#and();
    while (this.#isWord('or')) {
      const op = this.#next();
      left = this.#node({ kind: 'binary', op: 'or', left, right: this.#and(), offset: op.start });
    }
    return left;
  }

  #and(): Expr {
    let left = this.#comparison();
    while (this.#isWord('and')) {
      const op = this.#next();
      left = this.#node({ kind: 'binary', op: 'and', left, right: this.#comparison(), offset: op.start });
    }
    return left;
  }

  #comparison(): Expr {
    const left = this.#additive();
    const token = this.#peek();
    if ((token.kind === 'op' || token.kind === 'ident') && LIST_OPERATORS.has(token.text)) {
      this.#next();
      this.#expectOp('(');
      const list: Expr[] = [];
      if (!this.#isOp(')')) {
        do list.push(this.#expr());
        while (this.#eatOp(','));
      }
      this.#expectOp(')');
      return this.#node({ kind: 'in', op: token.text, left, list, offset: token.start });
    }
    if ((token.kind === 'op' || token.kind === 'ident') && COMPARISONS.has(token.text)) {
      this.#next();
      const op = token.text === '<>' ? '!=' : token.text;
      return this.#node({ kind: 'binary', op, left, right: this.#additive(), offset: token.start });
    }
    return left;
  }

  #additive(): Expr {
    let left = this.#multiplicative();
    while (this.#isOp('+') || this.#isOp('-')) {
      const op = this.#next();
      left = this.#node({
        kind: 'binary',
        op: op.text,
        left,
        right: this.#multiplicative(),
        offset: op.start,
      });
    }
    return left;
  }

  #multiplicative(): Expr {
    let left = this.#unary();
    while (this.#isOp('*') || this.#isOp('/') || this.#isOp('%')) {
      const op = this.#next();
      left = this.#node({ kind: 'binary', op: op.text, left, right: this.#unary(), offset: op.start });
    }
    return left;
  }

  #unary(): Expr {
    if (this.#isOp('-') || this.#isOp('+')) {
      const op = this.#next();
      this.#enter(op);
      const operand = this.#unary();
      this.#depth--;
      return op.text === '-' ? this.#node({ kind: 'negate', operand, offset: op.start }) : operand;
    }
    return this.#postfix();
  }

  #postfix(): Expr {
    let expr = this.#primary();
    for (;;) {
      if (this.#isOp('.')) {
        this.#next();
        const name = this.#memberName();
        expr = this.#node({ kind: 'member', target: expr, name, offset: expr.offset });
      } else if (this.#isOp('[')) {
        this.#next();
        const index = this.#expr();
        this.#expectOp(']');
        expr = this.#node({ kind: 'index', target: expr, index, offset: expr.offset });
      } else return expr;
    }
  }

  /** After `.`: a name, or `['key with spaces']`. */
  #memberName(): string {
    const token = this.#peek();
    if (token.kind === 'ident') return this.#next().text;
    if (this.#isOp('[')) {
      this.#next();
      const key = this.#next();
      if (key.kind !== 'string') throw this.#error(key, 'expected a quoted property name');
      this.#expectOp(']');
      return key.text;
    }
    throw this.#error(token, 'expected a property name after .');
  }

  #primary(): Expr {
    const token = this.#peek();
    const offset = token.start;
    switch (token.kind) {
      case 'number':
        this.#next();
        return literal({ type: token.integer ? 'long' : 'real', value: token.number! }, offset);
      case 'timespan':
        this.#next();
        return literal({ type: 'timespan', value: token.ticks! }, offset);
      case 'string': {
        // Kusto joins adjacent string literals: "a" "b" is "ab".
        let value = '';
        while (this.#peek().kind === 'string') value += this.#next().text;
        return literal({ type: 'string', value }, offset);
      }
      case 'ident':
        return this.#identifierExpr();
      case 'op':
        if (token.text === '(') {
          this.#next();
          const inner = this.#expr();
          this.#expectOp(')');
          return inner;
        }
        if (token.text === '[') {
          // ['column name']: a quoted identifier.
          this.#next();
          const name = this.#next();
          if (name.kind !== 'string') throw this.#error(name, 'expected a quoted column name');
          this.#expectOp(']');
          return { kind: 'name', name: name.text, offset };
        }
        if (token.text === '*') {
          this.#next();
          return { kind: 'star', offset };
        }
        throw this.#error(token, 'expected an expression');
      case 'eof':
        throw this.#error(token, 'expected an expression');
    }
  }

  #identifierExpr(): Expr {
    const token = this.#next();
    const offset = token.start;
    const name = token.text;
    if (name === 'true' || name === 'false') return literal({ type: 'bool', value: name === 'true' }, offset);
    if (name.startsWith('$')) {
      if (name !== '$left' && name !== '$right') throw this.#error(token, 'expected $left or $right');
      this.#expectOp('.');
      const column = this.#identifier('a column name');
      return { kind: 'side', side: name === '$left' ? 'left' : 'right', name: column.text, offset };
    }
    if (!this.#isOp('(')) return { kind: 'name', name, offset };
    switch (name) {
      case 'datetime':
        return literal({ type: 'datetime', value: this.#rawDateTime() }, offset);
      case 'dynamic': {
        this.#expectOp('(');
        const value = this.#dynamicValue();
        this.#expectOp(')');
        return literal({ type: 'dynamic', value }, offset);
      }
      case 'timespan':
      case 'time': {
        this.#expectOp('(');
        const token = this.#next();
        let ticks: bigint | null;
        if (token.kind === 'timespan') ticks = token.ticks!;
        else if (token.kind === 'number' && token.integer) ticks = BigInt(token.number!) * 864_000_000_000n;
        else if (token.kind === 'ident' && token.text === 'null') ticks = null;
        else throw this.#error(token, 'expected a timespan such as 30d');
        this.#expectOp(')');
        return literal({ type: 'timespan', value: ticks }, offset);
      }
      case 'long':
      case 'int':
      case 'real':
      case 'double':
      case 'bool':
      case 'boolean': {
        this.#expectOp('(');
        const value = this.#typedScalar(name);
        this.#expectOp(')');
        return literal(value, offset);
      }
    }
    this.#next();
    const args: Expr[] = [];
    if (!this.#isOp(')')) {
      do args.push(this.#expr());
      while (this.#eatOp(','));
    }
    this.#expectOp(')');
    return this.#node({ kind: 'call', name, args, offset });
  }

  /** `datetime(2026-10-01T12:00:00Z)`: Kusto reads the raw text up to `)`, quoted or not. */
  #rawDateTime(): bigint | null {
    const open = this.#expectOp('(');
    const close = this.source.indexOf(')', open.end);
    if (close === -1) throw new KqlError("Expected ')' to close datetime(", open.start);
    let text = this.source.slice(open.end, close).trim();
    if (/^(['"]).*\1$/s.test(text)) text = text.slice(1, -1);
    this.#offset = close + 1;
    if (text === 'null') return null;
    const ticks = parseDateTime(text);
    if (ticks === null) throw new KqlError(`Invalid datetime literal '${text}'`, open.end);
    return ticks;
  }

  #typedScalar(type: string): Literal {
    const token = this.#next();
    if (token.kind === 'ident' && token.text === 'null') {
      return type === 'bool' || type === 'boolean'
        ? { type: 'bool', value: null }
        : { type: type === 'double' ? 'real' : (type as 'long' | 'int' | 'real'), value: null };
    }
    if (type === 'bool' || type === 'boolean') {
      if (token.kind === 'ident' && (token.text === 'true' || token.text === 'false')) {
        return { type: 'bool', value: token.text === 'true' };
      }
      throw this.#error(token, 'expected true, false or null');
    }
    let sign = 1;
    let number = token;
    if (token.kind === 'op' && token.text === '-') {
      sign = -1;
      number = this.#next();
    }
    if (number.kind !== 'number') throw this.#error(number, `expected a number in ${type}()`);
    const value = sign * number.number!;
    if (type === 'long' || type === 'int') {
      if (!Number.isInteger(value)) throw this.#error(number, `expected an integer in ${type}()`);
      return { type, value };
    }
    return { type: 'real', value };
  }

  /** The inside of `dynamic(…)`: JSON-like, with KQL literals. */
  #dynamicValue(): unknown {
    const token = this.#peek();
    this.#enter(token);
    let value: unknown;
    if (this.#isOp('[')) {
      this.#next();
      const items: unknown[] = [];
      if (!this.#isOp(']')) {
        do items.push(this.#dynamicValue());
        while (this.#eatOp(','));
      }
      this.#expectOp(']');
      value = items;
    } else if (this.#isOp('{')) {
      this.#next();
      const object: Record<string, unknown> = {};
      if (!this.#isOp('}')) {
        do {
          const key = this.#next();
          if (key.kind !== 'string') throw this.#error(key, 'expected a quoted property name');
          this.#expectOp(':');
          Object.defineProperty(object, key.text, {
            value: this.#dynamicValue(),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } while (this.#eatOp(','));
      }
      this.#expectOp('}');
      value = object;
    } else if (token.kind === 'string') {
      value = this.#next().text;
    } else if (token.kind === 'number') {
      value = this.#next().number;
    } else if (token.kind === 'op' && token.text === '-' && this.#peekAt(1).kind === 'number') {
      this.#next();
      value = -this.#next().number!;
    } else if (
      token.kind === 'ident' &&
      (token.text === 'true' || token.text === 'false' || token.text === 'null')
    ) {
      this.#next();
      value = token.text === 'null' ? null : token.text === 'true';
    } else {
      throw this.#error(token, 'expected a JSON value inside dynamic()');
    }
    this.#depth--;
    return value;
  }

  // Token helpers.

  #peek(): Token {
    return this.#lexer.tokenAt(this.#offset);
  }

  #peekAt(ahead: number): Token {
    let offset = this.#offset;
    let token = this.#lexer.tokenAt(offset);
    for (let i = 0; i < ahead; i++) {
      offset = token.end;
      token = this.#lexer.tokenAt(offset);
    }
    return token;
  }

  #next(): Token {
    const token = this.#peek();
    this.#offset = token.end;
    return token;
  }

  #isOp(text: string): boolean {
    const token = this.#peek();
    return token.kind === 'op' && token.text === text;
  }

  #isWord(text: string): boolean {
    const token = this.#peek();
    return token.kind === 'ident' && token.text === text;
  }

  #eatOp(text: string): boolean {
    if (!this.#isOp(text)) return false;
    this.#next();
    return true;
  }

  #expectOp(text: string): Token {
    if (!this.#isOp(text)) throw this.#error(this.#peek(), `expected '${text}'`);
    return this.#next();
  }

  #expectWord(text: string): Token {
    if (!this.#isWord(text)) throw this.#error(this.#peek(), `expected '${text}'`);
    return this.#next();
  }

  #identifier(what: string): Token {
    const token = this.#peek();
    if (token.kind !== 'ident' || token.text.startsWith('$')) throw this.#error(token, `expected ${what}`);
    return this.#next();
  }

  #enter(token: Token): void {
    if (++this.#depth > MAX_DEPTH) throw new KqlError('The query is nested too deeply', token.start);
  }

  /** Records a new node's height, refusing a tree too deep to bind and evaluate recursively. */
  #node<T extends Expr>(expr: T): T {
    const children: Expr[] = [];
    if (expr.kind === 'binary') children.push(expr.left, expr.right);
    else if (expr.kind === 'in') children.push(expr.left, ...expr.list);
    else if (expr.kind === 'negate') children.push(expr.operand);
    else if (expr.kind === 'member') children.push(expr.target);
    else if (expr.kind === 'index') children.push(expr.target, expr.index);
    else if (expr.kind === 'call') children.push(...expr.args);
    let height = 1;
    for (const child of children) height = Math.max(height, (this.#heights.get(child) ?? 1) + 1);
    if (height > MAX_EXPRESSION_DEPTH) throw new KqlError('The expression is nested too deeply', expr.offset);
    this.#heights.set(expr, height);
    return expr;
  }

  #error(token: Token, expected: string): KqlError {
    const at = token.kind === 'eof' ? '<end of query>' : this.source.slice(token.start, token.end);
    return new KqlError(`Query could not be parsed at '${at}': ${expected}`, token.start);
  }
}

function literal(value: Literal, offset: number): Expr {
  return { kind: 'literal', literal: value, offset };
}
