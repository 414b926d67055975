import { describe, it, expect } from 'vitest';
import type { AlertDto, MachineDto, UserDto } from '../../../src/defender/types.js';
import { DEFAULT_TENANT_SIZES, generateTenant } from '../../../src/simulator/data.js';

// Live key orders, copied from docs/defender-api.md §1 (not from types.ts, so a drift in either shows).
// prettier-ignore
const MACHINE_KEYS = [
  'id', 'mergedIntoMachineId', 'isPotentialDuplication', 'isExcluded', 'exclusionReason', 'computerDnsName',
  'firstSeen', 'lastSeen', 'osPlatform', 'osVersion', 'osProcessor', 'version', 'lastIpAddress',
  'lastExternalIpAddress', 'agentVersion', 'osBuild', 'healthStatus', 'deviceValue', 'rbacGroupId',
  'rbacGroupName', 'riskScore', 'exposureLevel', 'isAadJoined', 'aadDeviceId', 'machineTags', 'defenderAvStatus',
  'onboardingStatus', 'osArchitecture', 'managedBy', 'managedByStatus', 'ipAddresses', 'vmMetadata',
];
const IP_KEYS = ['ipAddress', 'macAddress', 'type', 'operationalStatus'];
const VM_KEYS = ['vmId', 'cloudProvider', 'resourceId', 'subscriptionId'];
// prettier-ignore
const USER_KEYS = [
  'id', 'accountName', 'accountDomain', 'accountSid', 'firstSeen', 'lastSeen', 'mostPrevalentMachineId',
  'leastPrevalentMachineId', 'logonTypes', 'logOnMachinesCount', 'isDomainAdmin', 'isOnlyNetworkUser',
];
// prettier-ignore
const ALERT_KEYS = [
  'id', 'incidentId', 'investigationId', 'assignedTo', 'severity', 'status', 'classification', 'determination',
  'investigationState', 'detectionSource', 'detectorId', 'category', 'threatFamilyName', 'title', 'description',
  'alertCreationTime', 'firstEventTime', 'lastEventTime', 'lastUpdateTime', 'resolvedTime', 'machineId',
  'computerDnsName', 'rbacGroupName', 'aadTenantId', 'threatName', 'mitreTechniques', 'relatedUser',
  'loggedOnUsers', 'comments', 'evidence', 'domains',
];
// prettier-ignore
const EVIDENCE_KEYS = [
  'entityType', 'evidenceCreationTime', 'sha1', 'sha256', 'fileName', 'filePath', 'processId',
  'processCommandLine', 'processCreationTime', 'parentProcessId', 'parentProcessCreationTime',
  'parentProcessFileName', 'parentProcessFilePath', 'ipAddress', 'url', 'registryKey', 'registryHive',
  'registryValueType', 'registryValue', 'registryValueName', 'accountName', 'domainName', 'userSid', 'aadUserId',
  'userPrincipalName', 'detectionStatus',
];

const HEALTH = [
  'Active',
  'Inactive',
  'ImpairedCommunication',
  'NoSensorData',
  'NoSensorDataImpairedCommunication',
  'Unknown',
];
const ONBOARDING = ['Onboarded', 'CanBeOnboarded', 'Unsupported', 'InsufficientInfo'];
const SEVERITY = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'];
const STATUS = ['Unknown', 'New', 'InProgress', 'Resolved'];
// prettier-ignore
const DETERMINATIONS: Record<string, string[]> = {
  TruePositive: ['MultiStagedAttack', 'MaliciousUserActivity', 'CompromisedUser', 'CompromisedAccount', 'Malware', 'Phishing', 'UnwantedSoftware', 'Other'],
  InformationalExpectedActivity: ['SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity', 'ConfirmedActivity', 'Other'],
  FalsePositive: ['Clean', 'NotMalicious', 'InsufficientData', 'Other'],
};
// prettier-ignore
const INVESTIGATION_STATES = [
  'Unknown', 'Terminated', 'SuccessfullyRemediated', 'Benign', 'Failed', 'PartiallyRemediated', 'Running',
  'PendingApproval', 'PendingResource', 'PartiallyInvestigated', 'TerminatedByUser', 'TerminatedBySystem', 'Queued',
  'InnerFailure', 'PreexistingAlert', 'UnsupportedOs', 'UnsupportedAlertType', 'SuppressedAlert',
];
// prettier-ignore
const DETECTION_SOURCES = [
  'WindowsDefenderAtp', 'WindowsDefenderAv', 'WindowsDefenderSmartScreen', 'AutomatedInvestigation',
  'CustomDetection', 'CustomerTI', 'MTP', 'OfficeATP', 'ThreatExperts', 'ThirdPartySensors',
];
// prettier-ignore
const CATEGORIES = [
  'General', 'CommandAndControl', 'Collection', 'CredentialAccess', 'DefenseEvasion', 'Discovery', 'Exfiltration',
  'Exploit', 'Execution', 'InitialAccess', 'LateralMovement', 'Malware', 'Persistence', 'PrivilegeEscalation',
  'Ransomware', 'SuspiciousActivity', 'UnwantedSoftware',
];

