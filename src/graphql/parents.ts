import type { AlertDto, MachineDto, UserDto } from '../defender/types.js';
import type { EmbeddedSource, ParentKind } from './sources.js';

/**
 * Marks a parent object that holds only what another answer already told about an entity, and says which kind
 * of partial parent it is (sources.ts says what each kind carries). Its other properties are loaded when, and
 * only when, a query asks for them.
 */
export const PARTIAL = Symbol('partial');

/**
 * A machine known from an alert: the alert carries its `machineId`, `computerDnsName` and `rbacGroupName`, so
 * those, and every relationship (which needs only the id), cost no call for the machine itself.
 */
export interface MachineRef {
  readonly [PARTIAL]: 'alertRef';
  readonly id: string;
  readonly computerDnsName: string | null;
  readonly rbacGroupName: string | null;
}

/** What a `Machine` resolver receives: a full Defender machine record, or what an alert says of it. */
export type MachineParent = MachineDto | MachineRef;

/**
 * A user known by name only: from `Query.user` (the name the caller gave), or from an alert's `relatedUser`
 * (then `alertId` says where its full record is: `GET /api/alerts/{id}/user`).
 */
export interface UserRef {
  readonly [PARTIAL]: 'nameRef' | 'alertRef';
  readonly id: string;
  readonly accountName: string;
  readonly accountDomain: string | null;
  readonly alertId?: string;
}

/** What a `User` resolver receives: a full Defender user record, or a user known by name only. */
export type UserParent = UserDto | UserRef;

export function isPartial(parent: MachineParent | UserParent): parent is MachineRef | UserRef {
  return PARTIAL in parent;
}

/** Which kind of parent this is, for the source table. */
export function kindOf(parent: MachineParent | UserParent): ParentKind {
  return isPartial(parent) ? parent[PARTIAL] : 'record';
}

/** The machine an alert is on, as the alert describes it. */
export function machineRefOf(alert: AlertDto): MachineRef {
  return {
    [PARTIAL]: 'alertRef',
    id: alert.machineId,
    computerDnsName: alert.computerDnsName,
    rbacGroupName: alert.rbacGroupName,
  };
}

/** The user an alert names; null when it names none (and Defender's `alerts/{id}/user` would answer 404). */
export function userRefOf(alert: AlertDto): UserRef | null {
  const related = alert.relatedUser;
  if (related === null) return null;
  return {
    [PARTIAL]: 'alertRef',
    id: `${related.domainName}\\${related.userName}`,
    accountName: related.userName,
    accountDomain: related.domainName,
    alertId: alert.id,
  };
}

/** The child an embedded source reads from an alert (sources.ts): its machine, or its user (or null). */
export function refFrom(source: EmbeddedSource, alert: AlertDto): MachineRef | UserRef | null {
  return source.from === 'machineId' ? machineRefOf(alert) : userRefOf(alert);
}

/** A user known by the name a caller gave (`domain\name` when the domain is known). */
export function userRefByName(accountName: string, accountDomain: string | null): UserRef {
  const id = accountDomain === null ? accountName : `${accountDomain}\\${accountName}`;
  return { [PARTIAL]: 'nameRef', id, accountName, accountDomain };
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
