import type { FieldNode, GraphQLFieldResolver, GraphQLResolveInfo } from 'graphql';
import type { AlertResolvers, MachineResolvers, UserResolvers } from '../../generated/resolvers.js';
import type { AlertDto, MachineDto, UserDto } from '../../defender/types.js';
import type { GraphQLContext } from '../context.js';
import type { MachineParent, UserParent } from '../parents.js';
import type { LevelAhead } from '../hunting-plans.js';
import type { EntityType, HuntingSource, ParentKind } from '../sources.js';
import { isPartial, kindOf, refFrom } from '../parents.js';
import { asksBeyond, selectedFields } from '../selection.js';
import {
  childKeyOf,
  distinctKeyOf,
  huntingGives,
  huntingSourceOf,
  isFree,
  keyOf,
  relationshipOf,
  sourceOf,
} from '../sources.js';
import { edgeOf } from '../../planner/fanout.js';
import { checkFirst } from './connection.js';
import { loadRecord, loadRelated } from './records.js';
import { resolveAlertReference, resolveMachineReference, resolveUserReference } from './references.js';

/** Every kind of parent (the compiler checks the list is whole). */
const PARENT_KINDS = Object.keys({
  record: 0,
  alertRef: 0,
  nameRef: 0,
  listed: 0,
  huntedRef: 0,
} satisfies Record<ParentKind, 0>) as ParentKind[];

/**
 * Entities arrive whole (from their own routes or lists) or partial (what an alert says of its machine and
 * user, or the name a caller gave); sources.ts says what each kind carries and which route answers the rest.
 * A partial entity answers what it holds for free and loads its full record only when a query asks for a
 * property it lacks, so `alert { machine { computerDnsName } }` costs nothing beyond the alert, and
 * relationships, which need only an id or a name, never load the record at all.
 */

/**
 * A resolver for each listed property: the parent's own value, or, when the parent is partial, the full
 * record's, loaded from the source the table gives its kind.
 */
function lazyFields<R, K extends keyof R & string>(
  type: 'Machine' | 'User',
  fields: readonly K[],
): Record<K, (parent: MachineParent | UserParent, args: unknown, ctx: GraphQLContext) => unknown> {
  // Not async: a property the parent holds is answered at once, without a promise per field.
  const resolve = (field: K) => (parent: MachineParent | UserParent, _: unknown, ctx: GraphQLContext) => {
    if (!isPartial(parent) || isFree(type, kindOf(parent), field)) return (parent as unknown as R)[field];
    return loadRecord<R>(type, parent, ctx).then((record) => (record ? record[field] : null));
  };
  return Object.fromEntries(fields.map((field) => [field, resolve(field)])) as Record<
    K,
    (parent: MachineParent | UserParent, args: unknown, ctx: GraphQLContext) => unknown
  >;
}

const MACHINE_RECORD_FIELDS = [
  // Carried by an alert's ref and by a machine hunting named (sources.ts): read from the record otherwise.
  'computerDnsName',
  'rbacGroupName',
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
  ...(lazyFields<MachineDto, (typeof MACHINE_RECORD_FIELDS)[number]>(
    'Machine',
    MACHINE_RECORD_FIELDS,
  ) as MachineResolvers),
  logonUsers: related<UserDto[]>('Machine', 'logonUsers') as MachineResolvers['logonUsers'],
  alerts: related<AlertDto[]>('Machine', 'alerts') as MachineResolvers['alerts'],
};