const TICKS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
const SECONDS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALERT_ID = /^(da|ar)?(\d{18})_(-?\d+)$/;
const NOW = new Date('2026-11-01T00:00:00Z');
const DAY_MS = 86_400_000;

const tenant = generateTenant({ seed: 7 });
const { machines, users, alerts } = tenant;

const keysOf = (value: object | null): string[] => Object.keys(value ?? {});
const share = <T>(items: readonly T[], test: (item: T) => boolean): number =>
  items.filter(test).length / items.length;
const userKey = (domain: string, name: string): string => `${domain}\\${name}`.toLowerCase();
const hostOf = (m: MachineDto): string | undefined => m.computerDnsName?.split('.')[0];

/** .NET ticks of an ISO time with 7 fractional digits, computed independently of the generator. */
function ticksOf(time: string): bigint {
  const ms = Date.parse(`${time.slice(0, 23)}Z`);
  return BigInt(ms) * 10_000n + BigInt(time.slice(23, 27)) + 621_355_968_000_000_000n;
}

describe('generateTenant', () => {
  it('gives byte-identical data for the same seed and different data for another seed', () => {
    const again = generateTenant({ seed: 7 });
    const other = generateTenant({ seed: 8 });
    for (const key of ['machines', 'users', 'alerts', 'deviceGroups', 'tenantId'] as const) {
      expect(JSON.stringify(again[key])).toBe(JSON.stringify(tenant[key]));
      expect(JSON.stringify(other[key])).not.toBe(JSON.stringify(tenant[key]));
    }
  });

  it('uses the default sizes of 1000 machines, 300 users and 5000 alerts, and honours others', () => {
    expect(DEFAULT_TENANT_SIZES).toEqual({ machines: 1000, users: 300, alerts: 5000 });
    expect([machines.length, users.length, alerts.length]).toEqual([1000, 300, 5000]);
    const small = generateTenant({ seed: 3, sizes: { machines: 40, users: 20, alerts: 60 } });
    expect([small.machines.length, small.users.length, small.alerts.length]).toEqual([40, 20, 60]);
    const tiny = generateTenant({ seed: 3, sizes: { machines: 1, users: 1, alerts: 1 } });
    expect(tiny.alerts[0]!.machineId).toBe(tiny.machines[0]!.id);
  });

  it('rejects sizes that are not positive integers, naming the size', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => generateTenant({ seed: 1, sizes: { users: bad } })).toThrow(
        /"users" must be a positive integer/,
      );
    }
    expect(() => generateTenant({ seed: 1, sizes: { alerts: 0 } })).toThrow(/"alerts"/);
    expect(() => generateTenant({ seed: 0.5 })).toThrow(/seed/);
  });

  it('emits every DTO key in the live wire order', () => {
    for (const m of machines) {
      expect(keysOf(m)).toEqual(MACHINE_KEYS);
      for (const ip of m.ipAddresses) expect(keysOf(ip)).toEqual(IP_KEYS);
      if (m.vmMetadata) expect(keysOf(m.vmMetadata)).toEqual(VM_KEYS);
    }
    expect(machines.some((m) => m.vmMetadata !== null)).toBe(true);
    for (const u of users) expect(keysOf(u)).toEqual(USER_KEYS);
    for (const a of alerts) {
      expect(keysOf(a)).toEqual(ALERT_KEYS);
      if (a.relatedUser) expect(keysOf(a.relatedUser)).toEqual(['userName', 'domainName']);
      for (const l of a.loggedOnUsers) expect(keysOf(l)).toEqual(['accountName', 'domainName']);
      for (const c of a.comments) expect(keysOf(c)).toEqual(['comment', 'createdBy', 'createdTime']);
      for (const e of a.evidence) expect(keysOf(e)).toEqual(EVIDENCE_KEYS);
    }
    expect(alerts.some((a) => a.comments.length > 0)).toBe(true);
  });

  describe('ids', () => {
    it('gives machines unique 40-hex ids and DNS names that are FQDNs, bare host names or a few nulls', () => {
      expect(machines.every((m) => /^[0-9a-f]{40}$/.test(m.id))).toBe(true);
      expect(new Set(machines.map((m) => m.id)).size).toBe(machines.length);
      const names = machines.map((m) => m.computerDnsName);
      expect(names.some((n) => n?.includes('.'))).toBe(true);
      expect(names.some((n) => n !== null && !n.includes('.'))).toBe(true);
      expect(names.filter((n) => n === null).length).toBeGreaterThan(0);
      expect(share(names, (n) => n === null)).toBeLessThan(0.05);
      const lower = names.filter((n) => n !== null).map((n) => n.toLowerCase());
      expect(new Set(lower).size).toBe(lower.length);
    });

    it('gives alerts unique ids in every documented form, whose ticks decode to alertCreationTime', () => {
      expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);
      for (const a of alerts) {
        const match = ALERT_ID.exec(a.id);
        expect(match, a.id).not.toBeNull();
        const [, prefix, ticks, suffix] = match!;
        expect(BigInt(ticks!)).toBe(ticksOf(a.alertCreationTime!));
        expect(Number(suffix)).toBe(Number(suffix) | 0);
        expect(prefix === 'ar').toBe(a.detectionSource === 'AutomatedInvestigation');
      }
      expect(alerts.some((a) => a.id.startsWith('da'))).toBe(true);
      expect(alerts.some((a) => a.id.startsWith('ar'))).toBe(true);
      expect(alerts.some((a) => /^\d/.test(a.id))).toBe(true);
      expect(alerts.some((a) => a.id.includes('_-'))).toBe(true);
    });

    it('gives users domain\\name ids: domain accounts with SIDs, local accounts, spaces and shared names', () => {
      const hosts = new Set(machines.map(hostOf));
      for (const u of users) {
        expect(u.id).toBe(`${u.accountDomain}\\${u.accountName}`);
        if (hosts.has(u.accountDomain)) expect(u.accountSid).toBeNull();
        else expect(u.accountSid).toMatch(/^S-1-5-21-\d+-\d+-\d+-\d+$/);
      }
      expect(new Set(users.map((u) => u.id.toLowerCase())).size).toBe(users.length);
      expect(users.filter((u) => hosts.has(u.accountDomain)).length).toBeGreaterThan(20);
      expect(users.some((u) => u.accountName.includes(' '))).toBe(true);
      const domainsOf = new Map<string, Set<string>>();
      for (const u of users)
        domainsOf.set(u.accountName, (domainsOf.get(u.accountName) ?? new Set()).add(u.accountDomain));
      expect(domainsOf.get('administrator')?.size).toBeGreaterThanOrEqual(3);
    });
  });

  describe('relationships', () => {
    it('makes machinesOfUser the exact inverse of logonUsers, with at most six users a machine', () => {
      const pairs = new Set<string>();
      for (const m of machines) {
        const logons = tenant.logonUsers(m.id);
        expect(logons.length).toBeLessThanOrEqual(6);
        for (const u of logons) {
          pairs.add(`${m.id}|${u.id}`);
          expect(tenant.machinesOfUser(u)).toContain(m);
        }
      }
      let inverse = 0;
      for (const u of users) {
        for (const m of tenant.machinesOfUser(u)) {
          inverse++;
          expect(pairs.has(`${m.id}|${u.id}`)).toBe(true);
        }
      }
      expect(inverse).toBe(pairs.size);
      expect(pairs.size).toBeGreaterThan(users.length);
    });

    it('keeps local accounts on their own machine and user summaries in line with their machines', () => {
      const hosts = new Set(machines.map(hostOf));
      for (const u of users) {
        const own = tenant.machinesOfUser(u);
        expect(u.logOnMachinesCount).toBe(own.length);
        const ids = own.map((m) => m.id);
        if (own.length === 0)
          expect([u.mostPrevalentMachineId, u.leastPrevalentMachineId]).toEqual([null, null]);
        else
          expect(ids).toEqual(expect.arrayContaining([u.mostPrevalentMachineId, u.leastPrevalentMachineId]));
        if (hosts.has(u.accountDomain)) expect(own.every((m) => hostOf(m) === u.accountDomain)).toBe(true);
      }
    });

    it('puts every alert on an existing machine, copying its name and group', () => {
      for (const a of alerts) {
        const m = tenant.machineById(a.machineId);
        expect(m).toBeDefined();
        expect([a.computerDnsName, a.rbacGroupName]).toEqual([m!.computerDnsName, m!.rbacGroupName]);
        expect(a.aadTenantId).toBe(tenant.tenantId);
      }
      expect(tenant.tenantId).toMatch(GUID);
    });

    it('names a logged-on user of the alert machine in 75–85% of alerts, and null in the rest', () => {
      const nullShare = share(alerts, (a) => a.relatedUser === null);
      expect(nullShare).toBeGreaterThanOrEqual(0.15);
      expect(nullShare).toBeLessThanOrEqual(0.25);
      for (const a of alerts) {
        const logons = new Set(
          tenant.logonUsers(a.machineId).map((u) => userKey(u.accountDomain, u.accountName)),
        );
        if (a.relatedUser)
          expect(logons.has(userKey(a.relatedUser.domainName, a.relatedUser.userName))).toBe(true);
        for (const l of a.loggedOnUsers) expect(logons.has(userKey(l.domainName, l.accountName))).toBe(true);
      }
    });

    it('indexes alerts by machine and by related user exactly as a scan would find them', () => {
      const byMachine = (id: string): AlertDto[] => alerts.filter((a) => a.machineId === id);
      for (const m of machines) expect(tenant.alertsOfMachine(m.id)).toEqual(byMachine(m.id));
      const related = (u: UserDto): AlertDto[] =>
        alerts.filter(
          (a) =>
            a.relatedUser && userKey(a.relatedUser.domainName, a.relatedUser.userName) === u.id.toLowerCase(),
        );
      for (const u of users) expect(tenant.alertsOfUser(u)).toEqual(related(u));
      expect(users.some((u) => tenant.alertsOfUser(u).length > 0)).toBe(true);
    });

    it('looks entities up by id, DNS name and account name ignoring case, and unknown keys find nothing', () => {
      const m = machines.find((x) => x.computerDnsName !== null)!;
      expect(tenant.machineById(m.id)).toBe(m);
      expect(tenant.machineByDnsName(m.computerDnsName!.toUpperCase())).toBe(m);
      expect(tenant.alertById(alerts[10]!.id)).toBe(alerts[10]);
      const admins = users.filter((u) => u.accountName === 'administrator');
      expect(tenant.userById(admins[0]!.id.toUpperCase())).toBe(admins[0]);
      expect(tenant.usersByAccountName('ADMINISTRATOR')).toEqual(admins);
      expect(tenant.machineById('0'.repeat(40))).toBeUndefined();
      expect(tenant.machineByDnsName('nowhere.example')).toBeUndefined();
      expect(tenant.alertById('da000000000000000000_0')).toBeUndefined();
      expect(tenant.userById('nobody\\nobody')).toBeUndefined();
      expect(tenant.usersByAccountName('nobody')).toEqual([]);
      expect(tenant.logonUsers('0'.repeat(40))).toEqual([]);
      expect(tenant.alertsOfMachine('0'.repeat(40))).toEqual([]);
    });

    it('puts machines in the tenant device groups, group 0 having no name', () => {
      const groups = new Map(tenant.deviceGroups.map((g) => [g.id, g.name]));
      expect(groups.get(0)).toBeNull();
      expect(groups.size - 1).toBeGreaterThanOrEqual(6);
      expect(groups.size - 1).toBeLessThanOrEqual(8);
      for (const m of machines) expect(groups.get(m.rbacGroupId)).toBe(m.rbacGroupName);
      expect(new Set(machines.map((m) => m.rbacGroupId)).size).toBeGreaterThan(4);
    });

    it("derives a machine's riskScore from its highest-severity unresolved alert", () => {
      for (const m of machines) {
        const open = tenant.alertsOfMachine(m.id).filter((a) => a.status !== 'Resolved');
        const worst = Math.max(-1, ...open.map((a) => SEVERITY.indexOf(a.severity)));
        const expected = worst < 0 ? 'None' : worst === 0 ? 'Low' : SEVERITY[worst];
        expect(m.riskScore).toBe(expected);
      }
    });
  });

  describe('values', () => {
    it('keeps machine enums in the documented sets, mostly Active and Onboarded', () => {
      for (const m of machines) {
        expect(HEALTH).toContain(m.healthStatus);
        expect(ONBOARDING).toContain(m.onboardingStatus);
        expect(['Normal', 'Low', 'High', null]).toContain(m.deviceValue);
        expect(['None', 'Informational', 'Low', 'Medium', 'High', null]).toContain(m.riskScore);
        expect(['None', 'Low', 'Medium', 'High', null]).toContain(m.exposureLevel);
        expect(['32-bit', '64-bit']).toContain(m.osArchitecture);
        if (m.aadDeviceId !== null) expect(m.aadDeviceId).toMatch(GUID);
      }
      expect(share(machines, (m) => m.healthStatus === 'Active')).toBeGreaterThan(0.7);
      expect(share(machines, (m) => m.onboardingStatus === 'Onboarded')).toBeGreaterThan(0.85);
      expect(machines.some((m) => m.machineTags.length === 0)).toBe(true);
      expect(machines.some((m) => m.machineTags.length > 0)).toBe(true);
    });

    it('keeps OS platform, version, build and sensor version consistent', () => {
      const builds: Record<string, (number | null)[]> = {
        Windows10: [19045, 19044, 19043, 17763],
        Windows11: [22631, 26100, 22621, 22000],
        WindowsServer2016: [14393],
        WindowsServer2019: [17763],
        WindowsServer2022: [20348],
        Linux: [null],
        macOS: [null],
      };
      for (const m of machines) {
        expect(builds[m.osPlatform]).toContain(m.osBuild);
        const agent = m.osPlatform.startsWith('Windows')
          ? /^10\.\d{4}\.\d{5}\.\d{4}$/
          : /^101\.\d{5}\.\d{4}$/;
        expect(m.agentVersion).toMatch(agent);
      }
      expect(new Set(machines.map((m) => m.osPlatform)).size).toBe(Object.keys(builds).length);
    });

    it('gives machines Ethernet and loopback addresses, lastIpAddress among them', () => {
      for (const m of machines) {
        const addresses = m.ipAddresses.map((ip) => ip.ipAddress);
        expect(addresses).toContain(m.lastIpAddress);
        expect(addresses).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
        for (const ip of m.ipAddresses) {
          expect(['Ethernet', 'SoftwareLoopback']).toContain(ip.type);
          expect(['Up', 'Down']).toContain(ip.operationalStatus);
          if (ip.type === 'SoftwareLoopback') expect(ip.macAddress).toBeNull();
          else expect(ip.macAddress).toMatch(/^[0-9A-F]{12}$/);
        }
      }
    });

    it('gives users logon types as a string of documented names', () => {
      for (const u of users) {
        expect(u.logonTypes).toMatch(
          /^(Interactive|Network|RemoteInteractive)(, (Network|RemoteInteractive))*$/,
        );
        if (u.isOnlyNetworkUser !== null) expect(u.isOnlyNetworkUser).toBe(u.logonTypes === 'Network');
      }
      expect(users.some((u) => u.logonTypes.includes(', '))).toBe(true);
    });

    it('keeps alert enums in the documented sets, determination only within its classification group', () => {
      for (const a of alerts) {
        expect(SEVERITY).toContain(a.severity);
        expect(STATUS).toContain(a.status);
        expect(DETECTION_SOURCES).toContain(a.detectionSource);
        expect(CATEGORIES).toContain(a.category);
        if (a.investigationState !== null) expect(INVESTIGATION_STATES).toContain(a.investigationState);
        if (a.classification === null) expect(a.determination).toBeNull();
        else if (a.determination !== null)
          expect(DETERMINATIONS[a.classification]).toContain(a.determination);
        expect((a.threatName === null) === (a.threatFamilyName === null)).toBe(true);
        expect(a.detectorId).toMatch(GUID);
        for (const t of a.mitreTechniques) expect(t).toMatch(/^T\d{4}(\.\d{3})?$/);
        expect(a.domains).toEqual([]);
        expect(a.evidence.length).toBeGreaterThanOrEqual(1);
        expect(a.evidence.length).toBeLessThanOrEqual(4);
        for (const e of a.evidence) {
          expect(['File', 'Process', 'User', 'Ip']).toContain(e.entityType);
          expect(['Detected', 'Blocked', 'Prevented', null]).toContain(e.detectionStatus);
        }
      }
      for (const s of STATUS) expect(alerts.some((a) => a.status === s)).toBe(true);
      expect(alerts.some((a) => a.mitreTechniques.length === 0)).toBe(true);
      expect(alerts.some((a) => a.threatName !== null)).toBe(true);
      expect(alerts.some((a) => a.description.includes('\n'))).toBe(true);
    });

    it('orders alert times and resolves only resolved alerts, all within 90 days before now', () => {
      for (const a of alerts) {
        const times = [a.firstEventTime, a.lastEventTime, a.alertCreationTime, a.lastUpdateTime];
        for (const t of times) expect(t).toMatch(TICKS_TIME);
        expect([...times].sort()).toEqual(times);
        expect(a.resolvedTime !== null).toBe(a.status === 'Resolved');
        if (a.resolvedTime)
          expect(a.alertCreationTime! <= a.resolvedTime && a.resolvedTime <= a.lastUpdateTime!).toBe(true);
        const created = Date.parse(a.alertCreationTime!);
        expect(created).toBeLessThan(NOW.getTime());
        expect(created).toBeGreaterThan(NOW.getTime() - 90 * DAY_MS);
        expect(Date.parse(a.lastUpdateTime!)).toBeLessThanOrEqual(NOW.getTime());
      }
    });

    it('formats machine times with 7 fractional digits and user times in whole seconds, all before now', () => {
      for (const m of machines) {
        expect([m.firstSeen, m.lastSeen]).toEqual([
          expect.stringMatching(TICKS_TIME),
          expect.stringMatching(TICKS_TIME),
        ]);
        expect(m.firstSeen <= m.lastSeen && Date.parse(m.lastSeen) <= NOW.getTime()).toBe(true);
      }
      for (const u of users) {
        expect([u.firstSeen, u.lastSeen]).toEqual([
          expect.stringMatching(SECONDS_TIME),
          expect.stringMatching(SECONDS_TIME),
        ]);
        expect(u.firstSeen <= u.lastSeen && Date.parse(u.lastSeen) <= NOW.getTime()).toBe(true);
      }
    });

    it('dates the last logon of every user with machines within the 30 days advanced hunting holds', () => {
      const active = users.filter((u) => (u.logOnMachinesCount ?? 0) > 0);
      expect(active.length).toBeGreaterThan(200);
      for (const u of active) expect(Date.parse(u.lastSeen)).toBeGreaterThan(NOW.getTime() - 30 * DAY_MS);
      // Accounts that never logged on may have been idle for longer.
      const idle = generateTenant({ seed: 7, sizes: { machines: 3, users: 200, alerts: 1 } }).users;
      expect(idle.some((u) => Date.parse(u.lastSeen) < NOW.getTime() - 30 * DAY_MS)).toBe(true);
    });

    it('dates everything from the given now', () => {
      const now = new Date('2025-03-15T12:00:00Z');
      const earlier = generateTenant({ seed: 7, sizes: { machines: 50, users: 20, alerts: 200 }, now });
      expect(earlier.now.getTime()).toBe(now.getTime());
      for (const a of earlier.alerts) {
        const created = Date.parse(a.alertCreationTime!);
        expect(created).toBeLessThan(now.getTime());
        expect(created).toBeGreaterThan(now.getTime() - 90 * DAY_MS);
      }
      expect(earlier.machines.every((m) => Date.parse(m.lastSeen) <= now.getTime())).toBe(true);
    });
  });
});
