/**
 * Kusto's scalar types as the simulator holds them: `string` is a JS string (Kusto strings are never null, the
 * empty string stands in), numbers are numbers, `datetime` and `timespan` are 100 ns ticks as bigint (a double
 * cannot hold today's tick count exactly), `dynamic` is a JSON value. Any of them but `string` may be null.
 */

export type KustoType = 'string' | 'long' | 'int' | 'real' | 'bool' | 'datetime' | 'timespan' | 'dynamic';

export type Value = string | number | boolean | bigint | null | Json;
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The column types Microsoft Graph names in a hunting result's `schema` (.NET type names, §8). */
export const GRAPH_TYPE_NAMES: Readonly<Record<KustoType, string>> = {
  string: 'String',
  long: 'Int64',
  int: 'Int32',
  real: 'Double',
  bool: 'Boolean',
  datetime: 'DateTime',
  timespan: 'TimeSpan',
  dynamic: 'Object',
};

export const TICKS_PER_MS = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;
const TICKS_PER_DAY = 864_000_000_000n;

export const isNumeric = (type: KustoType): boolean => type === 'long' || type === 'int' || type === 'real';

/** Ticks since the Unix epoch for a JS time in ms. */
export function ticksOfMs(ms: number): bigint {
  return BigInt(Math.floor(ms)) * TICKS_PER_MS;
}

const DATE_TIME =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?\s*(Z|[+-]00:?00)?$/i;

/** `2026-10-01`, `2026-10-01 12:00`, `2026-10-01T12:00:00.1234567Z` → ticks since the epoch; null if not a date. */
export function parseDateTime(text: string): bigint | null {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = ''] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h)) return null;
  return ticksOfMs(ms) + BigInt(fraction.padEnd(7, '0') || '0');
}

/** Ticks → `2026-10-03T11:22:33.1234567Z`, the form hunting results carry (§8). */
export function formatDateTime(ticks: bigint): string {
  const ms = ticks / TICKS_PER_MS;
  const floorMs = ticks < 0n && ticks % TICKS_PER_MS !== 0n ? ms - 1n : ms;
  const seconds = new Date(Number(floorMs)).toISOString().slice(0, 19);
  let within = ticks % TICKS_PER_SECOND;
  if (within < 0n) within += TICKS_PER_SECOND;
  return `${seconds}.${within.toString().padStart(7, '0')}Z`;
}

/** Ticks → .NET's `[-][d.]hh:mm:ss[.fffffff]`, as Kusto prints a timespan. */
export function formatTimespan(ticks: bigint): string {
  const sign = ticks < 0n ? '-' : '';
  let rest = ticks < 0n ? -ticks : ticks;
  const days = rest / TICKS_PER_DAY;
  rest %= TICKS_PER_DAY;
  const hours = rest / 36_000_000_000n;
  rest %= 36_000_000_000n;
  const minutes = rest / 600_000_000n;
  rest %= 600_000_000n;
  const seconds = rest / TICKS_PER_SECOND;
  const fraction = rest % TICKS_PER_SECOND;
  const pad = (n: bigint) => n.toString().padStart(2, '0');
  return (
    `${sign}${days > 0n ? `${days}.` : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}` +
    (fraction > 0n ? `.${fraction.toString().padStart(7, '0')}` : '')
  );
}

/** A value as it travels in a result row (and inside `dynamic`): JSON. */
export function toJson(value: Value, type: KustoType): Json {
  if (value === null) return type === 'string' ? '' : null;
  if (type === 'datetime') return formatDateTime(value as bigint);
  if (type === 'timespan') return formatTimespan(value as bigint);
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value as Json;
}

/** `tostring()`: a string for every value; null becomes the empty string. */
export function toKustoString(value: Value, type: KustoType): string {
  if (value === null) return '';
  switch (type) {
    case 'string':
      return value as string;
    case 'datetime':
      return formatDateTime(value as bigint);
    case 'timespan':
      return formatTimespan(value as bigint);
    case 'dynamic':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      return String(value);
  }
}

/** `tobool()`: true/false from bools, numbers and the strings "true"/"false" (any case); else null. */
export function toBool(value: Value, type: KustoType): boolean | null {
  if (value === null) return null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' && (type === 'string' || type === 'dynamic')) {
    const lower = value.trim().toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
  }
  return null;
}

/** `tolong()`/`todouble()`: a number from numbers, bools and numeric strings; else null. */
export function toNumber(value: Value, integer: boolean): number | null {
  let n: number;
  if (value === null) return null;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'boolean') n = value ? 1 : 0;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
    n = Number(value);
  else return null;
  return integer ? Math.trunc(n) : n;
}

/** `parse_json()`: the JSON a string holds; a string that is not JSON stays a string, as in Kusto. */
export function parseJson(value: Value, type: KustoType): Json {
  if (value === null) return null;
  if (type === 'dynamic') return value as Json;
  if (type !== 'string') return toJson(value, type);
  try {
    return JSON.parse(value as string) as Json;
  } catch {
    return value as string;
  }
}

/**
 * Equality of two values of compatible static types; `dynamic` compares by its JSON. Null equals nothing
 * (Kusto answers null, which a filter treats as false).
 */
export function equal(a: Value, b: Value, ignoreCase: boolean): boolean {
  if (a === null || b === null) return false;
  if (typeof a === 'object' || typeof b === 'object') return stringify(a) === stringify(b);
  if (ignoreCase && typeof a === 'string' && typeof b === 'string')
    return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Order of two non-null values of one comparable type: numbers, ticks, strings (ordinal), bools. */
export function compare(a: Value, b: Value): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = stringify(a);
  const y = stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** JSON text of any value; ticks (bigint), which JSON cannot hold, as their digits. */
function stringify(value: Value): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}

/** A key that identifies a value within a group-by or distinct. */
export function keyOf(value: Value): string {
  if (typeof value === 'bigint') return `t${value}`;
  if (typeof value === 'string') return `s${value}`;
  return `j${stringify(value)}`;
}
