import type { CallScope, DefenderClient } from './client.js';
import { chunks, logonUsersQuery, userMachinesQuery, userPropertiesQuery } from './kql.js';
import type { DateTimeString } from './types.js';
import type { DefenderApi } from './apis.js';
import { isDateTime } from './date-time.js';
import { ErrorCode, GatewayError } from '../errors.js';

/**
 * The relationships advanced hunting answers for many parents at once (`docs/defender-api.md` §8.2), from
 * Graph's `{ schema, results }` answers: every row checked, and mapped to its parent by id or name, never by
 * position. No GraphQL here.
 */

/** An account that logged on to a machine, as `machines/{id}/logonusers` would list it (identity only). */
export interface HuntedAccount {
  readonly accountDomain: string;
  readonly accountName: string;
  readonly accountSid: string | null;
}

/** The user properties derivable from logon events (`docs/defender-api.md` §8.2). */
export interface HuntedUserStatistics {
  readonly lastSeen: DateTimeString;
  readonly logonTypes: string;
  readonly logOnMachinesCount: number;
  readonly isDomainAdmin: boolean;
  readonly isOnlyNetworkUser: boolean;
  readonly accountSid: string | null;
}

type Row = Readonly<Record<string, unknown>>;

/** The `results` of a hunting answer (its shape already checked by the client), each row an object. */
async function rowsOf(client: DefenderClient, kql: string, scope: CallScope): Promise<Row[]> {
  const body = (await client.hunt(kql, scope)) as { results: Row[] };
  return body.results;
}

/** Query texts kept per builder (each up to a few KiB per chunk): the most recent chunks'. */
const RECENT_QUERIES = 32;

/**
 * `build` with its texts kept for the {@link RECENT_QUERIES} most recent chunks: an operation over the same
 * parents as a recent one (a dashboard's refresh) builds and checks no KQL again, and hands the client the same
 * string, whose hash V8 keeps, to make its cache key from and look it up. A chunk is found by comparing its keys
 * with each kept chunk's, most recent first: mostly the same strings (read from the same cached answers), and a
 * different chunk differs in its length or first keys, so no text of the whole chunk is made to look it up.
 */
function recentQueries(build: (chunk: readonly string[]) => string): (chunk: readonly string[]) => string {
  const recent: { readonly chunk: readonly string[]; readonly text: string }[] = [];
  return (chunk) => {
    const index = recent.findIndex((entry) => sameKeys(entry.chunk, chunk));
    if (index === 0) return recent[0]!.text;
    const entry = index > 0 ? recent.splice(index, 1)[0]! : { chunk: [...chunk], text: build(chunk) };
    recent.unshift(entry);
    if (recent.length > RECENT_QUERIES) recent.pop();
    return entry.text;
  };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const logonUsersText = recentQueries(logonUsersQuery);
const userMachinesText = recentQueries(userMachinesQuery);

/**
 * Whether the cache holds what hunting would answer `route`'s relationship (`machines/{id}/logonusers` or
 * `users/{id}/machines`) with for these keys: the fresh answer of every chunk's query, counted nowhere.
 */
export async function huntingHolds(
  client: DefenderClient,
  route: DefenderApi,
  keys: readonly string[],
  scope: CallScope,
): Promise<boolean> {
  const text = route === 'users/{id}/machines' ? userMachinesText : logonUsersText;
  const held = await Promise.all(chunks(keys).map((chunk) => client.holdsHunt(text(chunk), scope)));
  return held.every(Boolean);
}

/**
 * Runs one query per chunk of `keys`, all chunks at once, and groups each answer's rows by `group`. A chunk's
 * grouping is kept with its answer's rows (weakly): an answer read again from the in-process cache is the same
 * array, and is not checked and grouped again for every operation that reads it.
 */
async function chunkedGroups<T>(
  client: DefenderClient,
  keys: readonly string[],
  query: (chunk: readonly string[]) => string,
  scope: CallScope,
  grouped: WeakMap<readonly Row[], ReadonlyMap<string, readonly T[]>>,
  group: (rows: readonly Row[]) => Map<string, T[]>,
): Promise<ReadonlyMap<string, readonly T[]>[]> {
  const answers = await Promise.all(chunks(keys).map((chunk) => rowsOf(client, query(chunk), scope)));
  return answers.map((rows) => {
    let groups = grouped.get(rows);
    if (!groups) grouped.set(rows, (groups = group(rows)));
    return groups;
  });
}

/** Runs one query per chunk of `keys`, all chunks at once, and concatenates their rows. */
async function chunkedRows(
  client: DefenderClient,
  keys: readonly string[],
  query: (chunk: readonly string[]) => string,
  scope: CallScope,
): Promise<Row[]> {
  const answers = await Promise.all(chunks(keys).map((chunk) => rowsOf(client, query(chunk), scope)));
  return answers.flat();
}

/** Adds `item` to `key`'s group. */
function addTo<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}

