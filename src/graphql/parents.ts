import type { MachineDto, UserDto } from '../defender/types.js';

/**
 * Marks a parent object that holds only what another answer already told about an entity. Its other
 * properties are loaded when, and only when, a query asks for them.
 */
export const PARTIAL = Symbol('partial');

/**
 * A machine known from an alert: the alert carries its `machineId`, `computerDnsName` and `rbacGroupName`, so
 * those, and every relationship (which needs only the id), cost no call for the machine itself.
 */
export interface MachineRef {
  readonly [PARTIAL]: 'alert';
  readonly id: string;
  readonly computerDnsName: string | null;
  readonly rbacGroupName: string | null;
}

/**
 * Machine fields a {@link MachineRef} answers without the machine's record: what the alert carries, and the
 * relationships, which need only the id. The one table the resolvers and the cost planner both read.
 */
export const MACHINE_FREE_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'computerDnsName',
  'rbacGroupName',
  'logonUsers',
  'alerts',
  '__typename',
]);

/** What a `Machine` resolver receives: a full Defender machine record, or what an alert says of it. */
export type MachineParent = MachineDto | MachineRef;

/**
 * A user known by name only: from `Query.user` (the name the caller gave), or from an alert's `relatedUser`
 * (then `alertId` says where its full record is: `GET /api/alerts/{id}/user`).
 */
export interface UserRef {
  readonly [PARTIAL]: 'name' | 'alert';
  readonly id: string;
  readonly accountName: string;
  readonly accountDomain: string | null;
  readonly alertId?: string;
}

/** User fields a {@link UserRef} answers without the user's record, as {@link MACHINE_FREE_FIELDS} for machines. */
export const USER_FREE_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'accountName',
  'accountDomain',
  'machines',
  'alerts',
  '__typename',
]);

/** What a `User` resolver receives: a full Defender user record, or a user known by name only. */
export type UserParent = UserDto | UserRef;

export function isPartial(parent: MachineParent | UserParent): parent is MachineRef | UserRef {
  return PARTIAL in parent;
}

/**
 * What a connection resolver receives: one page of Defender entities, where the page starts in Defender's list
 * (`offset`, which cursors encode) and whether Defender has more after it.
 */
export interface ConnectionParent<T> {
  nodes: T[];
  offset: number;
  hasNextPage: boolean;
}
