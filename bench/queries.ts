import type { AlertDto, MachineDto, UserDto } from '../src/defender/types.js';
import type { Tenant } from '../src/simulator/data.js';
import type { CallCount } from './lower-bound.js';
import { CallPlan } from './lower-bound.js';

/** One benchmark operation: a realistic dashboard query and its lower bound, both from the tenant. */
export interface BenchQuery {
  /** Short name, used in tables and charts. */
  readonly name: string;
  /** What a dashboard would use it for. */
  readonly purpose: string;
  readonly query: string;
  /** The fewest calls it needs against this tenant (see {@link CallPlan}). */
  readonly lowerBound: CallCount;
}

/**
 * The fixed query set. Ids are picked from the tenant by fixed rules (the tenant is the same for the same
 * seed), and each lower bound is written out explicitly, field by field, from the tenant's data.
 */
export function benchQueries(t: Tenant): BenchQuery[] {
  return [
    alertQueue(t),
    healthyMachines(t),
    machineDetail(t),
    alertsById(t),
    userProfile(t),
    alertIds(t),
    highAlertMachines(t),
  ];
}

/** An alert queue with each alert's device and user, the user's devices and who else logs on to them. */
function alertQueue(t: Tenant): BenchQuery {
  const page = t.alerts.slice(0, 20);
  const plan = new CallPlan().call('alerts', 'first 20');
  for (const alert of page) {
    // machine { computerDnsName }: the alert's own `computerDnsName`, no call.
    // user: null without a relatedUser; its accountName is the relatedUser's userName, no call.
    if (!alert.relatedUser) continue;
    const name = alert.relatedUser.userName;
    plan.call('users/{id}/machines', name.toLowerCase());
    for (const machine of machinesOfAccount(t, name)) {
      plan.seen('machine', machine.id); // computerDnsName comes with the list
      plan.call('machines/{id}/logonusers', machine.id);
    }
  }
  return {
    name: 'alert-queue',
    purpose: 'alert queue: device, user, user devices, their logon users',
    query: `{ alerts(first: 20) { nodes { id title severity machine { computerDnsName } user { accountName machines { computerDnsName logonUsers { id } } } } } }`,
    lowerBound: plan.count(),
  };
}

/** A device health board: active machines with who logs on and their alerts. */
function healthyMachines(t: Tenant): BenchQuery {
  const page = t.machines.filter((m) => m.healthStatus === 'Active').slice(0, 25);
  const plan = new CallPlan().call('machines', 'first 25 healthStatus Active');
  for (const machine of page) {
    plan.call('machines/{id}/logonusers', machine.id);
    plan.call('machines/{id}/alerts', machine.id);
  }
  return {
    name: 'active-machines',
    purpose: 'device board: active machines, logon users, alerts',
    query: `{ machines(first: 25, filter: { healthStatus: [ACTIVE] }) { nodes { id computerDnsName logonUsers { id } alerts { id severity } } } }`,
    lowerBound: plan.count(),
  };
}

/** One device's page: its logon users and their other devices, its alerts and their users. */
function machineDetail(t: Tenant): BenchQuery {
  const machine = pickMachine(t);
  const plan = new CallPlan();
  plan.call('machines/{id}', machine.id); // the machine itself: null on 404 must be known
  plan.call('machines/{id}/logonusers', machine.id);
  for (const user of t.logonUsers(machine.id))
    plan.call('users/{id}/machines', user.accountName.toLowerCase());
  plan.call('machines/{id}/alerts', machine.id);
  for (const alert of t.alertsOfMachine(machine.id)) {
    // user { id }: null without a relatedUser, else `domain\name` from it; only a domainless one needs its record.
    if (alert.relatedUser && alert.relatedUser.domainName === null) plan.call('alerts/{id}/user', alert.id);
  }
  return {
    name: 'machine-detail',
    purpose: 'device page: logon users and their devices, alerts and their users',
    query: `{ machine(id: ${JSON.stringify(machine.id)}) { logonUsers { id machines { id } } alerts { id user { id } } } }`,
    lowerBound: plan.count(),
  };
}

