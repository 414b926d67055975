import type { AlertDto, MachineDto, UserDto } from '../defender/types.js';
import { createAlerts, riskScoreOf } from './data-alerts.js';
import type { HuntingTables } from './data-logons.js';
import { createHuntingTables } from './data-logons.js';
import { createDeviceGroups, createMachines } from './data-machines.js';
import { createOrganisation } from './data-org.js';
import { Random } from './data-random.js';
import { Clock } from './data-time.js';
import { assignLogons, createUsers, settleUserTimes, toUserDto, userId } from './data-users.js';

/** How many entities a generated tenant holds. */
export interface TenantSizes {
  machines: number;
  users: number;
  alerts: number;
}

export const DEFAULT_TENANT_SIZES: TenantSizes = Object.freeze({ machines: 1000, users: 300, alerts: 5000 });

/** A device group as machines carry it (`rbacGroupId`, `rbacGroupName`); id 0 is "no group", name null. */
export interface DeviceGroup {
  id: number;
  name: string | null;
}

export interface TenantOptions {
  /** The same seed, sizes and `now` give the same tenant, byte for byte. Any safe integer. */
  seed: number;
  /** Entity counts; each a positive integer. Default `DEFAULT_TENANT_SIZES`. */
  sizes?: Partial<TenantSizes>;
  /** The tenant's present: every date lies before it, alerts within 90 days. Default 2026-11-01T00:00:00Z. */
  now?: Date;
}

/** A generated Defender tenant and indexed lookups over it; lookups of unknown keys give undefined or []. */
export interface Tenant {
  readonly seed: number;
  readonly now: Date;
  /** GUID, equal to every alert's `aadTenantId`. */
  readonly tenantId: string;
  readonly deviceGroups: readonly DeviceGroup[];
  readonly machines: readonly MachineDto[];
  readonly users: readonly UserDto[];
  /** Alerts in creation order, evidence populated. */
  readonly alerts: readonly AlertDto[];
  /** By exact 40-hex id. */
  machineById(id: string): MachineDto | undefined;
  /** By `computerDnsName`, ignoring case. */
  machineByDnsName(name: string): MachineDto | undefined;
  alertById(id: string): AlertDto | undefined;
  /** By `domain\name`, ignoring case. */
  userById(id: string): UserDto | undefined;
  /** Every user with this account name, in any domain, ignoring case. */
  usersByAccountName(name: string): readonly UserDto[];
  /** Users who logged on to the machine, most prevalent first. */
  logonUsers(machineId: string): readonly UserDto[];
  /** Machines the user logged on to: exactly those whose `logonUsers` include the user. */
  machinesOfUser(user: UserDto): readonly MachineDto[];
  alertsOfMachine(machineId: string): readonly AlertDto[];
  /** Alerts whose `relatedUser` is this user. */
  alertsOfUser(user: UserDto): readonly AlertDto[];
  /**
   * Adds an alert created after generation (`alert-changes.ts`) to the alerts and every lookup. The one change
   * to the tenant's shape: alerts' own fields change in place. Its creation time must not precede any
   * other alert's, which keeps `alerts` in creation order.
   */
  addAlert(alert: AlertDto): void;
  /**
   * Advanced hunting's `DeviceLogonEvents` and `DeviceInfo`, built on first use from the same logon facts as
   * `logonUsers` and `machinesOfUser` (`docs/defender-api.md` §8.2).
   */
  huntingTables(): HuntingTables;
}

const DEFAULT_NOW = '2026-11-01T00:00:00Z';
const NONE: readonly never[] = Object.freeze([]);

/**
 * Generates a realistic, internally consistent tenant from a seed: machines in device groups, users who
 * logged on to them (domain and local accounts), and alerts on those machines naming those users.
 * Deterministic: no clock, no `Math.random`.
 */
