// The token cursor under the KQL parser: lookahead, expectations, depth limit and error wording in one place.
import type { Token } from './lexer.js';
import { KqlError, Lexer } from './lexer.js';

/** Nesting past this is refused rather than risking the stack on hostile input. */
const MAX_DEPTH = 64;

/** Walks the tokens of one query; the parsers built on it only ever move forward or restore a saved offset. */
export abstract class TokenCursor {
  readonly #lexer: Lexer;
  protected offset = 0;
  protected depth = 0;

  constructor(readonly source: string) {
    this.#lexer = new Lexer(source);
  }

  protected peek(): Token {
    return this.#lexer.tokenAt(this.offset);
  }

  protected peekAt(ahead: number): Token {
    let offset = this.offset;
    let token = this.#lexer.tokenAt(offset);
    for (let i = 0; i < ahead; i++) {
      offset = token.end;
      token = this.#lexer.tokenAt(offset);
    }
    return token;
  }

  protected next(): Token {
    const token = this.peek();
    this.offset = token.end;
    return token;
  }

  protected isOp(text: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.text === text;
  }

  protected isWord(text: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.text === text;
  }

  protected eatOp(text: string): boolean {
    if (!this.isOp(text)) return false;
    this.next();
    return true;
  }

  protected expectOp(text: string): Token {
    if (!this.isOp(text)) throw this.error(this.peek(), `expected '${text}'`);
    return this.next();
  }

  protected expectWord(text: string): Token {
    if (!this.isWord(text)) throw this.error(this.peek(), `expected '${text}'`);
    return this.next();
  }

  protected identifier(what: string): Token {
    const token = this.peek();
    if (token.kind !== 'ident' || token.text.startsWith('$')) throw this.error(token, `expected ${what}`);
    return this.next();
  }

  protected enter(token: Token): void {
    if (++this.depth > MAX_DEPTH) throw new KqlError('The query is nested too deeply', token.start);
  }

  protected error(token: Token, expected: string): KqlError {
    const at = token.kind === 'eof' ? '<end of query>' : this.source.slice(token.start, token.end);
    return new KqlError(`Query could not be parsed at '${at}': ${expected}`, token.start);
  }
}