export const Alert: AlertResolvers = {
  __resolveReference: resolveAlertReference,
  user: embedded('user') as AlertResolvers['user'],
  machine: embedded('machine') as AlertResolvers['machine'],
  // Nullable: a failed lookup nulls this alert's evidence alone, not the alert nor the list it is in.
  evidence: async (alert, _, ctx) =>
    isFree('Alert', ctx.loaders.evidenceOmitted.has(alert) ? 'listed' : 'record', 'evidence')
      ? alert.evidence
      : ((await loadRecord<AlertDto>('Alert', alert, ctx, 'listed'))?.evidence ?? []),
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

export const User: UserResolvers = {
  __resolveReference: resolveUserReference,
  ...(lazyFields<UserDto, (typeof USER_RECORD_FIELDS)[number]>('User', USER_RECORD_FIELDS) as UserResolvers),
  machines: related<MachineDto[]>('User', 'machines') as UserResolvers['machines'],
  alerts: related<AlertDto[]>('User', 'alerts') as UserResolvers['alerts'],
};

/**
/**
 * A relationship answered by a per-parent route: the route and key the source table gives; or, when the table
 * gives it a hunting source, `DEFENDER_PLANS=auto`, no `first` (which keeps Defender's order, and hunting's
 * differs) and the selection asks only what hunting gives, by the level's plan (hunting-plans.ts), which may
 * still choose the route. `first` keeps the first n items in Defender's order (a bad one is refused before the
 * call); what the list held is told to the operation's fan-out recorder, for the planner's expected costs. Its
 * loader rejects this parent's key alone when the call fails, and the list is nullable, so the error stops at
 * this field: the parent, its other fields and the other parents of a list keep their data.
 */
function related<R extends object[]>(
  type: 'Machine' | 'User',
  field: string,
): (
  parent: MachineParent | UserParent,
  args: { first?: number | null },
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
) => R | Promise<R> {
  const source = sourceOf(type, field, 'perParent');
  const hunting = huntingSourceOf(type, field);
  const { type: itemType } = relationshipOf(type, field)!;
  const edges = edgesOf(type, field);
  const childKey = (item: object) => childKeyOf(itemType, item);
  /** The parent's list as delivered (its first `keep` items), told to the fan-out recorder. */
  const deliver = (
    parent: MachineParent | UserParent,
    items: R,
    keep: number | undefined,
    ctx: GraphQLContext,
  ) => {
    const delivered = (keep === undefined ? items : items.slice(0, keep)) as R;
    ctx.fanout.observe(
      edges[kindOf(parent)],
      distinctKeyOf(source, parent) ?? '',
      items.length,
      delivered,
      childKey,
    );
    return delivered;
  };
  // Not async: a list a level answered ahead (hunting-plans.ts) is returned at once, without a promise per parent.
  return (parent, { first }, ctx, info) => {
    const keep = first === null || first === undefined ? undefined : checkFirst(first, ctx.maxPageSize);
    const key = keyOf(source, parent);
    const level =
      hunting !== undefined && ctx.hunting.enabled ? huntingLevel(hunting, itemType, info) : undefined;
    if (!(level?.hunted && key !== undefined && keep === undefined))
      return (loadRelated(source, parent, ctx) as Promise<R>).then((items) =>
        deliver(parent, items, keep, ctx),
      );
    const ahead = ctx.hunting.answeredAhead(hunting!, level.path, key, level.statistics) as R | undefined;
    if (ahead !== undefined) return deliver(parent, ahead, undefined, ctx);
    return (ctx.hunting.load(hunting!, level.path, key, level.statistics, level.ahead) as Promise<R>).then(
      (items) => deliver(parent, items, undefined, ctx),
    );
  };
}

/** The fan-out recorder's edge of `type.field` from each kind of parent, named once. */
function edgesOf(type: 'Machine' | 'User', field: string): Record<ParentKind, string> {
  return Object.fromEntries(PARENT_KINDS.map((kind) => [kind, edgeOf(type, kind, field)])) as Record<
    ParentKind,
    string
  >;
}

/** What every parent of one relationship level shares: its path, and whether hunting can give what it asks. */
interface HuntingLevel {
  readonly variables: unknown;
  readonly path: string;
  /** The selection asks only what hunting gives. */
  readonly hunted: boolean;
  /** It asks user properties only hunting's second query gives. */
  readonly statistics: boolean;
  /** The hunted levels its items go on to, which it answers ahead when they cost no call. */
  readonly ahead: readonly LevelAhead[];
}

/**
 * The level a relationship field is resolved at, worked out once per field of the operation and not once per
 * parent: graphql-js (and graphql-jit) hand every parent of a level the same `fieldNodes` array, and the answer
 * depends only on it, the path it stands at (the same for every parent) and the operation's variables.
 */
const levels = new WeakMap<readonly FieldNode[], HuntingLevel>();

function huntingLevel(hunting: HuntingSource, itemType: EntityType, info: GraphQLResolveInfo): HuntingLevel {
  const memo = levels.get(info.fieldNodes);
  if (memo && memo.variables === info.variableValues) return memo;
  const path = levelPath(info);
  const level: HuntingLevel = {
    variables: info.variableValues,
    path,
    hunted: !asksBeyond(info, (f) => huntingGives(hunting, f)),
    statistics: asksBeyond(info, (f) => !(hunting.secondQuery ?? []).includes(f)),
    ahead: levelsAhead(itemType, info.fieldNodes, path, info.fragments, info.variableValues),
  };
  levels.set(info.fieldNodes, level);
  return level;
}

/**
 * The hunted levels the items of a level (of `type`, asked for by `nodes` at `path`) go on to: each of their
 * relationship fields with a hunting source, asked without arguments (`first` keeps Defender's order: the
 * route) and for what hunting gives only, by response key, worked out as {@link huntingLevel} works out the
 * level when its resolvers run; and, the same way, the levels after each.
 */
function levelsAhead(
  type: EntityType,
  nodes: readonly FieldNode[],
  path: string,
  fragments: GraphQLResolveInfo['fragments'],
  variables: GraphQLResolveInfo['variableValues'],
): LevelAhead[] {
  const byResponseKey = new Map<string, FieldNode[]>();
  for (const node of nodes) {
    for (const field of selectedFields(node.selectionSet, fragments, variables)) {
      const responseKey = field.alias?.value ?? field.name.value;
      byResponseKey.set(responseKey, [...(byResponseKey.get(responseKey) ?? []), field]);
    }
  }
  const ahead: LevelAhead[] = [];
  for (const [responseKey, fields] of byResponseKey) {
    const name = fields[0]!.name.value;
    const source = huntingSourceOf(type, name);
    if (!source || fields.some((f) => f.name.value !== name || (f.arguments?.length ?? 0) > 0)) continue;
    const asked = fields.flatMap((f) =>
      selectedFields(f.selectionSet, fragments, variables).map((child) => child.name.value),
    );
    if (!asked.every((f) => huntingGives(source, f))) continue;
    const childPath = `${path}.${responseKey}`;
    ahead.push({
      source,
      route: sourceOf(type, name, 'perParent'),
      path: childPath,
      statistics: asked.some((f) => (source.secondQuery ?? []).includes(f)),
      next: levelsAhead(relationshipOf(type, name)!.type, fields, childPath, fragments, variables),
    });
  }
  return ahead;
}

/** The response path of a field without list indices: every parent of one level shares it. */
function levelPath(info: GraphQLResolveInfo): string {
  let path = '';
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) {
    if (typeof p.key === 'string') path = path === '' ? p.key : `${p.key}.${path}`;
  }
  return path;
}

/**
 * An alert's machine or user, read from the alert: free while the query asks only what the alert carries. When
 * it needs the record, the record decides: an entity Defender no longer returns (404, or absent from a batch)
 * is null, as `Query.machine` is, rather than an error on each of its fields; the fields then read the same
 * record from the loader, with no second call.
 */
function embedded(field: string): GraphQLFieldResolver<AlertDto, GraphQLContext> {
  const source = sourceOf('Alert', field, 'embedded');
  const { type } = relationshipOf('Alert', field)!;
  // Not async: a ref answered from the alert alone needs no promise.
  return (alert, _, ctx, info) => {
    const ref = refFrom(source, alert);
    ctx.fanout.observe(
      edgeOf('Alert', ctx.loaders.evidenceOmitted.has(alert) ? 'listed' : 'record', field),
      alert.id,
      ref === null ? 0 : 1,
      ref === null ? [] : [childKeyOf(type, ref)],
    );
    if (ref === null || !asksBeyond(info, (f) => isFree(type, kindOf(ref), f))) return ref;
    return loadRecord(type, ref, ctx).then((record) => (record ? ref : null));
  };
}
