/**
 * The lexical layer of the simulator's KQL (`docs/defender-api.md` §8.3): tokens as Kusto reads them, so a
 * literal the gateway escapes is tested against the same rules a real cluster applies. Strings follow Kusto:
 * `"…"` and `'…'` with backslash escapes (`\\`, `\"`, `\'`, `\n`, `\t`, `\r`, `\uXXXX`; any other escape is an
 * error, never silently kept), verbatim `@"…"` / `@'…'` where a doubled quote is the quote, and `h`/`H`
 * (obfuscated) prefixes. `//` starts a comment that runs to the end of the line.
 */

export type TokenKind = 'ident' | 'string' | 'number' | 'timespan' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier name, decoded string, operator text (`==`, `in~`, `!has`), or the number's source text. */
  readonly text: string;
  /** Numbers: the value; timespans: their length in 100 ns ticks. */
  readonly number?: number;
  readonly ticks?: bigint;
  /** Numbers: true when written without a fraction or exponent (a `long`). */
  readonly integer?: boolean;
  /** Offset of the token's first character. */
  readonly start: number;
  /** Offset just past the token. */
  readonly end: number;
}

/** A query Kusto would reject, with the offset it points at. */
export class KqlError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'KqlError';
  }
}

/** `line 2, column 14` (both from 1): where an error points in the query. */
export function position(source: string, offset: number): string {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      column = 1;
    } else column++;
  }
  return `line ${line}, column ${column}`;
}

/** Operators of two or more characters, longest first so `!in~` wins over `!in`. */
const SYMBOLS = ['==', '!=', '=~', '!~', '<=', '>=', '<>'];
const SINGLE = new Set([
  '=',
  '<',
  '>',
  '|',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ';',
  '.',
  '+',
  '-',
  '*',
  '/',
  '%',
  ':',
]);
/** String operators that take a `!` prefix (`!has`) in Kusto. */
const NEGATABLE = new Set([
  'in',
  'has',
  'has_cs',
  'contains',
  'contains_cs',
  'startswith',
  'startswith_cs',
  'endswith',
  'endswith_cs',
  'has_any',
  'between',
]);
/** Hyphenated operator names Kusto lexes as one word. */
const HYPHENATED = new Set([
  'project-away',
  'project-rename',
  'project-keep',
  'project-reorder',
  'mv-expand',
  'mv-apply',
  'make-series',
  'parse-where',
  'parse-kv',
]);

const TIMESPAN_UNITS: Readonly<Record<string, bigint>> = {
  d: 864_000_000_000n,
  day: 864_000_000_000n,
  days: 864_000_000_000n,
  h: 36_000_000_000n,
  hr: 36_000_000_000n,
  hrs: 36_000_000_000n,
  hour: 36_000_000_000n,
  hours: 36_000_000_000n,
  m: 600_000_000n,
  min: 600_000_000n,
  minute: 600_000_000n,
  minutes: 600_000_000n,
  s: 10_000_000n,
  sec: 10_000_000n,
  second: 10_000_000n,
  seconds: 10_000_000n,
  ms: 10_000n,
  milli: 10_000n,
  millis: 10_000n,
  millisecond: 10_000n,
  milliseconds: 10_000n,
  microsecond: 10n,
  microseconds: 10n,
  tick: 1n,
  ticks: 1n,
};

const isIdentStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Reads tokens from any offset, so a parser can back off and retry, and read raw text (`datetime(…)`). */
export class Lexer {
  readonly #cache = new Map<number, Token>();

  constructor(readonly source: string) {}

  /** The token at or after `offset` (after whitespace and comments). */
  tokenAt(offset: number): Token {
    const cached = this.#cache.get(offset);
    if (cached) return cached;
    const token = this.#read(this.skipTrivia(offset));
    this.#cache.set(offset, token);
    return token;
  }

  /** Skips whitespace and `//` comments from `offset`. */
  skipTrivia(offset: number): number {
    const s = this.source;
    let i = offset;
    for (;;) {
      while (i < s.length && /\s/.test(s[i]!)) i++;
      if (s.startsWith('//', i)) {
        while (i < s.length && s[i] !== '\n') i++;
        continue;
      }
      return i;
    }
  }

  #read(start: number): Token {
    const s = this.source;
    if (start >= s.length) return { kind: 'eof', text: '', start, end: start };
    const c = s[start]!;
    const next = s[start + 1] ?? '';

