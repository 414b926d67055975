import type { CachedAnswer } from '../cache/entity-cache.js';
import type { DefenderApi } from './apis.js';
import type { CallScope, DefenderClient, DefenderRequest } from './client.js';
import type { AlertDto, MachineDto, ODataCollection } from './types.js';
import { ErrorCode, GatewayError } from '../errors.js';
import { isIn } from './odata.js';

/**
 * Defender's read routes as typed functions: each knows its route's not-found semantics and checks the
 * shape of what came back. None of them knows about GraphQL.
 */

export interface Page<T> {
  readonly items: T[];
}

export interface ListOptions {
  readonly filter: string | undefined;
  readonly top: number;
  readonly skip: number;
}

/** The exact request of a machines page, so that a cost estimate can look for it in the cache. */
export function machineListRequest(options: ListOptions): DefenderRequest {
  return { api: 'machines', query: listQuery(options) };
}

/** The exact request of an alerts page; evidence costs nothing more when asked for in the list. */
export function alertListRequest(options: ListOptions): DefenderRequest {
  return { api: 'alerts', query: { ...listQuery(options), $expand: 'evidence' } };
}

export async function listMachines(
  client: DefenderClient,
  options: ListOptions,
  scope: CallScope,
): Promise<Page<MachineDto>> {
  const answer = await client.get(machineListRequest(options), scope);
  // Defender documents a 404 on /machines when the tenant has no recent machines: an empty page.
  const items = answer.status === 404 ? [] : collection<MachineDto>(answer);
  if (!answer.fromCache) await prime(client, 'machines/{id}', items, scope);
  return { items };
}

export async function listAlerts(
  client: DefenderClient,
  options: ListOptions,
  scope: CallScope,
): Promise<Page<AlertDto>> {
  const answer = await client.get(alertListRequest(options), scope);
  const items = collection<AlertDto>(requireFound(answer, 'alerts'));
  return { items };
}

/**
 * Machines by computer name, in the order asked, null where none has that name. Names never go into the path:
 * `machines/{name}` would let a name such as `findbytag` reach another API. They go as one
 * `$filter=computerDnsName in (…)` call per chunk, matched case-insensitively, and each machine found is cached
 * as its own by id. A chunk whose call fails puts its error in the slots of its own names only, so one failed
 * call never fails the names another call answered.
 */
export async function getMachinesByNames(
  client: DefenderClient,
  names: readonly string[],
  chunkSize: number,
  scope: CallScope,
): Promise<(MachineDto | null | Error)[]> {
  const distinct = [...new Set(names.map((n) => n.toLowerCase()))];
  const found = new Map<string, MachineDto | Error>();
  await Promise.all(
    chunksOf(distinct, chunkSize).map(async (chunk) => {
      const request = machinesByNameRequest(chunk);
      const result = await settled(async () => {
        const answer = await client.get(request, scope);
        return { answer, machines: answer.status === 404 ? [] : collection<MachineDto>(answer) };
      });
      if (result instanceof Error) {
        for (const name of chunk) found.set(name, result);
        return;
      }
      const { answer, machines } = result;
      // Re-onboarded devices can leave duplicate records under one name: Defender's first answer wins.
      for (const m of machines) {
        const name = m.computerDnsName?.toLowerCase();
        if (name && !found.has(name)) found.set(name, m);
      }
      if (!answer.fromCache) await prime(client, 'machines/{id}', machines, scope);
    }),
  );
  return names.map((n) => found.get(n.toLowerCase()) ?? null);
}

/** The request for one chunk of machines by name (lower-cased, in the order given). */
export function machinesByNameRequest(names: readonly string[]): DefenderRequest {
  return {
    api: 'machines',
    query: { $filter: isIn('computerDnsName', names), $top: String(names.length * 2) },
  };
}

/**
 * Machines by id, in the order asked, null for those Defender does not have. Cached ones come from the cache;
 * one missing id costs one `machines/{id}` call, several cost one `$filter=id in (…)` call per chunk,
 * matched by id. Every answer is cached as the machine's own (its absence too), so later lookups of any of
 * them cost nothing. A call that fails puts its error in the slots of the ids it was asked for only: the
 * cached ones, and those of other chunks, keep their answers.
 */
export function getMachinesByIds(
  client: DefenderClient,
  ids: readonly string[],
  chunkSize: number,
  scope: CallScope,
): Promise<(MachineDto | null | Error)[]> {
  return entitiesByIds<MachineDto>(
    client,
    { single: 'machines/{id}', list: 'machines', query: {} },
    ids,
    chunkSize,
    scope,
  );
}

/** Alerts by id, with their evidence, as {@link getMachinesByIds} does for machines. */
export function getAlertsByIds(
  client: DefenderClient,
  ids: readonly string[],
  chunkSize: number,
  scope: CallScope,
): Promise<(AlertDto | null | Error)[]> {
  return entitiesByIds<AlertDto>(
    client,
    { single: 'alerts/{id}', list: 'alerts', query: { $expand: 'evidence' } },
    ids,
    chunkSize,
    scope,
  );
}

