import type { AlertResolvers, MachineResolvers, UserResolvers } from '../../generated/resolvers.js';
import type { MachineDto, UserDto } from '../../defender/types.js';
import type { GraphQLContext } from '../context.js';
import type { MachineParent, MachineRef, UserParent, UserRef } from '../parents.js';
import { MACHINE_FREE_FIELDS, PARTIAL, USER_FREE_FIELDS, isPartial } from '../parents.js';
import { asksBeyond } from '../selection.js';
import { resolveAlertReference, resolveMachineReference, resolveUserReference } from './references.js';

/**
 * Entities arrive whole (from their own routes or lists) or partial (what an alert says of its machine and
 * user, or the name a caller gave). A partial entity answers what it holds for free and loads its full record
 * only when a query asks for a property it lacks, so `alert { machine { computerDnsName } }` costs nothing
 * beyond the alert, and relationships, which need only an id or a name, never load the record at all.
 */

/** A resolver for each listed property: the parent's own value, or the full record's when it is partial. */
function lazyFields<P extends MachineParent | UserParent, R, K extends keyof R & string>(
  fields: readonly K[],
  load: (parent: P & (MachineRef | UserRef), ctx: GraphQLContext) => Promise<R | null | undefined>,
): Record<K, (parent: P, args: unknown, ctx: GraphQLContext) => unknown> {
  const resolve = (field: K) => async (parent: P, _: unknown, ctx: GraphQLContext) => {
    if (!isPartial(parent)) return (parent as unknown as R)[field];
    const record = await load(parent as P & (MachineRef | UserRef), ctx);
    return record ? record[field] : null;
  };
  return Object.fromEntries(fields.map((field) => [field, resolve(field)])) as Record<
    K,
    (parent: P, args: unknown, ctx: GraphQLContext) => unknown
  >;
}

const MACHINE_RECORD_FIELDS = [
  'mergedIntoMachineId',
  'isPotentialDuplication',
  'isExcluded',
  'exclusionReason',
  'firstSeen',
  'lastSeen',
  'osPlatform',
  'osVersion',
  'osProcessor',
  'version',
  'lastIpAddress',
  'lastExternalIpAddress',
  'agentVersion',
  'osBuild',
  'healthStatus',
  'deviceValue',
  'rbacGroupId',
  'riskScore',
  'exposureLevel',
  'isAadJoined',
  'aadDeviceId',
  'machineTags',
  'defenderAvStatus',
  'onboardingStatus',
  'osArchitecture',
  'managedBy',
  'managedByStatus',
  'ipAddresses',
  'vmMetadata',
] as const satisfies readonly (keyof MachineDto)[];

export const Machine: MachineResolvers = {
  __resolveReference: resolveMachineReference,
  ...(lazyFields<MachineParent, MachineDto, (typeof MACHINE_RECORD_FIELDS)[number]>(
    MACHINE_RECORD_FIELDS,
    (machine, { loaders }) => loaders.machineById.load(machine.id),
  ) as MachineResolvers),
  logonUsers: (machine, _, { loaders }) => loaders.machineLogonUsers.load(machine.id),
  alerts: (machine, _, { loaders }) => loaders.machineAlerts.load(machine.id),
};

export const Alert: AlertResolvers = {
  __resolveReference: resolveAlertReference,
  // Defender answers 404 on /alerts/{id}/user exactly when the alert has no relatedUser: no call needed to
  // know it, and when it has one, the name is all most queries need.
  user: async (alert, _, { loaders }, info) => {
    const related = alert.relatedUser;
    if (related === null) return null;
    const user = {
      [PARTIAL]: 'alert',
      id: `${related.domainName}\\${related.userName}`,
      accountName: related.userName,
      accountDomain: related.domainName,
      alertId: alert.id,
    } satisfies UserRef;
    if (!asksBeyond(info, USER_FREE_FIELDS)) return user;
    // As for `machine`: when the record is needed and Defender answers 404 for it, the user is null.
    return (await loaders.alertUser.load(alert.id)) ? user : null;
  },
  machine: async (alert, _, { loaders }, info) => {
    const machine = {
      [PARTIAL]: 'alert',
      id: alert.machineId,
      computerDnsName: alert.computerDnsName,
      rbacGroupName: alert.rbacGroupName,
    } satisfies MachineRef;
    if (!asksBeyond(info, MACHINE_FREE_FIELDS)) return machine;
    // The query needs the record, so it decides: a machine Defender no longer returns (404, or absent from a
    // batch) is null, as `Query.machine` is, rather than an error on each of its fields. The fields then read
    // the same record from the loader, with no second call.
    return (await loaders.machineById.load(alert.machineId)) ? machine : null;
  },
  evidence: async (alert, _, { loaders }) =>
    loaders.evidenceOmitted.has(alert)
      ? ((await loaders.alertById.load(alert.id))?.evidence ?? [])
      : alert.evidence,
};

const USER_RECORD_FIELDS = [
  'accountSid',
  'firstSeen',
  'lastSeen',
  'mostPrevalentMachineId',
  'leastPrevalentMachineId',
  'logonTypes',
  'logOnMachinesCount',
  'isDomainAdmin',
  'isOnlyNetworkUser',
] as const satisfies readonly (keyof UserDto)[];

/**
 * The full record of a partial user: an alert's user from `alerts/{id}/user`; a user known by name from one of
 * its machines' logon users (`users/{name}/machines`, then `machines/{id}/logonusers` until found).
 */
async function loadUserRecord(user: UserRef, ctx: GraphQLContext): Promise<UserDto | null | undefined> {
  if (user.alertId !== undefined) return ctx.loaders.alertUser.load(user.alertId);
  const machines = await ctx.loaders.userMachines.load(user.accountName);
  const wanted = user.id.toLowerCase();
  for (const machine of machines) {
    const users = await ctx.loaders.machineLogonUsers.load(machine.id);
    const match = users.find((u) =>
      user.accountDomain === null ? u.accountName.toLowerCase() === wanted : u.id.toLowerCase() === wanted,
    );
    if (match) return match;
  }
  return undefined;
}

export const User: UserResolvers = {
  __resolveReference: resolveUserReference,
  ...(lazyFields<UserParent, UserDto, (typeof USER_RECORD_FIELDS)[number]>(
    USER_RECORD_FIELDS,
    loadUserRecord,
  ) as UserResolvers),
  machines: (user, _, { loaders }) => loaders.userMachines.load(user.accountName),
  alerts: (user, _, { loaders }) => loaders.userAlerts.load(user.accountName),
};