    if (c === '"' || c === "'") return this.#quoted(start, start);
    if (c === '@' && (next === '"' || next === "'")) return this.#verbatim(start, start + 1);
    if ((c === 'h' || c === 'H') && (next === '"' || next === "'")) return this.#quoted(start, start + 1);
    if ((c === 'h' || c === 'H') && next === '@' && (s[start + 2] === '"' || s[start + 2] === "'")) {
      return this.#verbatim(start, start + 2);
    }
    if (isDigit(c) || (c === '.' && isDigit(next))) return this.#number(start);
    if (isIdentStart(c) || (c === '$' && isIdentStart(next))) return this.#identifier(start);
    if (c === '!' && isIdentStart(next)) {
      let end = start + 1;
      while (end < s.length && isIdentPart(s[end]!)) end++;
      const word = s.slice(start + 1, end);
      if (!NEGATABLE.has(word)) throw new KqlError(`Unexpected '!${word}'`, start);
      if (word === 'in' && s[end] === '~') end++;
      return { kind: 'op', text: s.slice(start, end), start, end };
    }
    for (const symbol of SYMBOLS) {
      if (s.startsWith(symbol, start)) return { kind: 'op', text: symbol, start, end: start + symbol.length };
    }
    if (SINGLE.has(c)) return { kind: 'op', text: c, start, end: start + 1 };
    throw new KqlError(`Unexpected character '${c}'`, start);
  }

  #identifier(start: number): Token {
    const s = this.source;
    let end = start + 1;
    while (end < s.length && isIdentPart(s[end]!)) end++;
    let text = s.slice(start, end);
    if (s[end] === '-') {
      let wordEnd = end + 1;
      while (wordEnd < s.length && isIdentPart(s[wordEnd]!)) wordEnd++;
      const joined = s.slice(start, wordEnd);
      if (HYPHENATED.has(joined)) {
        text = joined;
        end = wordEnd;
      }
    }
    if (text === 'in' && s[end] === '~') return { kind: 'op', text: 'in~', start, end: end + 1 };
    return { kind: 'ident', text, start, end };
  }

  #number(start: number): Token {
    const s = this.source;
    const hex = /^0[xX][0-9a-fA-F]+/.exec(s.slice(start, start + 20));
    if (hex) {
      return {
        kind: 'number',
        text: hex[0],
        number: Number(hex[0]),
        integer: true,
        start,
        end: start + hex[0].length,
      };
    }
    const match = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(s.slice(start))!;
    let end = start + match[0].length;
    const text = match[0];
    if (end < s.length && /[A-Za-z]/.test(s[end]!)) {
      let unitEnd = end;
      while (unitEnd < s.length && /[A-Za-z]/.test(s[unitEnd]!)) unitEnd++;
      const unit = TIMESPAN_UNITS[s.slice(end, unitEnd)];
      if (unit === undefined || /[eE]/.test(text)) {
        throw new KqlError(`Invalid number or timespan '${s.slice(start, unitEnd)}'`, start);
      }
      end = unitEnd;
      return { kind: 'timespan', text: s.slice(start, end), ticks: scaleTicks(text, unit), start, end };
    }
    const integer = /^\d+$/.test(text);
    return { kind: 'number', text, number: Number(text), integer, start, end };
  }

  /** `"…"` or `'…'` with Kusto's backslash escapes, starting at `quoteAt`. */
  #quoted(start: number, quoteAt: number): Token {
    const s = this.source;
    const quote = s[quoteAt]!;
    let value = '';
    let i = quoteAt + 1;
    for (;;) {
      const c = this.#stringChar(i, start);
      if (c === quote) return { kind: 'string', text: value, start, end: i + 1 };
      if (c !== '\\') {
        value += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      switch (e) {
        case '\\':
        case '"':
        case "'":
          value += e;
          i += 2;
          break;
        case 'n':
          value += '\n';
          i += 2;
          break;
        case 't':
          value += '\t';
          i += 2;
          break;
        case 'r':
          value += '\r';
          i += 2;
          break;
        case 'u': {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new KqlError('Invalid \\u escape sequence', i);
          value += String.fromCharCode(parseInt(hex, 16));
          i += 6;
          break;
        }
        default:
          throw new KqlError(`Invalid escape sequence '\\${e ?? ''}' in string literal`, i);
      }
    }
  }

  /** `@"…"`: no escapes, a doubled quote stands for the quote. */
  #verbatim(start: number, quoteAt: number): Token {
    const quote = this.source[quoteAt]!;
    let value = '';
    for (let i = quoteAt + 1; ; i++) {
      const c = this.#stringChar(i, start);
      if (c !== quote) {
        value += c;
      } else if (this.source[i + 1] === quote) {
        value += quote;
        i++;
      } else {
        return { kind: 'string', text: value, start, end: i + 1 };
      }
    }
  }

  /** The character at `i` inside a string literal that opened at `start`: a string must close on its own line. */
  #stringChar(i: number, start: number): string {
    const c = this.source[i];
    if (c === undefined || c === '\n' || c === '\r') throw new KqlError('Unterminated string literal', start);
    return c;
  }
}

/** `1.5` × 1 h in ticks, exactly for the decimal fractions people write. */
function scaleTicks(text: string, unit: bigint): bigint {
  const [whole = '0', fraction = ''] = text.split('.');
  const scale = 10n ** BigInt(fraction.length);
  return ((BigInt(whole || '0') * scale + BigInt(fraction || '0')) * unit) / scale;
}
