import type { MachineDto, UserDto } from '../../defender/types.js';
import type { GraphQLContext } from '../context.js';
import type { MachineParent, UserParent, UserRef } from '../parents.js';
import { kindOf } from '../parents.js';
import type { ByIdSource, EntityType, ParentKind, PerParentSource, SearchSource } from '../sources.js';
import { keyOf, recordSourceOf, relationshipOf, sourceOf } from '../sources.js';

/**
 * How the resolvers load what a parent lacks, by the source table: the full record of a partial parent, and a
 * relationship's items. The cost planner reads the same table, so it counts these very calls.
 */

/** What a per-parent route answers for this parent (an entity or null, or a list), through its loader. */
export function loadRelated(source: PerParentSource, parent: object, ctx: GraphQLContext): Promise<unknown> {
  const key = keyOf(source, parent);
  const loader = ctx.loaders.perParent.get(source.api);
  if (key === undefined || !loader) throw new Error(`no key or loader for ${source.api}`);
  return loader.load(key);
}

/**
 * The full record of a partial parent, from the source its kind has in the table (`kind` for parents that do
 * not mark their kind, alerts); null or undefined when Defender does not have it.
 */
export async function loadRecord<R>(
  type: EntityType,
  parent: object,
  ctx: GraphQLContext,
  kind: ParentKind = kindOf(parent as MachineParent | UserParent),
): Promise<R | null | undefined> {
  const source = recordSourceOf(type, kind);
  if (!source) throw new Error(`${type} has no record source for ${kind} parents`);
  switch (source.kind) {
    case 'byId':
      return byId(source, ctx).load((parent as { id: string }).id) as Promise<R | null>;
    case 'perParent':
      return loadRelated(source, parent, ctx) as Promise<R | null>;
    case 'search':
      return search(type, source, parent as UserRef, ctx) as Promise<R | undefined>;
  }
}

function byId(source: ByIdSource, ctx: GraphQLContext) {
  return source.single === 'machines/{id}' ? ctx.loaders.machineById : ctx.loaders.alertById;
}

/**
 * A user known by name, found among the logon users of the account's machines (`users/{name}/machines`, then
 * `machines/{id}/logonusers` until found): Defender has no route for a user by name.
 */
async function search(
  type: EntityType,
  source: SearchSource,
  user: UserRef,
  ctx: GraphQLContext,
): Promise<UserDto | undefined> {
  const through = sourceOf(type, source.through, 'perParent');
  const then = sourceOf(relationshipOf(type, source.through)!.type, source.then, 'perParent');
  const machines = (await loadRelated(through, user, ctx)) as MachineDto[];
  const wanted = user.id.toLowerCase();
  for (const machine of machines) {
    const users = (await loadRelated(then, machine, ctx)) as UserDto[];
    const match = users.find((u) =>
      user.accountDomain === null ? u.accountName.toLowerCase() === wanted : u.id.toLowerCase() === wanted,
    );
    if (match) return match;
  }
  return undefined;
}
