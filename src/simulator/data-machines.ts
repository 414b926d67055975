import type {
  DeviceValue,
  ExposureLevel,
  HealthStatus,
  IpAddressDto,
  MachineDto,
  OnboardingStatus,
  VmMetadataDto,
} from '../defender/types.js';
import type { DeviceGroup } from './data.js';
import type { UserDraft } from './data-users.js';
import type { Organisation } from './data-org.js';
import { FIRST_NAMES, publicIp } from './data-org.js';
import type { OsFamily } from './data-os.js';
import { OS_PROFILES, agentVersion } from './data-os.js';
import type { Random, Weighted } from './data-random.js';
import type { Clock, Ticks } from './data-time.js';
import { DAY, HOUR, MINUTE } from './data-time.js';

export type { OsFamily } from './data-os.js';
export type MachineRole = 'workstation' | 'server' | 'domainController';
type Region = 'US' | 'EU' | 'APAC';

/** A machine while the tenant is being built, with what later steps need and the wire DTO does not carry. */
export interface MachineDraft {
  readonly dto: MachineDto;
  readonly family: OsFamily;
  readonly role: MachineRole;
  /** First label of the DNS name: the account domain of the machine's local accounts; null without a name. */
  readonly host: string | null;
  /** Index into `Organisation.domains` of the AD domain it is joined to, or null. */
  readonly domainIndex: number | null;
  readonly azure: boolean;
  /** Only onboarded machines report logons and raise alerts. */
  readonly onboarded: boolean;
  readonly firstSeen: Ticks;
  readonly lastSeen: Ticks;
  /** Users who logged on, in order of prevalence; at most `MAX_LOGON_USERS`. */
  readonly users: UserDraft[];
}

export const MAX_LOGON_USERS = 6;

const HEALTH: Weighted<HealthStatus> = [
  ['Active', 82],
  ['Inactive', 10],
  ['ImpairedCommunication', 3],
  ['NoSensorData', 2],
  ['NoSensorDataImpairedCommunication', 1],
  ['Unknown', 2],
];

/** How long ago a machine in each health state last sent a full report, in ticks. */
const LAST_SEEN_AGO: Record<HealthStatus, readonly [Ticks, Ticks]> = {
  Active: [5 * MINUTE, 26 * HOUR],
  Inactive: [8 * DAY, 150 * DAY],
  ImpairedCommunication: [26 * HOUR, 7 * DAY],
  NoSensorData: [1 * HOUR, 3 * DAY],
  NoSensorDataImpairedCommunication: [1 * DAY, 7 * DAY],
  Unknown: [1 * DAY, 60 * DAY],
};

const ONBOARDING: Weighted<OnboardingStatus> = [
  ['Onboarded', 94],
  ['CanBeOnboarded', 3],
  ['Unsupported', 2],
  ['InsufficientInfo', 1],
];

const EXPOSURE: Weighted<ExposureLevel | null> = [
  ['Low', 35],
  ['Medium', 45],
  ['High', 12],
  ['None', 5],
  [null, 3],
];

const AV_STATUS: Weighted<string> = [
  ['Updated', 86],
  ['NotUpdated', 8],
  ['Disabled', 2],
  ['Unknown', 4],
];

const SERVER_ROLES = [
  'sql',
  'web',
  'app',
  'file',
  'print',
  'exch',
  'rds',
  'sccm',
  'backup',
  'build',
  'ca',
  'adfs',
];
const LINUX_ROLES = ['web', 'app', 'db', 'k8s', 'jenkins', 'nginx', 'kafka', 'redis'];
const EXCLUSION_REASONS = ['Duplicate', 'InactiveDevice', 'NonRelevantDevice', 'OutOfScope', 'Other'];
// Vendor prefixes (Lenovo, Dell, Intel, HP, Apple) so MAC addresses look like real adapters.
const PHYSICAL_OUIS = ['8CEC4B', 'F8BC12', '3C6AA7', '9CB654', 'A4C361', 'D481D7'];
const VIRTUAL_OUIS = ['005056', '00155D'];
const AZURE_OUI = '000D3A';

/** Device groups named like a real tenant's, each with a rule deciding which machines fall into it. */
const REQUIRED_GROUPS = [
  'Workstations - US',
  'Workstations - EU',
  'Servers - Production',
  'Domain Controllers',
];
const OPTIONAL_GROUPS = [
  'Workstations - APAC',
  'Servers - Non-Production',
  'Linux Servers',
  'macOS Devices',
  'Executives',
  'Finance',
];