export function generateTenant(options: TenantOptions): Tenant {
  const { seed } = options;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${String(seed)}`);
  const sizes = validSizes(options.sizes);
  const now = new Date(options.now ?? DEFAULT_NOW);
  if (Number.isNaN(now.getTime())) throw new Error('now must be a valid Date');

  const rng = new Random(seed);
  const clock = new Clock(now.getTime());
  const org = createOrganisation(rng);
  const tenantId = rng.guid();
  const deviceGroups = createDeviceGroups(rng);
  const machineDrafts = createMachines(sizes.machines, rng, clock, org, deviceGroups);
  const userDrafts = createUsers(sizes.users, rng, org, machineDrafts);
  assignLogons(rng, userDrafts, machineDrafts);
  settleUserTimes(rng, userDrafts);
  const alertDrafts = createAlerts(sizes.alerts, rng, clock, org, tenantId, machineDrafts);

  const machines = machineDrafts.map((m) => m.dto);
  const alerts = alertDrafts.map((a) => a.dto);
  const byMachine = groupBy(alerts, (a) => a.machineId);
  for (const machine of machines) machine.riskScore = riskScoreOf(byMachine.get(machine.id) ?? NONE);
  // A user was seen at least as early and as late as the alerts naming them.
  for (const alert of alertDrafts) {
    if (!alert.user) continue;
    alert.user.firstSeen = Math.min(alert.user.firstSeen, alert.firstEvent);
    alert.user.lastSeen = Math.max(alert.user.lastSeen, alert.lastEvent);
  }
  const userDtos = new Map(userDrafts.map((u) => [u, toUserDto(u, clock)]));
  const users = [...userDtos.values()];

  const machineById = new Map(machines.map((m) => [m.id, m]));
  const machineByDns = new Map<string, MachineDto>();
  for (const m of machines) if (m.computerDnsName) machineByDns.set(m.computerDnsName.toLowerCase(), m);
  const alertById = new Map(alerts.map((a) => [a.id, a]));
  const userById = new Map(users.map((u) => [u.id.toLowerCase(), u]));
  const usersByName = groupBy(users, (u) => u.accountName.toLowerCase());
  const logonUsers = new Map(machineDrafts.map((m) => [m.dto.id, m.users.map((u) => userDtos.get(u)!)]));
  const machinesOfUser = new Map(
    userDrafts.map((u) => [userId(u).toLowerCase(), u.machines.map((m) => m.dto)]),
  );
  let hunting: HuntingTables | undefined;
  const alertsOfUser = groupBy(
    alerts.filter((a) => a.relatedUser),
    (a) => `${a.relatedUser!.domainName}\\${a.relatedUser!.userName}`.toLowerCase(),
  );

  return {
    seed,
    now,
    tenantId,
    deviceGroups,
    machines,
    users,
    alerts,
    machineById: (id) => machineById.get(id),
    machineByDnsName: (name) => machineByDns.get(name.toLowerCase()),
    alertById: (id) => alertById.get(id),
    userById: (id) => userById.get(id.toLowerCase()),
    usersByAccountName: (name) => usersByName.get(name.toLowerCase()) ?? NONE,
    logonUsers: (machineId) => logonUsers.get(machineId) ?? NONE,
    machinesOfUser: (user) => machinesOfUser.get(user.id.toLowerCase()) ?? NONE,
    alertsOfMachine: (machineId) => byMachine.get(machineId) ?? NONE,
    alertsOfUser: (user) => alertsOfUser.get(user.id.toLowerCase()) ?? NONE,
    addAlert: (alert) => {
      if (alertById.has(alert.id)) throw new Error(`alert ${alert.id} already exists`);
      alerts.push(alert);
      alertById.set(alert.id, alert);
      addTo(byMachine, alert.machineId, alert);
      const user = alert.relatedUser;
      if (user) addTo(alertsOfUser, `${user.domainName}\\${user.userName}`.toLowerCase(), alert);
    },
    huntingTables: () => (hunting ??= createHuntingTables(seed, now.getTime(), userDrafts, machineDrafts)),
  };
}

function validSizes(sizes: Partial<TenantSizes> = {}): TenantSizes {
  const valid = { ...DEFAULT_TENANT_SIZES };
  for (const key of ['machines', 'users', 'alerts'] as const) {
    const value = sizes[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new Error(`tenant size "${key}" must be a positive integer, got ${String(value)}`);
    }
    valid[key] = value;
  }
  return valid;
}

function addTo<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) addTo(groups, keyOf(item), item);
  return groups;
}
