import { badUserInput } from '../errors.js';
import { isDateTime } from './date-time.js';

/**
 * Building Defender `$filter` expressions from caller input. Properties are a closed union of the documented
 * filterable ones, and every value goes through one literal function, so no input can add a clause,
 * close a parenthesis or reach a property Defender does not document as filterable.
 */

export type MachineProperty =
  | 'computerDnsName'
  | 'id'
  | 'version'
  | 'deviceValue'
  | 'aadDeviceId'
  | 'machineTags'
  | 'lastSeen'
  | 'exposureLevel'
  | 'onboardingStatus'
  | 'lastIpAddress'
  | 'healthStatus'
  | 'osPlatform'
  | 'riskScore'
  | 'rbacGroupId';

export type AlertProperty =
  | 'alertCreationTime'
  | 'lastUpdateTime'
  | 'lastEventTime'
  | 'incidentId'
  | 'investigationId'
  | 'id'
  | 'assignedTo'
  | 'detectionSource'
  | 'status'
  | 'severity'
  | 'category';

/** An OData expression built by this module, never by concatenating input. */
export type Clause = string & { readonly __clause: unique symbol };

/** Longest string literal accepted (keeps URLs far below any server's limit). */
const MAX_STRING = 256;
/** Most values in one `in (…)`. */
export const MAX_IN_VALUES = 100;

/** A single-quoted OData string literal; a quote inside is doubled, as OData requires. */
export function stringLiteral(value: string): string {
  if (value.length > MAX_STRING)
    throw badUserInput(`A filter value is longer than ${MAX_STRING} characters.`);
  if (/\p{Cc}/u.test(value) || !value.isWellFormed()) {
    throw badUserInput('A filter value contains a control character or a lone surrogate.');
  }
  return `'${value.replaceAll("'", "''")}'`;
}

function numberLiteral(value: number): string {
  if (!Number.isSafeInteger(value))
    throw badUserInput(`A filter number must be a whole number, got ${value}.`);
  return String(value);
}

/** Bare ISO-8601 date-time, as Defender's examples write them (`lastSeen gt 2026-01-01T00:00:00Z`). */
function dateTimeLiteral(value: string): string {
  if (!isDateTime(value)) {
    throw badUserInput(`"${value.slice(0, 40)}" is not an ISO-8601 date-time.`);
  }
  return value;
}

const literal = (value: string | number) =>
  typeof value === 'number' ? numberLiteral(value) : stringLiteral(value);

export function eq<P extends MachineProperty | AlertProperty>(property: P, value: string | number): Clause {
  return `${property} eq ${literal(value)}` as Clause;
}

/** `property in (…)`, or `eq` for one value. */
export function isIn<P extends MachineProperty | AlertProperty>(
  property: P,
  values: readonly (string | number)[],
): Clause {
  if (values.length === 0) throw badUserInput(`The filter on ${property} needs at least one value.`);
  if (values.length > MAX_IN_VALUES)
    throw badUserInput(`The filter on ${property} takes at most ${MAX_IN_VALUES} values.`);
  if (values.length === 1) return eq(property, values[0]!);
  return `${property} in (${values.map(literal).join(',')})` as Clause;
}

export function compareDateTime<P extends MachineProperty | AlertProperty>(
  property: P,
  op: 'ge' | 'lt',
  value: string,
): Clause {
  return `${property} ${op} ${dateTimeLiteral(value)}` as Clause;
}

export function startsWith<P extends MachineProperty | AlertProperty>(property: P, prefix: string): Clause {
  return `startswith(${property},${stringLiteral(prefix)})` as Clause;
}

export function anyEquals<P extends MachineProperty | AlertProperty>(collection: P, value: string): Clause {
  return `${collection}/any(t: t eq ${stringLiteral(value)})` as Clause;
}

/** All clauses together; undefined when there are none. */
export function and(clauses: readonly Clause[]): string | undefined {
  return clauses.length === 0 ? undefined : clauses.join(' and ');
}
