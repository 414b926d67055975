import type { UserDto } from '../defender/types.js';
import type { MachineDraft, OsFamily } from './data-machines.js';
import { MAX_LOGON_USERS } from './data-machines.js';
import type { Organisation } from './data-org.js';
import { FIRST_NAMES, LAST_NAMES } from './data-org.js';
import type { Random, Weighted } from './data-random.js';
import type { Clock, Ticks } from './data-time.js';
import { DAY, MINUTE } from './data-time.js';

/** `builtin` is a domain's own `administrator` (RID 500); `local` accounts live on one machine only. */
export type UserKind = 'person' | 'admin' | 'service' | 'builtin' | 'local';

/** A user while the tenant is being built; its times widen to cover its alerts before the DTO is made. */
export interface UserDraft {
  readonly accountName: string;
  /** NetBIOS domain, or the host name of the machine a local account lives on. */
  readonly accountDomain: string;
  readonly kind: UserKind;
  readonly sid: string | null;
  readonly aadUserId: string | null;
  readonly upn: string | null;
  readonly logonTypes: string;
  /** The AD domain's index in `Organisation.domains`; null for local accounts. */
  readonly domainIndex: number | null;
  /** The one machine a local account exists on. */
  readonly home: MachineDraft | null;
  /** Machines the user logged on to, most prevalent first. */
  readonly machines: MachineDraft[];
  firstSeen: Ticks;
  lastSeen: Ticks;
}

// prettier-ignore
const SERVICES = [
  'sql', 'sqlagent', 'backup', 'sccm', 'scan', 'iis', 'sharepoint', 'adconnect', 'veeam', 'splunk', 'mdi',
  'exchange', 'jenkins', 'tableau', 'ssrs', 'print', 'nessus', 'azuread', 'crm', 'sap',
];

const LOGON_TYPES: Record<Exclude<UserKind, 'local'>, Weighted<string>> = {
  person: [
    ['Interactive', 65],
    ['Interactive, RemoteInteractive', 12],
    ['Network', 8],
    ['RemoteInteractive', 8],
    ['Interactive, Network', 7],
  ],
  admin: [
    ['Network, RemoteInteractive', 50],
    ['RemoteInteractive', 20],
    ['Interactive, Network, RemoteInteractive', 15],
    ['Network', 15],
  ],
  builtin: [
    ['Network, RemoteInteractive', 50],
    ['Interactive', 25],
    ['Network', 25],
  ],
  service: [
    ['Network', 85],
    ['Interactive', 15],
  ],
};

interface UserContext {
  readonly rng: Random;
  readonly org: Organisation;
  /** Lower-cased `domain\name` of every user so far: ids must be unique ignoring case. */
  readonly ids: Set<string>;
  /** Next relative id per domain; accounts get increasing RIDs, with gaps for deleted ones. */
  readonly rids: number[];
}

/**
 * A quarter of the users are local accounts on onboarded, named machines (at most two per machine);
 * the rest are domain accounts: each domain's `administrator`, about 6% admins, 8% service accounts, and people.
 */
export function createUsers(
  count: number,
  rng: Random,
  org: Organisation,
  machines: readonly MachineDraft[],
): UserDraft[] {
  const ctx: UserContext = { rng, org, ids: new Set(), rids: org.domains.map(() => rng.int(1103, 1190)) };
  const hosts = machines.filter((m) => m.onboarded && m.host !== null);
  const localCount = Math.min(Math.round(count * 0.25), hosts.length * 2);
  const domainCount = count - localCount;
  const builtins = domainCount >= 20 ? org.domains.length : 1;
  const admins = builtins + Math.round(domainCount * 0.06);
  const services = admins + Math.round(domainCount * 0.08);
  const users: UserDraft[] = [];
  for (let i = 0; i < domainCount; i++) {
    if (i < builtins) users.push(domainUser(ctx, 'builtin', i));
    else if (i < admins) users.push(domainUser(ctx, 'admin', primaryOrRegional(rng)));
    else if (i < services) users.push(domainUser(ctx, 'service', 0));
    else users.push(domainUser(ctx, 'person', primaryOrRegional(rng)));
  }
  const localsOn = new Map<MachineDraft, number>();
  for (let i = 0; i < localCount; i++) {
    users.push(localUser(ctx, hosts, localsOn) ?? domainUser(ctx, 'person', primaryOrRegional(rng)));
  }
  return users;
}

