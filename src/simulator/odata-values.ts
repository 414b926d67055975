// Values compared as Defender's OData does (datetimes as instants, text case-insensitively), for $filter and $orderby.

const DATETIME_SOURCE = String.raw`(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:\d{2})?`;
/** A datetime starting at `lastIndex`, for the filter tokenizer. */
export const DATETIME_AT = new RegExp(DATETIME_SOURCE, 'y');
const DATETIME_WHOLE = new RegExp(`^${DATETIME_SOURCE}$`);

/** Milliseconds since the epoch, then the 100 ns ticks below them: Defender writes 7 fractional digits. */
export type Instant = readonly [epochMs: number, ticks: number];

/** Reads a whole datetime string as an instant; undefined when it is not one or names an impossible date. */
export function toInstant(text: string): Instant | undefined {
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

/** Orders two instants: -1, 0 or 1. */
export function compareInstants(a: Instant, b: Instant): number {
  return Math.sign(a[0] - b[0] || a[1] - b[1]);
}

/** Case-insensitive text order, as Defender compares strings in $filter and $orderby. */
export function compareText(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A property of an entity as sent on the wire; a missing one reads as null. */
export function valueOf(entity: object, property: string): unknown {
  return (entity as Record<string, unknown>)[property] ?? null;
}
