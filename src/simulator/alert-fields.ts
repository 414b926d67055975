/**
 * The alert properties a write may set, their documented values (`docs/defender-api.md` §1.5, §9), and one
 * validator for JSON bodies, shared by Defender's write routes and the simulator's own admin routes so that
 * both refuse the same things in the same words.
 */

import type {
  AlertClassification,
  AlertDetermination,
  AlertSeverity,
  AlertStatus,
  InvestigationState,
} from '../defender/types.js';

export const ALERT_STATUSES: readonly AlertStatus[] = ['Unknown', 'New', 'InProgress', 'Resolved'];
/** `update-alert.md`: a write may set these; `Unknown` is Defender's own. */
export const WRITABLE_STATUSES: readonly AlertStatus[] = ['New', 'InProgress', 'Resolved'];
export const SEVERITIES: readonly AlertSeverity[] = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'];
export const CLASSIFICATIONS: readonly AlertClassification[] = [
  'TruePositive',
  'InformationalExpectedActivity',
  'FalsePositive',
];

/**
 * Every determination a write may send, to the spelling alerts carry (`alerts.md`). `update-alert.md` spells
 * three of them differently (`ConfirmedActivity`, `NotMalicious`; `CompromisedAccount` is its display name);
 * both forms are accepted and the alert shows the entity's. The legacy `Apt` and `SecurityPersonnel` are gone.
 */
export const DETERMINATIONS: ReadonlyMap<string, AlertDetermination> = new Map<string, AlertDetermination>([
  ['MultiStagedAttack', 'MultiStagedAttack'],
  ['MaliciousUserActivity', 'MaliciousUserActivity'],
  ['CompromisedUser', 'CompromisedUser'],
  ['CompromisedAccount', 'CompromisedUser'],
  ['Malware', 'Malware'],
  ['Phishing', 'Phishing'],
  ['UnwantedSoftware', 'UnwantedSoftware'],
  ['SecurityTesting', 'SecurityTesting'],
  ['LineOfBusinessApplication', 'LineOfBusinessApplication'],
  ['ConfirmedUserActivity', 'ConfirmedUserActivity'],
  ['ConfirmedActivity', 'ConfirmedUserActivity'],
  ['Clean', 'Clean'],
  ['NotMalicious', 'Clean'],
  ['InsufficientData', 'InsufficientData'],
  ['Other', 'Other'],
]);

export const INVESTIGATION_STATES: readonly InvestigationState[] = [
  'Unknown',
  'Terminated',
  'SuccessfullyRemediated',
  'Benign',
  'Failed',
  'PartiallyRemediated',
  'Running',
  'PendingApproval',
  'PendingResource',
  'PartiallyInvestigated',
  'TerminatedByUser',
  'TerminatedBySystem',
  'Queued',
  'InnerFailure',
  'PreexistingAlert',
  'UnsupportedOs',
  'UnsupportedAlertType',
  'SuppressedAlert',
];

/** How one body property is checked. */
export type FieldRule =
  /** A string; `nonEmpty` refuses `""` and blanks. */
  | { readonly kind: 'string'; readonly nullable?: boolean; readonly nonEmpty?: boolean }
  /** One of these strings, exactly (case-sensitive); a map also renames the accepted value. */
  | {
      readonly kind: 'enum';
      readonly values: readonly string[] | ReadonlyMap<string, string>;
      readonly nullable?: boolean;
    }
  /** A non-empty array of non-empty strings. */
  | { readonly kind: 'strings' }
  /** An array of strings, possibly empty. */
  | { readonly kind: 'stringList' };

export type FieldRules = Readonly<Record<string, FieldRule>>;

/** A body's properties after validation: enum values renamed, everything else as sent. */
export type FieldValues = Readonly<Record<string, unknown>>;

/** Why a body is refused; `missing` names a required property that is absent. */
export interface FieldError {
  readonly message: string;
  readonly missing?: boolean;
}

/**
 * Parses a JSON body and checks it against the rules: an object, only known properties (names are
 * case-sensitive, as Defender's write APIs are), every value of its rule's type, the required ones present
 * and, when `atLeastOne` is given, one of those present.
 */
export function readFields(
  text: string,
  rules: FieldRules,
  options: { readonly required?: readonly string[]; readonly atLeastOne?: readonly string[] } = {},
): { readonly values: FieldValues } | { readonly error: FieldError } {
  if (text.trim() === '') return { error: { message: 'The request body is empty.' } };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: { message: 'The request body is not valid JSON.' } };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: { message: 'The request body must be a JSON object.' } };
  }
  const names = Object.keys(rules);
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const rule = Object.hasOwn(rules, name) ? rules[name] : undefined;
    if (rule === undefined) return { error: { message: unknownProperty(name, names) } };
    const checked = checkValue(name, value, rule);
    if ('refused' in checked) return { error: { message: checked.refused } };
    values[name] = checked.value;
  }
  for (const name of options.required ?? []) {
    if (!(name in values)) return { error: { message: `Property '${name}' is required.`, missing: true } };
  }
  const some = options.atLeastOne;
  if (some && !some.some((name) => name in values)) {
    return { error: { message: `Nothing to update: send at least one of ${list(some)}.` } };
  }
  return { values };
}

type Checked = { readonly value: unknown } | { readonly refused: string };

function checkValue(name: string, value: unknown, rule: FieldRule): Checked {
  if (value === null) {
    return 'nullable' in rule && rule.nullable
      ? { value }
      : { refused: `Property '${name}' cannot be null.` };
  }
  switch (rule.kind) {
    case 'string':
      if (typeof value !== 'string') return { refused: `Property '${name}' must be a string.` };
      if (rule.nonEmpty && value.trim() === '') return { refused: `Property '${name}' cannot be empty.` };
      return { value };
    case 'enum': {
      const allowed = rule.values instanceof Map ? [...rule.values.keys()] : (rule.values as string[]);
      if (typeof value !== 'string' || !allowed.includes(value)) {
        const shown = typeof value === 'string' ? `'${clip(value)}'` : clip(JSON.stringify(value));
        return { refused: `Invalid value ${shown} for '${name}'; expected one of ${allowed.join(', ')}.` };
      }
      return { value: rule.values instanceof Map ? rule.values.get(value) : value };
    }
    case 'strings':
    case 'stringList': {
      const nonEmpty = rule.kind === 'strings';
      const valid =
        Array.isArray(value) &&
        !(nonEmpty && value.length === 0) &&
        value.every((v) => typeof v === 'string' && !(nonEmpty && v === ''));
      if (valid) return { value };
      return {
        refused: nonEmpty
          ? `Property '${name}' must be a non-empty list of ids.`
          : `Property '${name}' must be a list of strings.`,
      };
    }
  }
}

function unknownProperty(name: string, names: readonly string[]): string {
  const sameButCase = names.find((n) => n.toLowerCase() === name.toLowerCase());
  const shown = clip(name);
  return sameButCase
    ? `Unknown property '${shown}'. Property names are case-sensitive: did you mean '${sameButCase}'?`
    : `Unknown property '${shown}'. The properties are ${list(names)}.`;
}

function list(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
}

/** Keeps what a message repeats of the caller's input short. */
function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
