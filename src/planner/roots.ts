import { parseAlertId, parseMachineKey, parseUserKey } from '../defender/ids.js';
import { BATCH_UPDATE_API } from '../defender/apis.js';
import { alertListRequest, machineListRequest } from '../defender/resources.js';
import { BATCH_UPDATE_MAX_IDS } from '../defender/writes.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { AlertFilter, MachineFilter, UpdateAlertInput } from '../generated/resolvers.js';
import { alertFilter, machineFilter } from '../graphql/filters.js';
import { userRefByName } from '../graphql/parents.js';
import { pageWindow } from '../graphql/resolvers/connection.js';
import { PATCH_MAX_IDS, alertIdsOf, alertPatchOf } from '../graphql/resolvers/mutation.js';
import type { ByIdSource, ByNameSource, PageSource, Relationship, Source } from '../graphql/sources.js';
import { SOURCES, relationshipOf } from '../graphql/sources.js';
import { known, oneOf, unknown } from './entities.js';
import type { PlannedField } from './operation.js';
import type { Charge } from './tally.js';
import type { Planner } from './walk.js';

/** The key a root lookup was given, parsed as its resolver parses it: which kind, and its value. */
interface RootKey {
  readonly when: 'id' | 'name';
  readonly value: string;
}

/** How each root lookup reads its `id` argument (ids.ts, as query.ts does); a bad one is BAD_USER_INPUT. */
const ROOT_KEYS: Readonly<Record<string, (id: string) => RootKey>> = {
  machine: (id) => {
    const key = parseMachineKey(id);
    // Defender matches names case-insensitively: one name is one item of a batch, whatever its case.
    return key.kind === 'id'
      ? { when: 'id', value: key.value }
      : { when: 'name', value: key.value.toLowerCase() };
  },
  alert: (id) => ({ when: 'id', value: parseAlertId(id) }),
};

/** A root field waiting for its share of a batched lookup. */
interface Lookup {
  readonly field: PlannedField;
  readonly relationship: Relationship;
  readonly id: string;
}

/**
 * The root fields: pages and users walked at once; lookups by id or name gathered across the operation, as the
 * batching loaders gather them, and counted together. A bad id or filter fails its own field, with no call (the
 * resolver refuses it the same way); the rest of the operation is still estimated.
 */
export async function planRoots(planner: Planner, fields: readonly PlannedField[]): Promise<void> {
  const pending = new Map<Source, Lookup[]>();
  for (const field of fields) {
    const write = WRITES[field.name];
    if (write) {
      await write(planner, field).catch(refusedInput);
      continue;
    }
    const relationship = relationshipOf('Query', field.name);
    if (!relationship) continue;
    try {
      const key = ROOT_KEYS[field.name]?.(field.args['id'] as string);
      const source = relationship.sources.find((s) => !('when' in s) || s.when === key?.when);
      const lookup = { field, relationship, id: key?.value ?? '' };
      if (source?.kind === 'byId' || source?.kind === 'byName') {
        pending.set(source, [...(pending.get(source) ?? []), lookup]);
      } else if (source?.kind === 'page') await planPage(planner, field, relationship, source);
      else if (source?.kind === 'argument') await planUser(planner, field, relationship);
    } catch (error) {
      if (!(error instanceof GatewayError && error.code === ErrorCode.BadUserInput)) throw error;
    }
  }
  // In the table's order, so that which of two roots counts a shared call first never depends on the query's.
  for (const relationship of Object.values(SOURCES.Query.relationships) as Relationship[]) {
    for (const source of relationship.sources) {
      const lookups = pending.get(source) ?? [];
      if (source.kind === 'byId' && lookups.length > 0) await planLookups(planner, source, lookups);
      if (source.kind === 'byName' && lookups.length > 0) await planNames(planner, source, lookups);
    }
  }
}

/** Lookups by id: each looked-up entity is known when cached, else zero or one. */
async function planLookups(planner: Planner, source: ByIdSource, lookups: readonly Lookup[]): Promise<void> {
  const answers = await planner.lookups(
    source,
    lookups.map(({ id }) => id),
    rootCharge(lookups[0]!.field),
  );
  for (const [i, { field, relationship }] of lookups.entries()) {
    await planner.entities(
      field,
      { type: relationship.type, kind: source.yields, entities: oneOf(answers[i]) },
      [field.name],
    );
  }
}

