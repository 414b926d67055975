/**
 * The one rule for a date-time a caller may put into a Defender filter: ISO-8601 with seconds (up to 7
 * fractional digits, as Defender writes them) and `Z` or an offset, naming an instant that exists. The pattern
 * alone lets `2026-02-30` through, and so does `Date.parse`, which rolls it over to March 2; Defender answers
 * such a literal 400, so it would cost a call for nothing. Read by the `DateTime` scalar and by the OData
 * builder, so the two cannot drift.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,7})?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Whether `value` is such a date-time: a real calendar day, hour 00–23, minute and second 00–59, offset up to ±14:00. */
export function isDateTime(value: string): boolean {
  const match = DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  return (
    year! >= 1 && // .NET's DateTimeOffset, which Defender parses into, starts at year 1
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysIn(year!, month!) &&
    hour! <= 23 && // ISO's 24:00 and the leap second 60 are refused: .NET refuses them too
    minute! <= 59 &&
    second! <= 59 &&
    offsetMinutes <= 59 &&
    offsetHours * 60 + offsetMinutes <= 14 * 60
  );
}

/** Days in a month of the proleptic Gregorian calendar (`month` 1–12). */
function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