function primaryOrRegional(rng: Random): number {
  return rng.chance(0.8) ? 0 : 1;
}

function domainUser(ctx: UserContext, kind: Exclude<UserKind, 'local'>, domainIndex: number): UserDraft {
  const { rng, org } = ctx;
  const domain = org.domains[domainIndex]!;
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const base =
    kind === 'builtin'
      ? 'administrator'
      : kind === 'service'
        ? `svc-${rng.pick(SERVICES)}`
        : `${kind === 'admin' ? 'adm-' : ''}${org.accountName(first, last)}`;
  let accountName = base;
  for (let n = 2; ctx.ids.has(`${domain.netbios}\\${accountName}`); n++) {
    accountName = kind === 'service' ? `${base}${String(n).padStart(2, '0')}` : `${base}${n}`;
  }
  ctx.ids.add(`${domain.netbios}\\${accountName}`);
  let rid = 500;
  if (kind !== 'builtin') {
    rid = ctx.rids[domainIndex]!;
    ctx.rids[domainIndex] = rid + rng.int(1, 40);
  }
  const cloud = kind === 'person' || kind === 'admin';
  return {
    accountName,
    accountDomain: domain.netbios,
    kind,
    sid: `${domain.sid}-${rid}`,
    aadUserId: cloud && rng.chance(0.85) ? rng.guid() : null,
    upn: cloud ? `${accountName}@${org.upnSuffix}` : null,
    logonTypes: rng.weighted(LOGON_TYPES[kind]),
    domainIndex,
    home: null,
    machines: [],
    firstSeen: 0,
    lastSeen: 0,
  };
}

/** A local account, e.g. `desktop-8k2j4lq\administrator` or `se-pov-desktop\chris phillips`; null if none fits. */
function localUser(
  ctx: UserContext,
  hosts: readonly MachineDraft[],
  localsOn: Map<MachineDraft, number>,
): UserDraft | null {
  const { rng } = ctx;
  for (let attempt = 0; attempt < 50; attempt++) {
    const home = rng.pick(hosts);
    const accountName = localAccountName(rng, home.family, home.azure);
    const id = `${home.host}\\${accountName}`;
    if ((localsOn.get(home) ?? 0) >= 2 || ctx.ids.has(id)) continue;
    ctx.ids.add(id);
    localsOn.set(home, (localsOn.get(home) ?? 0) + 1);
    return {
      accountName,
      accountDomain: home.host!,
      kind: 'local',
      sid: null,
      aadUserId: null,
      upn: null,
      logonTypes: rng.weighted<string>([
        ['Interactive', 50],
        ['RemoteInteractive', 30],
        ['Network', 20],
      ]),
      domainIndex: null,
      home,
      machines: [],
      firstSeen: 0,
      lastSeen: 0,
    };
  }
  return null;
}

function localAccountName(rng: Random, family: OsFamily, azure: boolean): string {
  const person = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
  if (family === 'linux') {
    return rng.weighted<string>([
      ['root', 45],
      ['azureuser', azure ? 30 : 0],
      ['ubuntu', 15],
      ['deploy', 10],
      [person.split(' ')[0]!, 10],
    ]);
  }
  if (family === 'macos') {
    return rng.weighted<string>([
      [person.split(' ')[0]!, 60],
      ['admin', 25],
      ['itadmin', 15],
    ]);
  }
  return rng.weighted<string>([
    ['administrator', 40],
    [person, 30],
    ['azureadmin', azure ? 25 : 0],
    ['localadmin', 10],
    ['admin', 8],
    ['support', 5],
    ['defaultuser0', 4],
  ]);
}

/**
 * Links users and machines both ways. Local accounts log on at home only; people mostly on one workstation
 * of their own domain; admins and service accounts across servers; then helpdesk and service accounts
 * cover most machines nobody else logged on to, as management tools do.
 */
