import type { AlertFilter } from '../generated/resolvers.js';
import type { AlertDto } from '../defender/types.js';
import { parseAlertId } from '../defender/ids.js';
import { alertFilter } from '../graphql/filters.js';

/** Whether one alert passes a subscriber's filter. */
export type AlertMatcher = (alert: AlertDto) => boolean;

/**
 * `AlertFilter` evaluated in the gateway, with the semantics `Query.alerts(filter:)` gets from Defender's
 * `$filter` (filters.ts builds that one): every clause must hold; a list is any of its values; strings compare
 * case-insensitively, as Defender's OData does; a property the alert lacks (null) passes no clause; date-times
 * compare as instants to the 100 ns tick, `…After` inclusive and `…Before` exclusive. The filter is first built
 * as OData, so a value the query would refuse (a malformed id, a date-time that does not exist, too many values)
 * is refused here too, with the same BAD_USER_INPUT, before anyone subscribes.
 */
export function alertMatcher(filter: AlertFilter | null | undefined): AlertMatcher {
  alertFilter(filter);
  if (!filter) return () => true;
  const clauses: AlertMatcher[] = [];
  const anyOf = (pick: (alert: AlertDto) => unknown, values: readonly string[] | null | undefined) => {
    if (!values) return;
    const wanted = new Set(values.map((v) => v.toLowerCase()));
    clauses.push((alert) => {
      const actual = pick(alert);
      return typeof actual === 'string' && wanted.has(actual.toLowerCase());
    });
  };
  const equals = (pick: (alert: AlertDto) => unknown, value: string | number | null | undefined) => {
    if (value == null) return;
    const wanted = typeof value === 'string' ? value.toLowerCase() : value;
    clauses.push((alert) => {
      const actual = pick(alert);
      return (typeof actual === 'string' ? actual.toLowerCase() : actual) === wanted;
    });
  };
  const range = (
    pick: (alert: AlertDto) => string | null | undefined,
    after: string | null | undefined,
    before: string | null | undefined,
  ) => {
    if (after != null) {
      const bound = instantOf(after)!;
      clauses.push((alert) => compareTo(pick(alert), bound) >= 0);
    }
    if (before != null) {
      const bound = instantOf(before)!;
      clauses.push((alert) => compareTo(pick(alert), bound) < 0);
    }
  };
  anyOf((a) => a.id, filter.ids?.map(parseAlertId));
  anyOf((a) => a.status, filter.status);
  anyOf((a) => a.severity, filter.severity);
  anyOf((a) => a.category, filter.category);
  anyOf((a) => a.detectionSource, filter.detectionSource);
  equals((a) => a.assignedTo, filter.assignedTo);
  equals((a) => a.incidentId, filter.incidentId);
  equals((a) => a.investigationId, filter.investigationId);
  range((a) => a.alertCreationTime, filter.createdAfter, filter.createdBefore);
  range((a) => a.lastUpdateTime, filter.lastUpdatedAfter, filter.lastUpdatedBefore);
  range((a) => a.lastEventTime, filter.lastEventAfter, filter.lastEventBefore);
  return (alert) => clauses.every((clause) => clause(alert));
}

/** Milliseconds since the epoch, then the 100 ns ticks below them: Defender writes 7 fractional digits. */
export type Instant = readonly [epochMs: number, ticks: number];

const FRACTION = /\.(\d{1,7})/;

/** An ISO-8601 date-time as an instant to the tick; undefined when it is not one. */
export function instantOf(text: string): Instant | undefined {
  const digits = (FRACTION.exec(text)?.[1] ?? '').padEnd(7, '0');
  const ms = Date.parse(text.replace(FRACTION, `.${digits.slice(0, 3)}`));
  return Number.isNaN(ms) ? undefined : [ms, Number(digits.slice(3))];
}

/** Orders two instants (-1, 0, 1). */
export function compareInstants(a: Instant, b: Instant): number {
  return Math.sign(a[0] - b[0] || a[1] - b[1]);
}

/** An alert's date-time against a bound; NaN (which passes no comparison) when the alert has none. */
function compareTo(actual: string | null | undefined, bound: Instant): number {
  const instant = actual == null ? undefined : instantOf(actual);
  return instant ? compareInstants(instant, bound) : Number.NaN;
}
