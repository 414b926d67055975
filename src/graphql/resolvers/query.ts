import type { QueryResolvers } from '../../generated/resolvers.js';
import { parseAlertId, parseMachineKey, parseUserKey } from '../../defender/ids.js';
import { listAlerts, listMachines } from '../../defender/resources.js';
import { alertFilter, machineFilter } from '../filters.js';
import { checkFirst, decodeCursor } from './connection.js';

export const Query: QueryResolvers = {
  machine: (_, { id }, { loaders }) => {
    const key = parseMachineKey(id);
    return key.kind === 'id' ? loaders.machineById.load(key.value) : loaders.machineByName.load(key.value);
  },

  machines: async (_, { filter, first, after }, ctx) => {
    const top = checkFirst(first, ctx.maxPageSize);
    const offset = decodeCursor(after);
    const page = await listMachines(
      ctx.client,
      { filter: machineFilter(filter), top: top + 1, skip: offset },
      ctx.scope,
    );
    return { nodes: page.items.slice(0, top), offset, hasNextPage: page.items.length > top };
  },

  alert: (_, { id }, { loaders }) => loaders.alertById.load(parseAlertId(id)),

  alerts: async (_, { filter, first, after }, ctx) => {
    const top = checkFirst(first, ctx.maxPageSize);
    const offset = decodeCursor(after);
    const page = await listAlerts(
      ctx.client,
      { filter: alertFilter(filter), top: top + 1, skip: offset },
      ctx.scope,
    );
    return { nodes: page.items.slice(0, top), offset, hasNextPage: page.items.length > top };
  },

  user: (_, { id }) => {
    const { accountName, accountDomain } = parseUserKey(id);
    return {
      id: accountDomain === null ? accountName : `${accountDomain}\\${accountName}`,
      accountName,
      accountDomain,
    };
  },

  rateLimit: (_, __, { limiter }) => limiter.budget(),
};