export function assignLogons(
  rng: Random,
  users: readonly UserDraft[],
  machines: readonly MachineDraft[],
): void {
  const onboarded = machines.filter((m) => m.onboarded);
  const workstations = onboarded.filter((m) => m.role === 'workstation');
  const servers = onboarded.filter((m) => m.role !== 'workstation');
  const operators = users.filter((u) => u.kind === 'admin' || u.kind === 'builtin' || u.kind === 'service');
  for (const user of users) {
    if (user.home) logon(user, user.home);
  }
  for (const user of users) {
    if (user.kind === 'person') {
      const own = workstations.filter((m) => m.domainIndex === user.domainIndex || m.domainIndex === null);
      logonSomewhere(rng, user, own.length > 0 ? own : workstations, 3);
      if (rng.chance(0.25)) logonSomewhere(rng, user, rng.chance(0.7) ? workstations : servers);
      if (rng.chance(0.08)) logonSomewhere(rng, user, servers);
    } else if (user.kind === 'service') {
      for (let n = rng.int(1, 4); n > 0; n--) logonSomewhere(rng, user, servers);
    } else if (user.kind !== 'local') {
      for (let n = rng.int(3, 15); n > 0; n--)
        logonSomewhere(rng, user, rng.chance(0.7) ? servers : workstations);
    }
  }
  if (operators.length > 0) {
    for (const machine of onboarded) {
      if (machine.users.length === 0 && rng.chance(0.8)) logon(rng.pick(operators), machine);
    }
  }
}

function logon(user: UserDraft, machine: MachineDraft): boolean {
  if (!machine.onboarded || machine.users.length >= MAX_LOGON_USERS || machine.users.includes(user))
    return false;
  machine.users.push(user);
  user.machines.push(machine);
  return true;
}

/** Logs the user on to a random machine of `pool` with fewer than `crowd` users, if one turns up quickly. */
function logonSomewhere(
  rng: Random,
  user: UserDraft,
  pool: readonly MachineDraft[],
  crowd = MAX_LOGON_USERS,
): void {
  if (pool.length === 0) return;
  for (let attempt = 0; attempt < 12; attempt++) {
    const machine = rng.pick(pool);
    if (machine.users.length < crowd && logon(user, machine)) return;
  }
}

/**
 * First and last sightings: never before the user's first machine appeared; most users active lately. A user
 * who logged on to machines did so within the last 30 days (`docs/defender-api.md` §8.2: both logon
 * relationships describe the last 30 days), so their logon events fit advanced hunting's window.
 */
export function settleUserTimes(rng: Random, users: readonly UserDraft[]): void {
  for (const user of users) {
    let floor = user.machines.length === 0 ? -900 * DAY : 0;
    for (const machine of user.machines) floor = Math.min(floor, machine.firstSeen);
    user.firstSeen = Math.max(floor, -rng.int(30 * DAY, 900 * DAY));
    // Both ranges draw the same amount of randomness, so the rest of the tenant stays as it was.
    const idle = user.machines.length > 0 ? 29 * DAY : 120 * DAY;
    const ago = rng.chance(0.9) ? rng.int(10 * MINUTE, 3 * DAY) : rng.int(10 * DAY, idle);
    user.lastSeen = Math.max(user.firstSeen, -ago);
  }
}

export function userId(user: Pick<UserDraft, 'accountDomain' | 'accountName'>): string {
  return `${user.accountDomain}\\${user.accountName}`;
}

export function toUserDto(user: UserDraft, clock: Clock): UserDto {
  const most = user.machines[0];
  const least = user.machines[user.machines.length - 1];
  return {
    id: userId(user),
    accountName: user.accountName,
    accountDomain: user.accountDomain,
    accountSid: user.sid,
    firstSeen: clock.secondsTime(user.firstSeen),
    lastSeen: clock.secondsTime(user.lastSeen),
    mostPrevalentMachineId: most?.dto.id ?? null,
    leastPrevalentMachineId: least?.dto.id ?? null,
    logonTypes: user.logonTypes,
    logOnMachinesCount: user.machines.length,
    isDomainAdmin: user.kind === 'admin' || user.kind === 'builtin',
    isOnlyNetworkUser: user.machines.length === 0 ? null : user.logonTypes === 'Network',
  };
}
