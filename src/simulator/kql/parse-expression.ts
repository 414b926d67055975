// KQL expressions (scalars, literals, dynamic values), apart from the query operators that contain them.
import type { Expr, Literal } from './ast.js';
import { KqlError } from './lexer.js';
import { TokenCursor } from './parse-cursor.js';
import { parseDateTime } from './values.js';

/** The deepest expression tree accepted (`a or b or …` nests one level per term): a few hundred ids fit. */
const MAX_EXPRESSION_DEPTH = 2_000;

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

/** Parses expressions, loosest binding first; the query parser extends it with the tabular operators. */
export abstract class ExpressionParser extends TokenCursor {
  /** Height of each expression tree built, so a long chain is refused before it can exhaust the stack. */
  readonly #heights = new WeakMap<Expr, number>();

  protected expr(): Expr {
    const token = this.peek();
    this.enter(token);
    const expr = this.#or();
    this.depth--;
    return expr;
  }

  #or(): Expr {
    return this.#leftAssociative('ident', ['or'], () => this.#and());
  }

  #and(): Expr {
    return this.#leftAssociative('ident', ['and'], () => this.#comparison());
  }

  #comparison(): Expr {
    const left = this.#additive();
    const token = this.peek();
    if ((token.kind === 'op' || token.kind === 'ident') && LIST_OPERATORS.has(token.text)) {
      this.next();
      this.expectOp('(');
      const list: Expr[] = [];
      if (!this.isOp(')')) {
        do list.push(this.expr());
        while (this.eatOp(','));
      }
      this.expectOp(')');
      return this.#node({ kind: 'in', op: token.text, left, list, offset: token.start });
    }
    if ((token.kind === 'op' || token.kind === 'ident') && COMPARISONS.has(token.text)) {
      this.next();
      const op = token.text === '<>' ? '!=' : token.text;
      return this.#node({ kind: 'binary', op, left, right: this.#additive(), offset: token.start });
    }
    return left;
  }

  #additive(): Expr {
    return this.#leftAssociative('op', ['+', '-'], () => this.#multiplicative());
  }

  #multiplicative(): Expr {
    return this.#leftAssociative('op', ['*', '/', '%'], () => this.#unary());
  }

  /** One precedence level of binary operators, associating to the left: `operand (op operand)*`. */
  #leftAssociative(kind: 'ident' | 'op', ops: readonly string[], operand: () => Expr): Expr {
    let left = operand();
    for (let token = this.peek(); token.kind === kind && ops.includes(token.text); token = this.peek()) {
      this.next();
      left = this.#node({ kind: 'binary', op: token.text, left, right: operand(), offset: token.start });
    }
    return left;
  }

  #unary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.next();
      this.enter(op);
      const operand = this.#unary();
      this.depth--;
      return op.text === '-' ? this.#node({ kind: 'negate', operand, offset: op.start }) : operand;
    }
    return this.postfix();
  }

  protected postfix(): Expr {
    let expr = this.#primary();
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const name = this.#memberName();
        expr = this.#node({ kind: 'member', target: expr, name, offset: expr.offset });
      } else if (this.isOp('[')) {
        this.next();
        const index = this.expr();
        this.expectOp(']');
        expr = this.#node({ kind: 'index', target: expr, index, offset: expr.offset });
      } else return expr;
    }
  }

  /** After `.`: a name, or `['key with spaces']`. */
  #memberName(): string {
    const token = this.peek();
    if (token.kind === 'ident') return this.next().text;
    if (this.isOp('[')) {
      this.next();
      const key = this.next();
      if (key.kind !== 'string') throw this.error(key, 'expected a quoted property name');
      this.expectOp(']');
      return key.text;
    }
    throw this.error(token, 'expected a property name after .');
  }

  #primary(): Expr {
    const token = this.peek();
    const offset = token.start;
    switch (token.kind) {
      case 'number':
        this.next();
        return literal({ type: token.integer ? 'long' : 'real', value: token.number! }, offset);
      case 'timespan':
        this.next();
        return literal({ type: 'timespan', value: token.ticks! }, offset);
      case 'string': {
        // Kusto joins adjacent string literals: "a" "b" is "ab".
        let value = '';
        while (this.peek().kind === 'string') value += this.next().text;
        return literal({ type: 'string', value }, offset);
      }
      case 'ident':
        return this.#identifierExpr();
      case 'op':
        if (token.text === '(') {
          this.next();
          const inner = this.expr();
          this.expectOp(')');
          return inner;
        }
        if (token.text === '[') {
          // ['column name']: a quoted identifier.
          this.next();
          const name = this.next();
          if (name.kind !== 'string') throw this.error(name, 'expected a quoted column name');
          this.expectOp(']');
          return { kind: 'name', name: name.text, offset };
        }
        if (token.text === '*') {
          this.next();
          return { kind: 'star', offset };
        }
        throw this.error(token, 'expected an expression');
      case 'eof':
        throw this.error(token, 'expected an expression');
    }
  }

  #identifierExpr(): Expr {
    const token = this.next();
    const offset = token.start;
    const name = token.text;
    if (name === 'true' || name === 'false') return literal({ type: 'bool', value: name === 'true' }, offset);
    if (name.startsWith('$')) {
      if (name !== '$left' && name !== '$right') throw this.error(token, 'expected $left or $right');
      this.expectOp('.');
      const column = this.identifier('a column name');
      return { kind: 'side', side: name === '$left' ? 'left' : 'right', name: column.text, offset };
    }
    if (!this.isOp('(')) return { kind: 'name', name, offset };
    switch (name) {
      case 'datetime':
        return literal({ type: 'datetime', value: this.#rawDateTime() }, offset);
      case 'dynamic': {
        this.expectOp('(');
        const value = this.#dynamicValue();
        this.expectOp(')');
        return literal({ type: 'dynamic', value }, offset);
      }
      case 'timespan':
      case 'time': {
        this.expectOp('(');
        const token = this.next();
        let ticks: bigint | null;
        if (token.kind === 'timespan') ticks = token.ticks!;
        else if (token.kind === 'number' && token.integer) ticks = BigInt(token.number!) * 864_000_000_000n;
        else if (token.kind === 'ident' && token.text === 'null') ticks = null;
        else throw this.error(token, 'expected a timespan such as 30d');
        this.expectOp(')');
        return literal({ type: 'timespan', value: ticks }, offset);
      }
      case 'long':
      case 'int':
      case 'real':
      case 'double':
      case 'bool':
      case 'boolean': {
        this.expectOp('(');
        const value = this.#typedScalar(name);
        this.expectOp(')');
        return literal(value, offset);
      }
    }
    this.next();
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do args.push(this.expr());
      while (this.eatOp(','));
    }
    this.expectOp(')');
    return this.#node({ kind: 'call', name, args, offset });
  }

  /** `datetime(2026-10-01T12:00:00Z)`: Kusto reads the raw text up to `)`, quoted or not. */
  #rawDateTime(): bigint | null {
    const open = this.expectOp('(');
    const close = this.source.indexOf(')', open.end);
    if (close === -1) throw new KqlError("Expected ')' to close datetime(", open.start);
    let text = this.source.slice(open.end, close).trim();
    if (/^(['"]).*\1$/s.test(text)) text = text.slice(1, -1);
    this.offset = close + 1;
    if (text === 'null') return null;
    const ticks = parseDateTime(text);
    if (ticks === null) throw new KqlError(`Invalid datetime literal '${text}'`, open.end);
    return ticks;
  }

  #typedScalar(type: string): Literal {
    const token = this.next();
    if (token.kind === 'ident' && token.text === 'null') {
      return type === 'bool' || type === 'boolean'
        ? { type: 'bool', value: null }
        : { type: type === 'double' ? 'real' : (type as 'long' | 'int' | 'real'), value: null };
    }
    if (type === 'bool' || type === 'boolean') {
      if (token.kind === 'ident' && (token.text === 'true' || token.text === 'false')) {
        return { type: 'bool', value: token.text === 'true' };
      }
      throw this.error(token, 'expected true, false or null');
    }
    let sign = 1;
    let number = token;
    if (token.kind === 'op' && token.text === '-') {
      sign = -1;
      number = this.next();
    }
    if (number.kind !== 'number') throw this.error(number, `expected a number in ${type}()`);
    const value = sign * number.number!;
    if (type === 'long' || type === 'int') {
      if (!Number.isInteger(value)) throw this.error(number, `expected an integer in ${type}()`);
      return { type, value };
    }
    return { type: 'real', value };
  }

  /** The inside of `dynamic(…)`: JSON-like, with KQL literals. */
  #dynamicValue(): unknown {
    const token = this.peek();
    this.enter(token);
    let value: unknown;
    if (this.isOp('[')) {
      this.next();
      const items: unknown[] = [];
      if (!this.isOp(']')) {
        do items.push(this.#dynamicValue());
        while (this.eatOp(','));
      }
      this.expectOp(']');
      value = items;
    } else if (this.isOp('{')) {
      this.next();
      const object: Record<string, unknown> = {};
      if (!this.isOp('}')) {
        do {
          const key = this.next();
          if (key.kind !== 'string') throw this.error(key, 'expected a quoted property name');
          this.expectOp(':');
          Object.defineProperty(object, key.text, {
            value: this.#dynamicValue(),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } while (this.eatOp(','));
      }
      this.expectOp('}');
      value = object;
    } else if (token.kind === 'string') {
      value = this.next().text;
    } else if (token.kind === 'number') {
      value = this.next().number;
    } else if (token.kind === 'op' && token.text === '-' && this.peekAt(1).kind === 'number') {
      this.next();
      value = -this.next().number!;
    } else if (
      token.kind === 'ident' &&
      (token.text === 'true' || token.text === 'false' || token.text === 'null')
    ) {
      this.next();
      value = token.text === 'null' ? null : token.text === 'true';
    } else {
      throw this.error(token, 'expected a JSON value inside dynamic()');
    }
    this.depth--;
    return value;
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
}

function literal(value: Literal, offset: number): Expr {
  return { kind: 'literal', literal: value, offset };
}
