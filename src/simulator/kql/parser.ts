import type { Assignment, JoinKey, JoinKind, Operator, SortKey, Statement, Tabular } from './ast.js';
import { KqlError } from './lexer.js';
import { ExpressionParser } from './parse-expression.js';

const JOIN_KINDS = new Set<JoinKind>([
  'inner',
  'innerunique',
  'leftouter',
  'leftsemi',
  'leftanti',
  'rightsemi',
  'rightanti',
]);
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

/** The statements and query operators of KQL; expressions are parsed by the class it extends. */
class Parser extends ExpressionParser {
  query(): Statement[] {
    const statements: Statement[] = [];
    let query = false;
    while (this.peek().kind !== 'eof') {
      const token = this.peek();
      if (query) {
        throw this.error(token, 'only one tabular expression statement is supported (one result set)');
      }
      if (this.isWord('let')) {
        statements.push(this.#let());
      } else {
        statements.push({ kind: 'query', query: this.#tabular(), offset: token.start });
        query = true;
      }
      if (this.isOp(';')) this.next();
      else if (this.peek().kind !== 'eof')
        throw this.error(this.peek(), "expected ';' or the end of the query");
    }
    if (!query) throw new KqlError('The query has no tabular expression statement', this.source.length);
    return statements;
  }

  #let(): Statement {
    const start = this.next();
    const name = this.identifier('a name after let');
    this.expectOp('=');
    // A let binds a table (`let t = DeviceInfo | where …`) or a scalar (`let ids = dynamic([…])`): try the
    // tabular reading first and fall back to an expression, keeping the error of whichever got further.
    const saved = this.offset;
    const depth = this.depth;
    let tabularError: KqlError | undefined;
    try {
      const value = this.#tabular();
      if (this.isOp(';') || this.peek().kind === 'eof') {
        return { kind: 'let', name: name.text, value, offset: start.start };
      }
      tabularError = this.error(this.peek(), "expected ';' after the let statement");
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      tabularError = error;
    }
    const tabularEnd = this.offset;
    this.offset = saved;
    this.depth = depth;
    try {
      const value = this.expr();
      if (!this.isOp(';') && this.peek().kind !== 'eof') {
        throw this.error(this.peek(), "expected ';' after the let statement");
      }
      return { kind: 'let', name: name.text, value, offset: start.start };
    } catch (error) {
      if (!(error instanceof KqlError)) throw error;
      throw tabularError.offset > error.offset ||
        (tabularError.offset === error.offset && tabularEnd > this.offset)
        ? tabularError
        : error;
    }
  }

  #tabular(): Tabular {
    const start = this.peek();
    this.enter(start);
    let source: Tabular['source'];
    if (this.isOp('(')) {
      this.next();
      source = this.#tabular();
      this.expectOp(')');
    } else {
      const name = this.identifier('a table name');
      if (this.isOp('(')) throw this.error(name, 'a table name is expected here, not a function call');
      source = { name: name.text, offset: name.start };
    }
    const operators: Operator[] = [];
    while (this.isOp('|')) {
      this.next();
      operators.push(this.#operator());
    }
    this.depth--;
    return { source, operators, offset: start.start };
  }

  #operator(): Operator {
    const token = this.peek();
    if (token.kind !== 'ident') throw this.error(token, 'expected a query operator after |');
    const offset = token.start;
    this.next();
    switch (token.text) {
      case 'where':
      case 'filter':
        return { kind: 'where', predicate: this.expr(), offset };
      case 'project':
        return { kind: 'project', items: this.#assignments(), offset };
      case 'extend':
        return { kind: 'extend', items: this.#assignments(), offset };
      case 'project-away':
        return { kind: 'project-away', names: this.#names(), offset };
      case 'project-rename': {
        const renames: { name: string; from: string; offset: number }[] = [];
        do {
          const name = this.identifier('a new column name');
          this.expectOp('=');
          const from = this.identifier('the column to rename');
          renames.push({ name: name.text, from: from.text, offset: from.start });
        } while (this.eatOp(','));
        return { kind: 'project-rename', renames, offset };
      }
      case 'summarize': {
        const aggregates = this.isWord('by') ? [] : this.#assignments();
        let by: Assignment[] = [];
        if (this.isWord('by')) {
          this.next();
          by = this.#assignments();
        }
        if (aggregates.length === 0 && by.length === 0)
          throw this.error(this.peek(), 'summarize needs an aggregate or by');
        return { kind: 'summarize', aggregates, by, offset };
      }
      case 'distinct': {
        if (this.isOp('*')) {
          this.next();
          return { kind: 'distinct', names: '*', offset };
        }
        return { kind: 'distinct', names: this.#names(), offset };
      }
      case 'join':
        return this.#join(offset);
      case 'order':
      case 'sort': {
        this.expectWord('by');
        const keys: SortKey[] = [];
        do keys.push(this.#sortKey());
        while (this.eatOp(','));
        return { kind: 'sort', keys, offset };
      }
      case 'take':
      case 'limit':
        return { kind: 'take', count: this.expr(), offset };
      case 'top': {
        const count = this.expr();
        this.expectWord('by');
        return { kind: 'top', count, key: this.#sortKey(), offset };
      }
      case 'count':
        return { kind: 'count', offset };
      default:
        if (UNSUPPORTED_OPERATORS.has(token.text)) {
          throw new KqlError(`The operator '${token.text}' is not supported by this simulator`, offset);
        }
        throw this.error(token, 'expected a query operator after |');
    }
  }

  #join(offset: number): Operator {
    let join: JoinKind = 'innerunique';
    while (this.peek().kind === 'ident' && this.peek().text !== 'on' && this.peekAt(1).text === '=') {
      const parameter = this.next();
      this.next();
      if (parameter.text !== 'kind') {
        throw new KqlError(
          `The join parameter '${parameter.text}' is not supported by this simulator`,
          parameter.start,
        );
      }
      const kind = this.identifier('a join kind');
      if (!JOIN_KINDS.has(kind.text as JoinKind)) throw this.error(kind, `unknown join kind '${kind.text}'`);
      join = kind.text as JoinKind;
    }
    const right = this.#tabularOperand();
    this.expectWord('on');
    const on: JoinKey[] = [];
    do {
      const start = this.peek();
      const left = this.postfix();
      if (left.kind === 'name' && !this.isOp('==')) {
        on.push({ left: left.name, right: left.name, offset: start.start });
        continue;
      }
      if (left.kind !== 'side')
        throw this.error(start, 'expected a column, or $left.column == $right.column');
      this.expectOp('==');
      const rightKey = this.postfix();
      if (rightKey.kind !== 'side' || rightKey.side === left.side) {
        throw new KqlError('expected $left.column == $right.column', rightKey.offset);
      }
      const [l, r] = left.side === 'left' ? [left.name, rightKey.name] : [rightKey.name, left.name];
      on.push({ left: l, right: r, offset: start.start });
    } while (this.eatOp(','));
    return { kind: 'join', join, right, on, offset };
  }

  /** The right side of a join: `(tabular)` or a bare table name. */
  #tabularOperand(): Tabular {
    if (this.isOp('(')) {
      const open = this.next();
      const inner = this.#tabular();
      this.expectOp(')');
      return { source: inner, operators: [], offset: open.start };
    }
    const name = this.identifier('a table or a parenthesised query');
    return { source: { name: name.text, offset: name.start }, operators: [], offset: name.start };
  }

  #sortKey(): SortKey {
    const expr = this.expr();
    let descending = true;
    if (this.isWord('asc') || this.isWord('desc')) descending = this.next().text === 'desc';
    let nullsFirst = !descending;
    if (this.isWord('nulls')) {
      this.next();
      const which = this.identifier('first or last');
      if (which.text !== 'first' && which.text !== 'last') throw this.error(which, 'expected first or last');
      nullsFirst = which.text === 'first';
    }
    return { expr, descending, nullsFirst };
  }

  #names(): { name: string; offset: number }[] {
    const names: { name: string; offset: number }[] = [];
    do {
      const token = this.identifier('a column name');
      names.push({ name: token.text, offset: token.start });
    } while (this.eatOp(','));
    return names;
  }

  #assignments(): Assignment[] {
    const items: Assignment[] = [];
    do {
      const start = this.peek();
      let name: string | undefined;
      if (start.kind === 'ident' && this.peekAt(1).text === '=' && this.peekAt(1).kind === 'op') {
        name = start.text;
        this.next();
        this.next();
      }
      items.push({ name, expr: this.expr(), offset: start.start });
    } while (this.eatOp(','));
    return items;
  }
}
