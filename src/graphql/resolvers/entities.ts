import type { AlertResolvers, MachineResolvers, UserResolvers } from '../../generated/resolvers.js';
import type { UserDto } from '../../defender/types.js';
import type { GraphQLContext } from '../context.js';
import type { UserParent } from '../parents.js';

export const Machine: MachineResolvers = {
  logonUsers: (machine, _, { loaders }) => loaders.machineLogonUsers.load(machine.id),
  alerts: (machine, _, { loaders }) => loaders.machineAlerts.load(machine.id),
};

export const Alert: AlertResolvers = {
  // An alert without a relatedUser is one whose /user route answers 404: no call needed to know it.
  user: (alert, _, { loaders }) => (alert.relatedUser === null ? null : loaders.alertUser.load(alert.id)),
  machine: (alert, _, { loaders }) => loaders.machineById.load(alert.machineId),
  evidence: async (alert, _, { loaders }) =>
    loaders.evidenceOmitted.has(alert)
      ? ((await loaders.alertById.load(alert.id))?.evidence ?? [])
      : alert.evidence,
};

/** Fields Defender only sends in a full user record (logon users, an alert's user). */
type UserDetail = Exclude<keyof UserDto, 'id' | 'accountName' | 'accountDomain'>;

/**
 * A User known only by name (from `Query.user`) has no details until asked: then they come from the record
 * of one of its machines' logon users, which costs `users/{name}/machines` plus one `machines/{id}/logonusers`.
 */
async function detail<K extends UserDetail>(
  user: UserParent,
  field: K,
  ctx: GraphQLContext,
): Promise<UserDto[K] | null> {
  if (field in user) return (user as UserDto)[field];
  const record = await loadUserRecord(user, ctx);
  return record ? record[field] : null;
}

async function loadUserRecord(user: UserParent, ctx: GraphQLContext): Promise<UserDto | undefined> {
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

const details = Object.fromEntries(
  (
    [
      'accountSid',
      'firstSeen',
      'lastSeen',
      'mostPrevalentMachineId',
      'leastPrevalentMachineId',
      'logonTypes',
      'logOnMachinesCount',
      'isDomainAdmin',
      'isOnlyNetworkUser',
    ] as const
  ).map((field) => [field, (user: UserParent, _: unknown, ctx: GraphQLContext) => detail(user, field, ctx)]),
) as UserResolvers;

export const User: UserResolvers = {
  ...details,
  machines: (user, _, { loaders }) => loaders.userMachines.load(user.accountName),
  alerts: (user, _, { loaders }) => loaders.userAlerts.load(user.accountName),
};