/** Group 0 ("no group", name null) first, then 6–8 named groups with ids such as 41, 42, 45 … */
export function createDeviceGroups(rng: Random): DeviceGroup[] {
  const names = [...REQUIRED_GROUPS, ...rng.sample(OPTIONAL_GROUPS, rng.int(2, 4))];
  const groups: DeviceGroup[] = [{ id: 0, name: null }];
  let id = rng.int(20, 150);
  for (const name of names) {
    groups.push({ id, name });
    id += rng.chance(0.3) ? rng.int(2, 5) : 1;
  }
  return groups;
}

interface MachineContext {
  readonly rng: Random;
  readonly clock: Clock;
  readonly org: Organisation;
  readonly groups: readonly DeviceGroup[];
  readonly ids: Set<string>;
  readonly hosts: Set<string>;
}

export function createMachines(
  count: number,
  rng: Random,
  clock: Clock,
  org: Organisation,
  groups: readonly DeviceGroup[],
): MachineDraft[] {
  const ctx: MachineContext = { rng, clock, org, groups, ids: new Set(), hosts: new Set() };
  const drafts: MachineDraft[] = [];
  for (let i = 0; i < count; i++) drafts.push(createMachine(ctx, drafts));
  return drafts;
}

function createMachine(ctx: MachineContext, earlier: readonly MachineDraft[]): MachineDraft {
  const { rng, org } = ctx;
  const os = rng.weighted(OS_PROFILES);
  const release = rng.weighted(os.releases);
  const family = os.family;
  const role: MachineRole =
    os.server && family === 'windows' && rng.chance(0.12)
      ? 'domainController'
      : os.server
        ? 'server'
        : 'workstation';
  const azure = role === 'server' && rng.chance(family === 'linux' ? 0.6 : 0.3);
  const domainIndex = joinedDomain(rng, family, role);
  const region: Region =
    domainIndex !== null ? org.domains[domainIndex]!.region : rng.chance(0.7) ? 'US' : 'EU';
  const host = rng.chance(0.01) ? null : uniqueHost(ctx, family, role);
  const onboardingStatus = rng.weighted(ONBOARDING);
  const onboarded = onboardingStatus === 'Onboarded';
  const healthStatus: HealthStatus = onboarded
    ? rng.weighted(HEALTH)
    : rng.chance(0.7)
      ? 'Unknown'
      : 'Inactive';
  const [minAgo, maxAgo] = LAST_SEEN_AGO[healthStatus];
  const lastSeen = -rng.int(minAgo, maxAgo);
  let firstSeen = -rng.int(10 * DAY, 3 * 365 * DAY);
  if (firstSeen > lastSeen) firstSeen = lastSeen - rng.int(1 * DAY, 60 * DAY);
  const tags = machineTags(rng, family, role, os.platform, azure);
  const group = deviceGroup(rng, ctx.groups, family, role, region, tags);
  const isAadJoined =
    family === 'windows' && role === 'workstation' && (domainIndex === null || rng.chance(0.7));
  const managedBy = managedByOf(rng, family, role, isAadJoined);
  const nic = ipAddresses(rng, family, role, azure, region, host);
  const merged = earlier.length > 0 && rng.chance(0.005) ? rng.pick(earlier).dto.id : null;
  const excluded = rng.chance(0.015);
  const x86 = os.platform === 'Windows10' && rng.chance(0.03);
  const dto: MachineDto = {
    id: uniqueId(ctx),
    mergedIntoMachineId: merged,
    isPotentialDuplication: merged === null && rng.chance(0.02),
    isExcluded: excluded,
    exclusionReason: excluded ? rng.pick(EXCLUSION_REASONS) : null,
    computerDnsName: host === null ? null : dnsName(rng, org, host, family, domainIndex),
    firstSeen: ctx.clock.ticksTime(firstSeen),
    lastSeen: ctx.clock.ticksTime(lastSeen),
    osPlatform: os.platform,
    osVersion:
      family === 'windows' && rng.chance(0.03) ? `10.0.${release.build}.${rng.int(1000, 6000)}` : null,
    osProcessor: x86 ? 'x86' : 'x64',
    version: release.version,
    lastIpAddress: nic.lastIp,
    lastExternalIpAddress:
      azure || (role === 'workstation' && rng.chance(0.3)) ? publicIp(rng) : rng.pick(org.egressIps),
    agentVersion: agentVersion(rng, family, release.agentBuild),
    osBuild: release.build,
    healthStatus,
    deviceValue: deviceValueOf(rng, role, tags),
    rbacGroupId: group.id,
    rbacGroupName: group.name,
    // Replaced once the alerts exist: Defender derives a machine's risk from its active alerts.
    riskScore: 'None',
    exposureLevel: onboarded ? rng.weighted(EXPOSURE) : null,
    isAadJoined,
    aadDeviceId: isAadJoined && rng.chance(0.93) ? rng.guid() : null,
    machineTags: tags,
    defenderAvStatus: onboarded ? rng.weighted(AV_STATUS) : 'Unknown',
    onboardingStatus,
    osArchitecture: x86 ? '32-bit' : '64-bit',
    managedBy,
    managedByStatus: managedBy === 'Unknown' ? 'Unknown' : 'Managed',
    ipAddresses: nic.list,
    vmMetadata: azure ? vmMetadata(rng, org, host ?? rng.alnum(8)) : null,
  };
  return { dto, family, role, host, domainIndex, azure, onboarded, firstSeen, lastSeen, users: [] };
}