/** The groups of `key` across chunks' groupings (each key is in one chunk; none: empty). */
function groupOf<T>(groupings: readonly ReadonlyMap<string, readonly T[]>[], key: string): readonly T[] {
  for (const groups of groupings) {
    const found = groups.get(key);
    if (found) return found;
  }
  return [];
}

const logonUsersGrouped = new WeakMap<readonly Row[], ReadonlyMap<string, readonly HuntedAccount[]>>();

/** `machines/{id}/logonusers` for every id: the accounts per machine id (each id present, maybe empty). */
export async function huntLogonUsers(
  client: DefenderClient,
  machineIds: readonly string[],
  scope: CallScope,
): Promise<Map<string, readonly HuntedAccount[]>> {
  const groupings = await chunkedGroups(
    client,
    machineIds,
    logonUsersText,
    scope,
    logonUsersGrouped,
    (rows) => {
      const byMachine = new Map<string, HuntedAccount[]>();
      for (const row of rows) {
        const deviceId = text(row, 'DeviceId');
        const account: HuntedAccount = {
          accountDomain: text(row, 'AccountDomain'),
          accountName: text(row, 'AccountName'),
          accountSid: optionalText(row, 'AccountSid'),
        };
        addTo(byMachine, deviceId, account);
      }
      return byMachine;
    },
  );
  return new Map(machineIds.map((id) => [id, groupOf(groupings, id)]));
}

/** A machine an account logged on to, as hunting names it: its id and latest `DeviceName`. */
export interface HuntedMachine {
  readonly id: string;
  /** `DeviceName`, Defender's `computerDnsName`; null when the events carry none. */
  readonly computerDnsName: string | null;
}

const userMachinesGrouped = new WeakMap<readonly Row[], ReadonlyMap<string, readonly HuntedMachine[]>>();

/** `users/{name}/machines` for every name: the machines per lower-cased name (each name present, maybe empty). */
export async function huntUserMachines(
  client: DefenderClient,
  accountNames: readonly string[],
  scope: CallScope,
): Promise<Map<string, readonly HuntedMachine[]>> {
  const groupings = await chunkedGroups(
    client,
    accountNames,
    userMachinesText,
    scope,
    userMachinesGrouped,
    (rows) => {
      const byName = new Map<string, HuntedMachine[]>();
      for (const row of rows) {
        const name = text(row, 'AccountName').toLowerCase();
        const machine: HuntedMachine = {
          id: text(row, 'DeviceId'),
          computerDnsName: optionalText(row, 'DeviceName'),
        };
        addTo(byName, name, machine);
      }
      return byName;
    },
  );
  return new Map(accountNames.map((n) => [n.toLowerCase(), groupOf(groupings, n.toLowerCase())]));
}

/** The derivable statistics of every account with one of these names, keyed by {@link accountKey}. */
export async function huntUserStatistics(
  client: DefenderClient,
  accountNames: readonly string[],
  scope: CallScope,
): Promise<Map<string, HuntedUserStatistics>> {
  const byAccount = new Map<string, HuntedUserStatistics>();
  for (const row of await chunkedRows(client, accountNames, userPropertiesQuery, scope)) {
    byAccount.set(accountKey(text(row, 'AccountDomain'), text(row, 'AccountName')), {
      lastSeen: instant(row, 'lastSeen'),
      logonTypes: text(row, 'logonTypes'),
      logOnMachinesCount: integer(row, 'logOnMachinesCount'),
      isDomainAdmin: flag(row, 'isDomainAdmin'),
      isOnlyNetworkUser: flag(row, 'isOnlyNetworkUser'),
      accountSid: optionalText(row, 'accountSid'),
    });
  }
  return byAccount;
}

/** One account across answers: `domain\name`, compared case-insensitively as Windows does. */
export function accountKey(domain: string, name: string): string {
  return `${domain}\\${name}`.toLowerCase();
}

const badRow = (column: string) =>
  new GatewayError(
    ErrorCode.UpstreamBadResponse,
    `Advanced hunting answered a row without a valid ${column}.`,
  );

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw badRow(column);
  return value;
}

/**
 * A Kusto datetime as REST writes one: Graph gives 7 fractional digits (`…:09.0000000Z`), REST drops the
 * trailing zeros (`…:09Z`), so the two sources give the same string for the same instant.
 */
function instant(row: Row, column: string): string {
  const value = text(row, column);
  if (!isDateTime(value)) throw badRow(column);
  return value.replace(/\.(\d*?)0+(?=Z|[+-])/, (_, kept: string) => (kept ? `.${kept}` : ''));
}

function optionalText(row: Row, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw badRow(column);
  return value;
}

function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badRow(column);
  return value;
}

function flag(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value !== 'boolean') throw badRow(column);
  return value;
}
