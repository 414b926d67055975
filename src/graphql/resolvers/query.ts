import type { QueryResolvers } from '../../generated/resolvers.js';
import { parseAlertId, parseMachineKey, parseUserKey } from '../../defender/ids.js';
import type { ListOptions, Page } from '../../defender/resources.js';
import { listAlerts, listMachines } from '../../defender/resources.js';
import type { GraphQLContext } from '../context.js';
import type { ConnectionParent } from '../parents.js';
import { userRefByName } from '../parents.js';
import { alertFilter, machineFilter } from '../filters.js';
import { pageWindow } from './connection.js';

/** One page of a list route, fetched with one extra item to learn whether another page follows. */
async function page<T>(
  list: (options: ListOptions) => Promise<Page<T>>,
  filter: string | undefined,
  first: number,
  after: string | null | undefined,
  ctx: GraphQLContext,
): Promise<ConnectionParent<T>> {
  const { top, offset } = pageWindow(first, after, ctx.maxPageSize);
  const { items } = await list({ filter, top: top + 1, skip: offset });
  return { nodes: items.slice(0, top), offset, hasNextPage: items.length > top };
}

export const Query: QueryResolvers = {
  machine: (_, { id }, { loaders }) => {
    const key = parseMachineKey(id);
    return key.kind === 'id' ? loaders.machineById.load(key.value) : loaders.machineByName.load(key.value);
  },

  machines: (_, { filter, first, after }, ctx) =>
    page((options) => listMachines(ctx.client, options, ctx.scope), machineFilter(filter), first, after, ctx),

  alert: (_, { id }, { loaders }) => loaders.alertById.load(parseAlertId(id)),

  alerts: (_, { filter, first, after }, ctx) =>
    page((options) => listAlerts(ctx.client, options, ctx.scope), alertFilter(filter), first, after, ctx),

  user: (_, { id }) => {
    const { accountName, accountDomain } = parseUserKey(id);
    return userRefByName(accountName, accountDomain);
  },

  // The budget changes with every call: an operation that shows it must not be answered from a stored result.
  rateLimit: (_, __, { limiter, scope }) => {
    scope.stats.freshUntil = 0;
    return limiter.budget();
  },
};
