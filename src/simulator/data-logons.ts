import type { Table } from './kql/evaluate.js';
import type { Column } from './kql/bound.js';
import type { Value } from './kql/values.js';
import type { MachineDraft } from './data-machines.js';
import { Random } from './data-random.js';
import type { Ticks } from './data-time.js';
import { DAY, MINUTE } from './data-time.js';
import type { UserDraft } from './data-users.js';

/** The advanced hunting tables the simulator serves (`docs/defender-api.md` §8.1). */
export interface HuntingTables {
  readonly DeviceLogonEvents: Table;
  readonly DeviceInfo: Table;
}

/** How far back the hunting tables reach, as Defender's advanced hunting does: 30 days. */
export const HUNTING_RETENTION: Ticks = 30 * DAY;

export const DEVICE_LOGON_EVENTS_COLUMNS: readonly Column[] = [
  { name: 'Timestamp', type: 'datetime' },
  { name: 'DeviceId', type: 'string' },
  { name: 'DeviceName', type: 'string' },
  { name: 'ActionType', type: 'string' },
  { name: 'LogonType', type: 'string' },
  { name: 'AccountDomain', type: 'string' },
  { name: 'AccountName', type: 'string' },
  { name: 'AccountSid', type: 'string' },
  { name: 'Protocol', type: 'string' },
  { name: 'FailureReason', type: 'string' },
  { name: 'IsLocalAdmin', type: 'bool' },
  { name: 'LogonId', type: 'long' },
  { name: 'RemoteDeviceName', type: 'string' },
  { name: 'RemoteIP', type: 'string' },
  { name: 'RemoteIPType', type: 'string' },
  { name: 'RemotePort', type: 'int' },
  { name: 'AdditionalFields', type: 'string' },
  { name: 'ReportId', type: 'long' },
];

export const DEVICE_INFO_COLUMNS: readonly Column[] = [
  { name: 'Timestamp', type: 'datetime' },
  { name: 'DeviceId', type: 'string' },
  { name: 'DeviceName', type: 'string' },
  { name: 'ClientVersion', type: 'string' },
  { name: 'PublicIP', type: 'string' },
  { name: 'OSArchitecture', type: 'string' },
  { name: 'OSPlatform', type: 'string' },
  { name: 'OSBuild', type: 'long' },
  { name: 'OSVersion', type: 'string' },
  { name: 'IsAzureADJoined', type: 'bool' },
  { name: 'AadDeviceId', type: 'string' },
  { name: 'MachineGroup', type: 'string' },
  { name: 'OnboardingStatus', type: 'string' },
  { name: 'SensorHealthState', type: 'string' },
  { name: 'ExposureLevel', type: 'string' },
  { name: 'ReportId', type: 'long' },
];

/** A logon event before it becomes a row. */
interface Logon {
  readonly at: Ticks;
  readonly machine: MachineDraft;
  readonly user: Pick<UserDraft, 'accountDomain' | 'accountName' | 'sid'>;
  readonly success: boolean;
  readonly logonType: string;
  readonly localAdmin: boolean;
  readonly domainAdmin: boolean;
}

const SPRAYED = ['admin', 'test', 'guest', 'scanner', 'user', 'backup', 'sqladmin'];
const FAILED_TYPES = ['Network', 'Interactive', 'RemoteInteractive', 'Batch', 'Service', 'Unlock'];
const FAILURES = ['InvalidUserNameOrPassword', 'UnknownUser', 'AccountLocked', 'AccountDisabled'];

/**
 * Builds `DeviceLogonEvents` and `DeviceInfo` from the same logon facts as the REST answers, so that both
 * sources agree by construction (§8.2). For every fact (user U logged on to machine M, i.e. U is in M's
 * `logonusers` and M in U's `machines`) there are one or more `LogonSuccess` rows in the 30 days before
 * `now`; over all of U's successes:
 * - the latest is at U's REST `lastSeen` exactly (whole seconds);
 * - the distinct `LogonType`s are U's `logonTypes` (`"Network, RemoteInteractive"` → both, each at least once);
 * - `AccountSid` is U's `accountSid` (`""` for a local account, whose REST value is null);
 * - `AdditionalFields` carries `"TokenHasDomainAdminSid":true` exactly when U `isDomainAdmin`.
 * `LogonFailed` rows add noise that must not count: accounts that never succeeded on that machine, logon
 * types outside an account's set, and times after its `lastSeen`.
 *
 * Its own random stream (derived from the seed) leaves the REST tenant byte for byte as it was.
 */