/** Names always go as batched `computerDnsName in (…)` filters on the list route, one call per batch. */
async function planNames(planner: Planner, source: ByNameSource, lookups: readonly Lookup[]): Promise<void> {
  const batches = Math.ceil(new Set(lookups.map(({ id }) => id)).size / planner.options[source.batchedBy]);
  if (batches > 0)
    planner.tally.add(
      source.api,
      { min: batches, max: batches, expected: batches },
      rootCharge(lookups[0]!.field),
    );
  for (const { field, relationship } of lookups) {
    await planner.entities(
      field,
      { type: relationship.type, kind: source.yields, entities: unknown(0, 1, false) },
      [field.name],
    );
  }
}

/** A list page: the request its resolver sends (filter and window checked as it checks them), then its nodes. */
async function planPage(
  planner: Planner,
  field: PlannedField,
  relationship: Relationship,
  source: PageSource,
): Promise<void> {
  const { first, after, filter } = field.args;
  const { top, offset } = pageWindow(
    first as number,
    after as string | undefined,
    planner.options.maxPageSize,
  );
  const request =
    relationship.type === 'Machine'
      ? machineListRequest({ filter: machineFilter(filter as MachineFilter), top: top + 1, skip: offset })
      : alertListRequest({ filter: alertFilter(filter as AlertFilter), top: top + 1, skip: offset });
  const entities = await planner.page(request, top, rootCharge(field));
  const origin = { path: [field.name], field: field.name, kind: 'page' as const, perParent: top };
  await planner.connection(field, { type: relationship.type, kind: source.yields, entities, origin }, [
    field.name,
  ]);
}

/** A user by name: known at once, as `Query.user` makes it from the argument alone. */
async function planUser(planner: Planner, field: PlannedField, relationship: Relationship): Promise<void> {
  const { accountName, accountDomain } = parseUserKey(field.args['id'] as string);
  await planner.entities(
    field,
    {
      type: relationship.type,
      kind: 'nameRef',
      entities: known([userRefByName(accountName, accountDomain)]),
    },
    [field.name],
  );
}

/** Calls made for a root field. */
function rootCharge(field: PlannedField, parentType = 'Query'): Charge {
  return { path: [field.name], parentType, relationship: true };
}

/** A field that fails on bad input costs nothing (its resolver refuses it before any call). */
function refusedInput(error: unknown): void {
  if (!(error instanceof GatewayError && error.code === ErrorCode.BadUserInput)) throw error;
}

/**
 * The mutations, as their resolvers spend (graphql/resolvers/mutation.ts): the input checked as they check it,
 * then the writes on their own APIs, the reads around a batch, and the selection on the alerts they answer,
 * which are records (Defender's answer, or read back).
 */
const WRITES: Readonly<Record<string, (planner: Planner, field: PlannedField) => Promise<void>>> = {
  updateAlert: async (planner, field) => {
    parseAlertId(field.args['id'] as string);
    alertPatchOf(field.args['input'] as UpdateAlertInput);
    const charge = rootCharge(field, 'Mutation');
    planner.tally.add('alerts/{id}:patch', { min: 1, max: 1, expected: 1 }, charge);
    await planner.entities(field, { type: 'Alert', kind: 'record', entities: unknown(0, 1, false) }, [
      field.name,
    ]);
  },
  updateAlerts: async (planner, field) => {
    const ids = alertIdsOf(field.args['ids'] as string[]);
    alertPatchOf(field.args['input'] as UpdateAlertInput);
    const charge = rootCharge(field, 'Mutation');
    const n = ids.length;
    if (n <= PATCH_MAX_IDS) {
      planner.tally.add('alerts/{id}:patch', { min: n, max: n, expected: n }, charge);
    } else {
      const batches = Math.ceil(n / BATCH_UPDATE_MAX_IDS);
      planner.tally.add(BATCH_UPDATE_API, { min: batches, max: batches, expected: batches }, charge);
      // Read before (what the cache lacks) and read back (all of them, anew after the write).
      const cached = await planner.options.lookup(ids.map((id) => ({ api: 'alerts/{id}', id })));
      const reads = (count: number) => Math.ceil(count / planner.options.batchSize);
      const before = reads(cached.filter((answer) => !answer).length);
      const after = reads(n);
      planner.tally.add('alerts', { min: after, max: before + after, expected: before + after }, charge);
    }
    await planner.entities(field, { type: 'Alert', kind: 'record', entities: unknown(0, n, false) }, [
      field.name,
    ]);
  },
};