/** Five alerts opened from links, with their devices' platforms: batched lookups. */
function alertsById(t: Tenant): BenchQuery {
  const alerts = pickAlertsOnDistinctMachines(t, 5);
  const plan = new CallPlan();
  for (const alert of alerts) {
    plan.lookup('alert', alert.id);
    plan.lookup('machine', alert.machineId); // osPlatform is not in the alert
  }
  const fields = alerts
    .map((a, i) => `a${i + 1}: alert(id: ${JSON.stringify(a.id)}) { id title machine { osPlatform } }`)
    .join(' ');
  return {
    name: 'five-alerts',
    purpose: 'five alert(id:) aliases with machine { osPlatform } (batched lookups)',
    query: `{ ${fields} }`,
    lowerBound: plan.count(),
  };
}

/** One account's page: its devices, its alerts and their devices' ids. */
function userProfile(t: Tenant): BenchQuery {
  const user = pickUser(t);
  const plan = new CallPlan();
  // Query.user: no Defender route; the User is known by the name given.
  plan.call('users/{id}/machines', user.accountName.toLowerCase());
  plan.call('users/{id}/alerts', user.accountName.toLowerCase());
  // alerts { machine { id } }: the alert's machineId, no call.
  return {
    name: 'user-profile',
    purpose: 'user page: devices, alerts and their device ids',
    query: `{ user(id: ${JSON.stringify(user.id)}) { machines { id } alerts { id machine { id } } } }`,
    lowerBound: plan.count(),
  };
}

/** An alert list with device ids and names: all of it is in the alerts page. */
function alertIds(t: Tenant): BenchQuery {
  void t;
  return {
    name: 'alerts-with-machine-ids',
    purpose: 'alert list with machine { id computerDnsName } (already in the page)',
    query: `{ alerts(first: 50) { nodes { id machine { id computerDnsName } } } }`,
    lowerBound: new CallPlan().call('alerts', 'first 50').count(),
  };
}

/** High-severity alerts with their devices' health: over 50 distinct machines, so several batched chunks. */
function highAlertMachines(t: Tenant): BenchQuery {
  const page = t.alerts.filter((a) => a.severity === 'High').slice(0, 120);
  const plan = new CallPlan().call('alerts', 'first 120 severity High');
  for (const alert of page) plan.lookup('machine', alert.machineId); // osPlatform, healthStatus
  return {
    name: 'high-alert-machines',
    purpose: '120 high alerts with machine { osPlatform healthStatus } (chunked lookups)',
    query: `{ alerts(first: 120, filter: { severity: [HIGH] }) { nodes { id severity machine { osPlatform healthStatus } } } }`,
    lowerBound: plan.count(),
  };
}

/** What `users/{name}/machines` answers: the machines of every account of that name, in any domain. */
function machinesOfAccount(t: Tenant, accountName: string): MachineDto[] {
  return [...new Set(t.usersByAccountName(accountName).flatMap((u) => t.machinesOfUser(u)))];
}

/** The first machine with at least 3 logon users and 4 alerts: a busy but ordinary device. */
function pickMachine(t: Tenant): MachineDto {
  const machine = t.machines.find(
    (m) => t.logonUsers(m.id).length >= 3 && t.alertsOfMachine(m.id).length >= 4,
  );
  if (!machine) throw new Error('bench: no machine with 3 logon users and 4 alerts in the tenant');
  return machine;
}

/** Alerts spread over the tenant, each on a different machine, so the machine lookups batch. */
function pickAlertsOnDistinctMachines(t: Tenant, n: number): AlertDto[] {
  const picked: AlertDto[] = [];
  const machines = new Set<string>();
  const step = Math.floor(t.alerts.length / n);
  for (let k = 0; k < n; k++) {
    const alert = t.alerts.slice(k * step).find((a) => !machines.has(a.machineId));
    if (!alert) break;
    machines.add(alert.machineId);
    picked.push(alert);
  }
  return picked;
}

/** The first account with at least 3 machines and 5 to 20 alerts: an active, ordinary user. */
function pickUser(t: Tenant): UserDto {
  const user = t.users.find((u) => {
    const alerts = t.alertsOfUser(u).length;
    return t.machinesOfUser(u).length >= 3 && alerts >= 5 && alerts <= 20;
  });
  if (!user) throw new Error('bench: no user with 3 machines and 5 to 20 alerts in the tenant');
  return user;
}
