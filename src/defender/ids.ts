import { badUserInput } from '../errors.js';

/**
 * Id formats Defender uses (`docs/defender-api.md` §6). Every id a caller sends is checked here before it
 * can reach a URL, so a malformed id costs no upstream call and nothing a caller sends changes the route.
 */

const MACHINE_ID = /^[0-9a-f]{40}$/;
/** A computer name or FQDN, which `machines/{id}` also accepts. */
const COMPUTER_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_-]{1,63})*$/i;
/**
 * Two forms (`shared/defender-api.md` §6, and the alert ids of Defender XDR's incidents API): a two-letter source
 * prefix (`da`, `ar`, `ed`…) or none, 18 digits of .NET ticks, `_`, a signed 32-bit integer
 * (`da637472900382838869_1364969609`, `ed638510306555978178_-1528645984`); or a two-letter prefix glued to a GUID
 * (`faf8edc936-85f8-a603-b800-08d8525cf099`, an Office alert). The prefixes are an open set, so any two letters
 * pass; both forms are letters, digits, `_` and `-` only, so they are always one plain path segment.
 */
const ALERT_ID = /^(?:[a-z]{2})?\d{18}_-?\d{1,10}$/;
const PREFIXED_GUID_ALERT_ID = /^[a-z]{2}[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/;
/** A GUID as Microsoft Entra writes object ids, any case. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An account name: Windows forbids `"/\[]:;|=,+*?<>` and `@` separates a UPN; spaces are allowed. */
const ACCOUNT_NAME = /^[^"/\\[\]:;|=,+*?<>@\p{Cc}]{1,104}$/u;
const DOMAIN = /^[^"/\\[\]:;|=,+*?<>@\p{Cc}]{1,255}$/u;
/** `.` and `..` would be read as path steps, not as a name. */
const DOT_SEGMENT = /^\.{1,2}$/;

/** A machine id (40 hex, any case, returned lower-case) or a computer name. */
export function parseMachineKey(input: string): { kind: 'id' | 'name'; value: string } {
  const trimmed = input.trim();
  if (MACHINE_ID.test(trimmed.toLowerCase())) return { kind: 'id', value: trimmed.toLowerCase() };
  // A long run of hex digits is a mistyped id, not a computer name (NetBIOS names have at most 15 characters).
  if (COMPUTER_NAME.test(trimmed) && !/^[0-9a-f]{32,}$/i.test(trimmed))
    return { kind: 'name', value: trimmed };
  throw badUserInput(
    `"${preview(input)}" is not a machine id (40 hexadecimal characters) or a computer name.`,
  );
}

/** A machine id only (no computer name), as `MachineFilter.ids` takes them: returned lower-case. */
export function parseMachineId(input: string): string {
  const value = input.trim().toLowerCase();
  if (MACHINE_ID.test(value)) return value;
  throw badUserInput(`"${preview(input)}" is not a machine id (40 hexadecimal characters).`);
}

export function parseAlertId(input: string): string {
  const trimmed = input.trim();
  if (ALERT_ID.test(trimmed) || PREFIXED_GUID_ALERT_ID.test(trimmed)) return trimmed;
  throw badUserInput(
    `"${preview(input)}" is not an alert id (like da637472900382838869_1364969609, ar…, or without a prefix).`,
  );
}

/** A Microsoft Entra object id (a GUID), e.g. `Machine.aadDeviceId`; returned as given, trimmed. */
export function parseGuid(input: string, what: string): string {
  const trimmed = input.trim();
  if (GUID.test(trimmed)) return trimmed;
  throw badUserInput(
    `"${preview(input)}" is not ${what} (a GUID like 80fe8ff8-2624-418e-9591-41f0491218f9).`,
  );
}

export interface UserKey {
  readonly accountName: string;
  readonly accountDomain: string | null;
}

/** `domain\name`, a bare account name, or a UPN `name@domain`: Defender's user routes want the bare name. */
export function parseUserKey(input: string): UserKey {
  // A lone surrogate cannot be percent-encoded into a URL.
  if (!input.isWellFormed()) throw invalidUser(input);
  const trimmed = input.trim();
  const backslash = trimmed.indexOf('\\');
  const at = trimmed.lastIndexOf('@');
  let key: UserKey;
  if (backslash !== -1) {
    key = { accountDomain: trimmed.slice(0, backslash), accountName: trimmed.slice(backslash + 1) };
  } else if (at !== -1) {
    key = { accountName: trimmed.slice(0, at), accountDomain: null };
    if (!DOMAIN.test(trimmed.slice(at + 1))) throw invalidUser(input);
  } else {
    key = { accountName: trimmed, accountDomain: null };
  }
  if (
    !ACCOUNT_NAME.test(key.accountName) ||
    DOT_SEGMENT.test(key.accountName) ||
    (key.accountDomain !== null && !DOMAIN.test(key.accountDomain))
  ) {
    throw invalidUser(input);
  }
  return key;
}

/**
 * Whether an account name (as Defender sent it, or as a caller gave it) is one the REST user routes accept:
 * the only names the gateway sends to advanced hunting; any other is looked up through REST.
 */
export function isAccountName(name: string): boolean {
  return name.isWellFormed() && ACCOUNT_NAME.test(name) && !DOT_SEGMENT.test(name);
}

/** Whether `id` is a machine id as Defender writes it (40 lower-case hex digits). */
export function isMachineId(id: string): boolean {
  // MACHINE_ID's test, by hand: a hunted level asks it of every parent of every operation.
  if (id.length !== 40) return false;
  for (let i = 0; i < 40; i++) {
    const c = id.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

const invalidUser = (input: string) =>
  badUserInput(`"${preview(input)}" is not a user id ("domain\\name", an account name, or "name@domain").`);

/** Enough of a bad input to recognise it in an error, without echoing a long payload back. */
export function preview(input: string): string {
  const clean = input.replace(/\p{Cc}/gu, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}
