import { isAccountName, isMachineId } from './ids.js';

/**
 * The only KQL the gateway sends to advanced hunting (`docs/defender-api.md` §8.3): fixed query texts, with
 * values entering them solely as string literals made by {@link kqlString}. Ids are validated before they get
 * here, and a value that fails is refused with an Error (a gateway bug: callers filter first).
 */

/** Ids per query: a `dynamic([...])` of a few hundred literals stays far below Graph's body and row limits. */
export const HUNTING_CHUNK_SIZE = 200;

const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/**
 * A KQL string literal whose value is exactly `value`: double-quoted, with `\`, `"`, LF, CR and tab escaped by
 * a backslash. The one escaping function: no value reaches a query any other way. A lone surrogate cannot be
 * sent as UTF-8 and is refused.
 */
export function kqlString(value: string): string {
  if (!value.isWellFormed()) throw new Error('refusing a string with a lone surrogate in KQL');
  return `"${value.replace(/[\\"\n\r\t]/g, (c) => ESCAPES[c]!)}"`;
}

/** `dynamic(["a", "b"])`: a list of literals, each made by {@link kqlString}. */
function kqlList(values: readonly string[]): string {
  return `dynamic([${values.map(kqlString).join(', ')}])`;
}

function checked(values: readonly string[], valid: (v: string) => boolean, what: string): readonly string[] {
  if (values.length === 0) throw new Error(`a hunting query needs at least one ${what}`);
  for (const v of values) if (!valid(v)) throw new Error(`refusing an invalid ${what} in KQL`);
  return values;
}

/** The accounts with a successful logon on each machine: `machines/{id}/logonusers` for many ids at once. */
export function logonUsersQuery(machineIds: readonly string[]): string {
  const ids = checked(machineIds, isMachineId, 'machine id');
  return [
    `let ids = ${kqlList(ids)};`,
    'DeviceLogonEvents',
    '| where ActionType == "LogonSuccess" and DeviceId in (ids)',
    '| summarize by DeviceId, AccountDomain, AccountName, AccountSid',
  ].join('\n');
}

/**
 * The machines each account name logged on to successfully, names matched case-insensitively across domains:
 * `users/{name}/machines` for many names at once. Rows carry the name lower-cased, and the machine's latest
 * `DeviceName` (its `computerDnsName`, `docs/defender-api.md` §8.2), so a walk asking only that needs no lookup.
 */
export function userMachinesQuery(accountNames: readonly string[]): string {
  const names = checked(accountNames, isAccountName, 'account name');
  return [
    `let names = ${kqlList(names)};`,
    'DeviceLogonEvents',
    '| where ActionType == "LogonSuccess" and AccountName in~ (names)',
    '| summarize arg_max(Timestamp, DeviceName) by AccountName = tolower(AccountName), DeviceId',
    '| project AccountName, DeviceId, DeviceName',
  ].join('\n');
}

/** The user properties hunting can derive (`docs/defender-api.md` §8.2), per account, for many names at once. */
export function userPropertiesQuery(accountNames: readonly string[]): string {
  const names = checked(accountNames, isAccountName, 'account name');
  return [
    `let names = ${kqlList(names)};`,
    'DeviceLogonEvents',
    '| where Timestamp > ago(30d) and ActionType == "LogonSuccess" and AccountName in~ (names)',
    '| summarize lastSeen = max(Timestamp), logonTypes = strcat_array(array_sort_asc(make_set(LogonType)), ", "),',
    '    logOnMachinesCount = dcount(DeviceId), accountSid = take_any(AccountSid),',
    '    isDomainAdmin = countif(tostring(parse_json(AdditionalFields).TokenHasDomainAdminSid) == "true") > 0',
    '  by AccountDomain, AccountName',
    '| extend isOnlyNetworkUser = logonTypes == "Network"',
  ].join('\n');
}

/** `values` in chunks of at most `size`, in order. */
export function chunks<T>(values: readonly T[], size = HUNTING_CHUNK_SIZE): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
