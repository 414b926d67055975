/**
 * Times in the generated tenant are .NET ticks (100 ns) relative to the tenant's `now`, negative in the past.
 * A double holds them exactly for ±28 years, they compare like the instants they stand for, and they carry
 * the 7 fractional digits Defender prints and encodes in alert ids.
 */
export type Ticks = number;

export const TICKS_PER_MS = 10_000;
export const SECOND = 1_000 * TICKS_PER_MS;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** .NET ticks from 0001-01-01T00:00:00Z to the Unix epoch. */
const TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000n;

/** Turns tenant-relative ticks into the strings and numbers Defender shows. */
export class Clock {
  constructor(private readonly nowMs: number) {}

  /** Alert and machine form: `2026-10-03T11:22:33.1234567Z`. */
  ticksTime(t: Ticks): string {
    const ms = Math.floor(t / TICKS_PER_MS);
    const fraction = (this.nowMs + ms) % 1000;
    const subMs = t - ms * TICKS_PER_MS;
    return `${isoSeconds(this.nowMs + ms)}.${pad(fraction < 0 ? fraction + 1000 : fraction, 3)}${pad(subMs, 4)}Z`;
  }

  /** User form: whole seconds, `2026-10-03T11:22:33Z`. */
  secondsTime(t: Ticks): string {
    return `${isoSeconds(this.nowMs + Math.floor(t / TICKS_PER_MS))}Z`;
  }

  /** The 18-digit .NET tick count inside an alert id. */
  dotNetTicks(t: Ticks): string {
    return (BigInt(this.nowMs) * BigInt(TICKS_PER_MS) + BigInt(t) + TICKS_AT_UNIX_EPOCH).toString();
  }
}

const MS_PER_DAY = 86_400_000;

/**
 * `YYYY-MM-DDTHH:mm:ss` in UTC without building a Date: a tenant formats tens of thousands of times, and
 * `toISOString` dominated generation. Civil-from-days is Howard Hinnant's algorithm.
 */
function isoSeconds(ms: number): string {
  const days = Math.floor(ms / MS_PER_DAY);
  const secondsOfDay = Math.floor((ms - days * MS_PER_DAY) / 1000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hh = Math.floor(secondsOfDay / 3600);
  const mm = Math.floor((secondsOfDay % 3600) / 60);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(secondsOfDay % 60, 2)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