interface EntityRoutes {
  readonly single: 'machines/{id}' | 'alerts/{id}';
  readonly list: 'machines' | 'alerts';
  /** Options that make a list item equal to the single-entity answer. */
  readonly query: Readonly<Record<string, string>>;
}

async function entitiesByIds<T extends { id: string }>(
  client: DefenderClient,
  routes: EntityRoutes,
  ids: readonly string[],
  chunkSize: number,
  scope: CallScope,
): Promise<(T | null | Error)[]> {
  const found = new Map<string, T | null | Error>();
  const cached = await client.peek(
    ids.map((id) => ({ api: routes.single, id })),
    scope,
  );
  // Synchronously: a warm lookup is all hits, and a promise per id was most of its cost.
  cached.forEach((answer, i) => {
    if (answer) found.set(ids[i]!, answer.status === 404 ? null : settledNow(() => entity<T>(answer)));
  });

  const missing = [...new Set(ids.filter((id) => !found.has(id)))];
  if (missing.length === 1) {
    const [id] = missing as [string];
    found.set(
      id,
      await settled(async () => {
        const answer = await client.get({ api: routes.single, id }, scope);
        return answer.status === 404 ? null : entity<T>(answer);
      }),
    );
  }
  const chunks = missing.length > 1 ? chunksOf(missing, chunkSize) : [];
  await Promise.all(
    chunks.map(async (chunk) => {
      const query = { ...routes.query, $filter: isIn('id', chunk), $top: String(chunk.length) };
      const byId = await settled(async () => {
        const answer = await client.get({ api: routes.list, query }, scope);
        // /machines answers 404 when nothing matches ("no recent machines").
        return new Map((answer.status === 404 ? [] : collection<T>(answer)).map((e) => [e.id, e]));
      });
      if (byId instanceof Error) {
        for (const id of chunk) found.set(id, byId);
        return;
      }
      await Promise.all(
        chunk.map((id) => {
          const item = byId.get(id) ?? null;
          found.set(id, item);
          return item
            ? client.prime({ api: routes.single, id }, item, scope)
            : client.primeNotFound({ api: routes.single, id }, scope);
        }),
      );
    }),
  );
  return ids.map((id) => found.get(id) ?? null);
}

/** Consecutive slices of at most `size` items: one batched call each. */
function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * The value, or the error it failed with: batched lookups keep a failed call's error in the slots of the keys
 * it was for (DataLoader's convention), so that one failure never reaches the keys other answers served.
 */
async function settled<T>(run: () => Promise<T>): Promise<T | Error> {
  try {
    return await run();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** {@link settled} for synchronous work. */
function settledNow<T>(run: () => T): T | Error {
  try {
    return run();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** One entity by its route; null when Defender answers 404 (for `alerts/{id}/user`: the alert has no user). */
export async function getOne<T extends { id: string }>(
  client: DefenderClient,
  request: DefenderRequest,
  scope: CallScope,
): Promise<T | null> {
  const answer = await client.get(request, scope);
  return answer.status === 404 ? null : entity<T>(answer);
}

/**
 * A collection by its route (a machine's logon users or alerts, a user's machines or alerts); empty when
 * Defender answers 404 (no such machine). When its items are full records of another route (`primeAs`), each is
 * cached as that route's answer, so later lookups by id need not call again.
 */
export async function getMany<T extends { id: string }>(
  client: DefenderClient,
  request: DefenderRequest,
  scope: CallScope,
  primeAs?: DefenderApi,
): Promise<T[]> {
  const answer = await client.get(request, scope);
  const items = answer.status === 404 ? [] : collection<T>(answer);
  if (primeAs && !answer.fromCache) await prime(client, primeAs, items, scope);
  return items;
}

/** Entities that arrived in a list are full records: later lookups by id need not call again. */
async function prime(
  client: DefenderClient,
  api: DefenderApi,
  items: readonly { id: string }[],
  scope: CallScope,
): Promise<void> {
  await Promise.all(items.map((item) => client.prime({ api, id: item.id }, item, scope)));
}

function listQuery({ filter, top, skip }: ListOptions): Record<string, string> {
  return {
    ...(filter !== undefined ? { $filter: filter } : {}),
    $top: String(top),
    ...(skip > 0 ? { $skip: String(skip) } : {}),
  };
}

function requireFound(answer: CachedAnswer, api: string): CachedAnswer & { status: 200 } {
  if (answer.status === 404) throw badShape(`${api} answered 404`);
  return answer;
}

export function collection<T extends { id: string }>(answer: CachedAnswer): T[] {
  const body = answer.status === 200 ? (answer.body as Partial<ODataCollection<T>>) : undefined;
  if (!body || !Array.isArray(body.value) || !body.value.every(hasId))
    throw badShape('not an OData collection');
  return body.value;
}

function entity<T extends { id: string }>(answer: CachedAnswer): T {
  const body = answer.status === 200 ? answer.body : undefined;
  if (!hasId(body)) throw badShape('not an entity');
  return body as T;
}

function hasId(value: unknown): value is { id: string } {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}

const badShape = (detail: string) =>
  new GatewayError(
    ErrorCode.UpstreamBadResponse,
    'Defender answered something that is not the documented shape.',
    {},
    {
      cause: new Error(detail),
    },
  );
