import type { CachedAnswer } from '../cache/entity-cache.js';
import type { CallScope, DefenderClient, DefenderRequest } from './client.js';
import type { AlertDto, MachineDto, ODataCollection, UserDto } from './types.js';
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
  if (!answer.fromCache) await primeMachines(client, items, scope);
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
 * as its own by id.
 */
export async function getMachinesByNames(
  client: DefenderClient,
  names: readonly string[],
  chunkSize: number,
  scope: CallScope,
): Promise<(MachineDto | null)[]> {
  const distinct = [...new Set(names.map((n) => n.toLowerCase()))];
  const found = new Map<string, MachineDto>();
  const chunks = [];
  for (let i = 0; i < distinct.length; i += chunkSize) chunks.push(distinct.slice(i, i + chunkSize));
  await Promise.all(
    chunks.map(async (chunk) => {
      const request = machinesByNameRequest(chunk);
      const answer = await client.get(request, scope);
      const machines = answer.status === 404 ? [] : collection<MachineDto>(answer);
      // Re-onboarded devices can leave duplicate records under one name: Defender's first answer wins.
      for (const m of machines) {
        const name = m.computerDnsName?.toLowerCase();
        if (name && !found.has(name)) found.set(name, m);
      }
      if (!answer.fromCache) await primeMachines(client, machines, scope);
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
 * them cost nothing.
 */
export function getMachinesByIds(
  client: DefenderClient,
  ids: readonly string[],
  chunkSize: number,
  scope: CallScope,
): Promise<(MachineDto | null)[]> {
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
): Promise<(AlertDto | null)[]> {
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
): Promise<(T | null)[]> {
  const found = new Map<string, T | null>();
  const cached = await client.peek(
    ids.map((id) => ({ api: routes.single, id })),
    scope,
  );
  cached.forEach((answer, i) => {
    if (answer) found.set(ids[i]!, answer.status === 404 ? null : entity<T>(answer));
  });

  const missing = [...new Set(ids.filter((id) => !found.has(id)))];
  if (missing.length === 1) {
    const [id] = missing as [string];
    const answer = await client.get({ api: routes.single, id }, scope);
    found.set(id, answer.status === 404 ? null : entity<T>(answer));
  }
  const chunks = [];
  for (let i = 0; missing.length > 1 && i < missing.length; i += chunkSize)
    chunks.push(missing.slice(i, i + chunkSize));
  await Promise.all(
    chunks.map(async (chunk) => {
      const query = { ...routes.query, $filter: isIn('id', chunk), $top: String(chunk.length) };
      const answer = await client.get({ api: routes.list, query }, scope);
      // /machines answers 404 when nothing matches ("no recent machines").
      const byId = new Map((answer.status === 404 ? [] : collection<T>(answer)).map((e) => [e.id, e]));
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

export async function getAlert(
  client: DefenderClient,
  id: string,
  scope: CallScope,
): Promise<AlertDto | null> {
  const answer = await client.get({ api: 'alerts/{id}', id }, scope);
  return answer.status === 404 ? null : entity<AlertDto>(answer);
}

/** The user of an alert; null when Defender answers 404 (the alert has no user, or does not exist). */
export async function getAlertUser(
  client: DefenderClient,
  alertId: string,
  scope: CallScope,
): Promise<UserDto | null> {
  const answer = await client.get({ api: 'alerts/{id}/user', id: alertId }, scope);
  return answer.status === 404 ? null : entity<UserDto>(answer);
}

/** The users who logged on to a machine; empty when Defender answers 404 (no such machine). */
export async function getMachineLogonUsers(
  client: DefenderClient,
  machineId: string,
  scope: CallScope,
): Promise<UserDto[]> {
  const answer = await client.get({ api: 'machines/{id}/logonusers', id: machineId }, scope);
  return answer.status === 404 ? [] : collection<UserDto>(answer);
}

export async function getMachineAlerts(
  client: DefenderClient,
  machineId: string,
  scope: CallScope,
): Promise<AlertDto[]> {
  const answer = await client.get({ api: 'machines/{id}/alerts', id: machineId }, scope);
  return answer.status === 404 ? [] : collection<AlertDto>(answer);
}

/** Machines an account logged on to, by account name (Defender matches the name only, in every domain). */
export async function getUserMachines(
  client: DefenderClient,
  accountName: string,
  scope: CallScope,
): Promise<MachineDto[]> {
  const answer = await client.get({ api: 'users/{id}/machines', id: accountName }, scope);
  const machines = answer.status === 404 ? [] : collection<MachineDto>(answer);
  if (!answer.fromCache) await primeMachines(client, machines, scope);
  return machines;
}

/** Machines that arrived in a list are full records: later lookups by id need not call again. */
async function primeMachines(
  client: DefenderClient,
  machines: readonly MachineDto[],
  scope: CallScope,
): Promise<void> {
  await Promise.all(machines.map((m) => client.prime({ api: 'machines/{id}', id: m.id }, m, scope)));
}

export async function getUserAlerts(
  client: DefenderClient,
  accountName: string,
  scope: CallScope,
): Promise<AlertDto[]> {
  const answer = await client.get({ api: 'users/{id}/alerts', id: accountName }, scope);
  return answer.status === 404 ? [] : collection<AlertDto>(answer);
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