export function createHuntingTables(
  seed: number,
  nowMs: number,
  users: readonly UserDraft[],
  machines: readonly MachineDraft[],
): HuntingTables {
  const rng = new Random((seed ^ 0x4c6f67) >>> 0);
  const logons: Logon[] = [];
  const windowStart = -HUNTING_RETENTION + MINUTE;

  for (const user of users) {
    if (user.machines.length === 0) continue;
    // REST prints lastSeen in whole seconds: the latest success sits exactly on that second.
    const latestMs = Math.floor((nowMs + Math.floor(user.lastSeen / 10_000)) / 1000) * 1000;
    const latest: Ticks = (latestMs - nowMs) * 10_000;
    const earliest = Math.min(latest, Math.max(windowStart, user.firstSeen));
    const types = user.logonTypes.split(', ');
    const domainAdmin = user.kind === 'admin' || user.kind === 'builtin';
    const localAdmin =
      domainAdmin ||
      (user.kind === 'local' && /admin|root/i.test(user.accountName)) ||
      user.kind === 'service';

    const counts = user.machines.map((_, i) =>
      i === 0
        ? user.kind === 'person' || user.kind === 'local'
          ? rng.int(3, 12)
          : rng.int(2, 5)
        : rng.int(1, 4),
    );
    const total = counts.reduce((a, b) => a + b, 0);
    if (total < types.length) counts[0]! += types.length - total;
    let n = 0;
    user.machines.forEach((machine, i) => {
      for (let k = 0; k < counts[i]!; k++, n++) {
        logons.push({
          at: n === 0 ? latest : rng.int(earliest, latest),
          machine,
          user,
          success: true,
          logonType: n < types.length ? types[n]! : rng.pick(types),
          localAdmin,
          domainAdmin,
        });
      }
    });
  }

  // Failures: password sprays, accounts trying machines they never got into, typos on their own.
  const domainUsers = users.filter((u) => u.kind !== 'local');
  for (const machine of machines) {
    if (!machine.onboarded || !rng.chance(0.35)) continue;
    for (let k = rng.int(1, 3); k > 0; k--) {
      const roll = rng.float();
      let user: Logon['user'];
      if (roll < 0.4 && domainUsers.length > 0) {
        user = rng.pick(domainUsers);
      } else if (roll < 0.75 || machine.users.length === 0) {
        user = { accountName: rng.pick(SPRAYED), accountDomain: machine.host ?? 'workgroup', sid: null };
      } else {
        user = rng.pick(machine.users);
      }
      logons.push({
        at: -rng.int(0, HUNTING_RETENTION - MINUTE),
        machine,
        user,
        success: false,
        logonType: rng.pick(FAILED_TYPES),
        localAdmin: false,
        domainAdmin: false,
      });
    }
  }

  logons.sort((a, b) => a.at - b.at);
  const toTicks = (at: Ticks): bigint => BigInt(nowMs) * 10_000n + BigInt(at);
  const rows = logons.map((logon): Value[] => {
    const { machine, user, logonType } = logon;
    const windows = machine.family === 'windows';
    const remote = logonType === 'Network' || logonType === 'RemoteInteractive';
    const fields: Record<string, unknown> = {};
    if (windows) {
      fields['IsLocalLogon'] = !remote;
      if (logon.success && logon.domainAdmin) fields['TokenHasDomainAdminSid'] = true;
      else if (logon.success && rng.chance(0.3)) fields['TokenHasDomainAdminSid'] = false;
    }
    const from = remote ? rng.pick(machines).dto : undefined;
    return [
      toTicks(logon.at),
      machine.dto.id,
      (machine.dto.computerDnsName ?? '').toLowerCase(),
      logon.success ? 'LogonSuccess' : 'LogonFailed',
      logonType,
      user.accountDomain,
      user.accountName,
      logon.success || rng.chance(0.5) ? (user.sid ?? '') : '',
      !windows ? '' : logonType === 'Network' ? rng.pick(['Kerberos', 'NTLM']) : 'Negotiate',
      logon.success ? '' : rng.pick(FAILURES),
      logon.localAdmin,
      rng.int(100_000, 2 ** 40),
      (from?.computerDnsName ?? '').toLowerCase(),
      from?.lastIpAddress ?? '',
      remote ? 'Private' : '',
      remote ? rng.int(49_152, 65_535) : null,
      windows ? JSON.stringify(fields) : '',
      rng.int(1_000, 2 ** 31),
    ];
  });

  const info = machines
    .map((m): Value[] => [
      toTicks(m.lastSeen),
      m.dto.id,
      (m.dto.computerDnsName ?? '').toLowerCase(),
      m.dto.agentVersion,
      m.dto.lastExternalIpAddress,
      m.dto.osArchitecture,
      m.dto.osPlatform,
      m.dto.osBuild,
      m.dto.osVersion ?? m.dto.version ?? '',
      m.dto.isAadJoined,
      m.dto.aadDeviceId ?? '',
      m.dto.rbacGroupName ?? '',
      m.dto.onboardingStatus,
      m.dto.healthStatus,
      m.dto.exposureLevel ?? '',
      rng.int(1_000, 2 ** 31),
    ])
    .sort((a, b) => ((a[0] as bigint) < (b[0] as bigint) ? -1 : 1));

  return {
    DeviceLogonEvents: { columns: DEVICE_LOGON_EVENTS_COLUMNS, rows },
    DeviceInfo: { columns: DEVICE_INFO_COLUMNS, rows: info },
  };
}