function uniqueId(ctx: MachineContext): string {
  let id = ctx.rng.hex(40);
  while (ctx.ids.has(id)) id = ctx.rng.hex(40);
  ctx.ids.add(id);
  return id;
}

/** Host names are unique, so a local account's domain (`desktop-8k2j4lq\administrator`) names one machine. */
function uniqueHost(ctx: MachineContext, family: OsFamily, role: MachineRole): string {
  let host = hostName(ctx.rng, family, role);
  for (let attempt = 2; ctx.hosts.has(host); attempt++) {
    host = attempt < 10 ? hostName(ctx.rng, family, role) : `${hostName(ctx.rng, family, role)}-${attempt}`;
  }
  ctx.hosts.add(host);
  return host;
}

function hostName(rng: Random, family: OsFamily, role: MachineRole): string {
  const nn = String(rng.int(1, 24)).padStart(2, '0');
  if (role === 'domainController') return `dc${nn}`;
  if (role === 'server' && family === 'windows') return `srv-${rng.pick(SERVER_ROLES)}-${nn}`;
  if (family === 'linux') return `${rng.pick(['lnx', 'ubuntu', 'rhel'])}-${rng.pick(LINUX_ROLES)}-${nn}`;
  if (family === 'macos')
    return `${rng.pick(FIRST_NAMES)}s-${rng.pick(['macbook-pro', 'macbook-air', 'imac'])}`;
  return rng.weighted<string>([
    [`desktop-${rng.alnum(7)}`, 55],
    [`laptop-${rng.alnum(7)}`, 30],
    [`wks-${rng.int(1000, 9999)}`, 15],
  ]);
}

/** Most Windows machines are joined to the primary domain, some to the regional one, a few to none. */
function joinedDomain(rng: Random, family: OsFamily, role: MachineRole): number | null {
  if (family !== 'windows') return null;
  if (role === 'workstation' && rng.chance(0.12)) return null;
  if (role === 'server' && rng.chance(0.05)) return null;
  return rng.chance(0.8) ? 0 : 1;
}

function dnsName(
  rng: Random,
  org: Organisation,
  host: string,
  family: OsFamily,
  domainIndex: number | null,
): string {
  if (domainIndex !== null) return `${host}.${org.domains[domainIndex]!.dnsName}`;
  if (family === 'linux' && rng.chance(0.4)) return `${host}.${org.domains[0]!.dnsName}`;
  return host;
}

function machineTags(
  rng: Random,
  family: OsFamily,
  role: MachineRole,
  platform: string,
  azure: boolean,
): string[] {
  const tags: string[] = [];
  if (role === 'workstation') {
    if (rng.chance(0.08)) tags.push('Finance', ...(rng.chance(0.5) ? ['PCI'] : []));
    if (rng.chance(0.03)) tags.push('VIP');
    if (rng.chance(0.04)) tags.push('HR');
    if (rng.chance(0.06)) tags.push('Pilot');
    if (family === 'macos' && rng.chance(0.2)) tags.push('BYOD');
    if (family === 'windows' && rng.chance(0.02)) tags.push('Kiosk');
  } else {
    if (rng.chance(0.7)) tags.push('Server');
    if (role === 'domainController' && rng.chance(0.6)) tags.push('Tier0');
    if (rng.chance(0.1)) tags.push('PCI');
    if (platform === 'WindowsServer2016' && rng.chance(0.4)) tags.push('Legacy');
    if (azure && rng.chance(0.5)) tags.push('Azure');
  }
  return tags;
}

