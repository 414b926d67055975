import type { AlertFilter, MachineFilter } from '../generated/resolvers.js';
import type { AlertProperty, Clause, MachineProperty } from '../defender/odata.js';
import { and, anyEquals, compareDateTime, eq, isIn, startsWith } from '../defender/odata.js';
import { parseAlertId, parseGuid, parseMachineId } from '../defender/ids.js';

/**
 * `MachineFilter` → Defender `$filter` on documented properties only, every literal escaped. Every id is checked
 * like a root argument's (ids.ts), so a filter that could only find nothing costs no call.
 */
export function machineFilter(filter: MachineFilter | null | undefined): string | undefined {
  if (!filter) return undefined;
  const clauses: Clause[] = [];
  const list = (property: MachineProperty, values: readonly (string | number)[] | null | undefined) => {
    if (values) clauses.push(isIn(property, values));
  };
  list('id', filter.ids?.map(parseMachineId));
  if (filter.computerDnsName != null) clauses.push(eq('computerDnsName', filter.computerDnsName));
  if (filter.computerDnsNameStartsWith != null)
    clauses.push(startsWith('computerDnsName', filter.computerDnsNameStartsWith));
  list('healthStatus', filter.healthStatus);
  list('riskScore', filter.riskScore);
  list('exposureLevel', filter.exposureLevel);
  list('onboardingStatus', filter.onboardingStatus);
  list('deviceValue', filter.deviceValue);
  list('osPlatform', filter.osPlatform);
  list('version', filter.version);
  list('rbacGroupId', filter.rbacGroupId);
  if (filter.lastIpAddress != null) clauses.push(eq('lastIpAddress', filter.lastIpAddress));
  if (filter.aadDeviceId != null)
    clauses.push(eq('aadDeviceId', parseGuid(filter.aadDeviceId, 'a Microsoft Entra device id')));
  if (filter.machineTag != null) clauses.push(anyEquals('machineTags', filter.machineTag));
  if (filter.lastSeenAfter != null) clauses.push(compareDateTime('lastSeen', 'ge', filter.lastSeenAfter));
  if (filter.lastSeenBefore != null) clauses.push(compareDateTime('lastSeen', 'lt', filter.lastSeenBefore));
  return and(clauses);
}

/** `AlertFilter` → Defender `$filter` on documented properties only, every literal escaped, every id checked. */
export function alertFilter(filter: AlertFilter | null | undefined): string | undefined {
  if (!filter) return undefined;
  const clauses: Clause[] = [];
  const list = (property: AlertProperty, values: readonly (string | number)[] | null | undefined) => {
    if (values) clauses.push(isIn(property, values));
  };
  const range = (
    property: AlertProperty,
    after: string | null | undefined,
    before: string | null | undefined,
  ) => {
    if (after != null) clauses.push(compareDateTime(property, 'ge', after));
    if (before != null) clauses.push(compareDateTime(property, 'lt', before));
  };
  list('id', filter.ids?.map(parseAlertId));
  list('status', filter.status);
  list('severity', filter.severity);
  list('category', filter.category);
  list('detectionSource', filter.detectionSource);
  if (filter.assignedTo != null) clauses.push(eq('assignedTo', filter.assignedTo));
  if (filter.incidentId != null) clauses.push(eq('incidentId', filter.incidentId));
  if (filter.investigationId != null) clauses.push(eq('investigationId', filter.investigationId));
  range('alertCreationTime', filter.createdAfter, filter.createdBefore);
  range('lastUpdateTime', filter.lastUpdatedAfter, filter.lastUpdatedBefore);
  range('lastEventTime', filter.lastEventAfter, filter.lastEventBefore);
  return and(clauses);
}
