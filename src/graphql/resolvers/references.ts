import type { AlertResolvers, MachineResolvers, UserResolvers } from '../../generated/resolvers.js';
import { parseAlertId, parseMachineKey, parseUserKey } from '../../defender/ids.js';
import { badUserInput } from '../../errors.js';
import { userRefByName } from '../parents.js';

/**
 * Entities the federation router asks for by key (`_entities`). A representation is data the router, or
 * whoever reaches the subgraph, made up: each key is validated as the root fields validate their ids, so a
 * malformed one is BAD_USER_INPUT with no call, and the lookups go through the request's DataLoaders, so N
 * representations resolved in the same tick batch like N root lookups (`$filter=id in (…)` per batch).
 * They are `async` so that a bad key rejects its own entity: `@apollo/subgraph` calls them inside one
 * `representations.map`, where a synchronous throw would fail every entity of the request.
 */

export const resolveMachineReference: MachineResolvers['__resolveReference'] = async (ref, { loaders }) => {
  if ('id' in ref) {
    const key = parseMachineKey(keyString(ref.id, 'Machine.id'));
    // The `id` key is Defender's id; a computer name there is a mistake, not the other key.
    if (key.kind !== 'id') throw badUserInput(`Machine.id "${key.value}" is not a machine id.`);
    return loaders.machineById.load(key.value);
  }
  const key = parseMachineKey(keyString(ref.computerDnsName, 'Machine.computerDnsName'));
  if (key.kind !== 'name') throw badUserInput('Machine.computerDnsName is not a computer name.');
  return loaders.machineByName.load(key.value);
};

export const resolveAlertReference: AlertResolvers['__resolveReference'] = async (ref, { loaders }) =>
  loaders.alertById.load(parseAlertId(keyString(ref.id, 'Alert.id')));

/** A user is known by its name, as `Query.user` knows it: no call until a field needs one. */
export const resolveUserReference: UserResolvers['__resolveReference'] = async (ref) => {
  if ('id' in ref) {
    const { accountName, accountDomain } = parseUserKey(keyString(ref.id, 'User.id'));
    return userRefByName(accountName, accountDomain);
  }
  const name = keyString(ref.accountName, 'User.accountName');
  const { accountName, accountDomain } = parseUserKey(name);
  // `domain\name` or a UPN is an `id`, not an account name: accepting it here would answer for another key.
  if (accountDomain !== null || accountName !== name.trim()) {
    throw badUserInput('User.accountName must be an account name without a domain.');
  }
  return userRefByName(accountName, null);
};

/** A key field as sent: representations are untyped JSON (`_Any`), whatever the generated types say. */
function keyString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw badUserInput(`${field} must be a string in a representation.`);
  return value;
}