function deviceGroup(
  rng: Random,
  groups: readonly DeviceGroup[],
  family: OsFamily,
  role: MachineRole,
  region: Region,
  tags: readonly string[],
): DeviceGroup {
  const unassigned = groups[0]!;
  // Machines matching no rule land in the default group, which the API shows as id 0 with no name.
  if (rng.chance(0.04)) return unassigned;
  const byName = (name: string): DeviceGroup | undefined => groups.find((g) => g.name === name);
  const candidates: (string | false)[] = [
    role === 'domainController' && 'Domain Controllers',
    tags.includes('VIP') && 'Executives',
    role === 'workstation' && tags.includes('Finance') && 'Finance',
    family === 'linux' && 'Linux Servers',
    family === 'macos' && 'macOS Devices',
    role !== 'workstation' && rng.chance(0.25) && 'Servers - Non-Production',
    role !== 'workstation' && 'Servers - Production',
    `Workstations - ${region}`,
    'Workstations - US',
  ];
  for (const name of candidates) {
    const group = name === false ? undefined : byName(name);
    if (group) return group;
  }
  return unassigned;
}

function deviceValueOf(rng: Random, role: MachineRole, tags: readonly string[]): DeviceValue | null {
  if (role === 'domainController' || tags.includes('VIP')) return 'High';
  if (tags.includes('Kiosk')) return 'Low';
  if (role === 'server' && rng.chance(0.2)) return 'High';
  return rng.weighted<DeviceValue | null>([
    ['Normal', 92],
    ['High', 4],
    ['Low', 3],
    [null, 1],
  ]);
}

function managedByOf(rng: Random, family: OsFamily, role: MachineRole, isAadJoined: boolean): string {
  if (family === 'macos') return rng.chance(0.7) ? 'Intune' : 'Unknown';
  if (family === 'linux') return rng.chance(0.5) ? 'MDE' : 'Unknown';
  if (role === 'workstation') return isAadJoined ? 'Intune' : rng.chance(0.5) ? 'ConfigMgr' : 'Unknown';
  return rng.weighted<string>([
    ['MDE', 40],
    ['ConfigMgr', 20],
    ['Unknown', 40],
  ]);
}

function ipAddresses(
  rng: Random,
  family: OsFamily,
  role: MachineRole,
  azure: boolean,
  region: Region,
  host: string | null,
): { list: IpAddressDto[]; lastIp: string } {
  const site = azure ? rng.int(0, 3) : role === 'workstation' ? { US: 10, EU: 20, APAC: 30 }[region] : 100;
  const lastIp = `10.${site + (azure ? 0 : rng.int(0, 3))}.${rng.int(0, 63)}.${rng.int(10, 250)}`;
  const oui = azure ? AZURE_OUI : role === 'workstation' ? rng.pick(PHYSICAL_OUIS) : rng.pick(VIRTUAL_OUIS);
  const mac = `${oui}${rng.hex(6).toUpperCase()}`;
  const list: IpAddressDto[] = [
    { ipAddress: lastIp, macAddress: mac, type: 'Ethernet', operationalStatus: 'Up' },
  ];
  if (family !== 'linux') {
    const linkLocal = `fe80::${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}`.replace(
      /:0+(?=[0-9a-f])/g,
      ':',
    );
    list.push({ ipAddress: linkLocal, macAddress: mac, type: 'Ethernet', operationalStatus: 'Up' });
  }
  // A laptop's unplugged second adapter shows up Down with a self-assigned address.
  const laptop = family === 'macos' || host?.startsWith('laptop-') === true;
  if (laptop && rng.chance(0.4)) {
    list.push({
      ipAddress: `169.254.${rng.int(1, 254)}.${rng.int(1, 254)}`,
      macAddress: `${rng.pick(PHYSICAL_OUIS)}${rng.hex(6).toUpperCase()}`,
      type: 'Ethernet',
      operationalStatus: 'Down',
    });
  }
  list.push(
    { ipAddress: '127.0.0.1', macAddress: null, type: 'SoftwareLoopback', operationalStatus: 'Up' },
    { ipAddress: '::1', macAddress: null, type: 'SoftwareLoopback', operationalStatus: 'Up' },
  );
  return { list, lastIp };
}

function vmMetadata(rng: Random, org: Organisation, host: string): VmMetadataDto {
  const subscriptionId = rng.pick(org.subscriptions);
  const resourceGroup = `rg-${rng.pick(['prod', 'shared', 'app', 'data', 'infra'])}-${rng.pick(['weu', 'eus', 'neu', 'wus2'])}`;
  return {
    vmId: rng.guid(),
    cloudProvider: 'Azure',
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${host}`,
    subscriptionId,
  };
}
