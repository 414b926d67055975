/**
 * Defender's alert writes (`docs/defender-api.md` §9): `PATCH /api/alerts/{id}` and
 * `POST /api/alerts/batchUpdate`, checked as Defender documents them and answered in its shapes. The server
 * has already authenticated, throttled and read the body; this decides what the write does and answers.
 */

import type { AlertChange, AlertChanges } from './alert-changes.js';
import type { FieldRules } from './alert-fields.js';
import { CLASSIFICATIONS, DETERMINATIONS, WRITABLE_STATUSES, readFields } from './alert-fields.js';
import type { Tenant } from './data.js';
import type { Answer } from './handlers.js';
import { defenderError, entityAnswer, isAlertVisible } from './handlers.js';
import type { SimulatorWriteApi } from './routes.js';

/** One write as the server received it. */
export interface WriteCall {
  readonly api: SimulatorWriteApi;
  /** `PATCH`: the alert id from the path, decoded. */
  readonly id: string | undefined;
  /** The body as received (UTF-8). */
  readonly body: string;
  readonly contentType: string | undefined;
  readonly tenant: Tenant;
  readonly changes: AlertChanges;
  /** Device groups the caller's token may see; undefined means all. */
  readonly rbacGroupIds: ReadonlySet<number> | undefined;
  /** Who writes: the `createdBy` of a comment. */
  readonly author: string;
  /** `http://host:port` as the client addressed it, for `@odata.context`. */
  readonly origin: string;
}

/** `update-alert.md`: the updatable properties, and the comment, case-sensitive. */
const UPDATE_RULES: FieldRules = {
  status: { kind: 'enum', values: WRITABLE_STATUSES },
  assignedTo: { kind: 'string' },
  classification: { kind: 'enum', values: CLASSIFICATIONS },
  determination: { kind: 'enum', values: DETERMINATIONS },
  comment: { kind: 'string', nonEmpty: true },
};
const UPDATABLE = Object.keys(UPDATE_RULES);
/** `batch-update-alerts.md`: the same, for every id of `alertIds`. */
const BATCH_RULES: FieldRules = { alertIds: { kind: 'strings' }, ...UPDATE_RULES };
const JSON_MEDIA_TYPE = /^\s*application\/json\s*(;|$)/i;
/** Most ids a not-found message names; the rest are counted. */
const NAMED_IDS = 10;

/**
 * Answers a write. `PATCH`: 200 with the updated alert as `GET /api/alerts/{id}` shows it, 404 for an alert
 * the caller cannot see or that does not exist. `batchUpdate`: 200 with an empty body, as documented, after
 * updating every alert; when any id is unknown or not visible nothing is written and it answers 404 naming
 * them (the documentation says nothing of partial batches: all or nothing keeps the outcome clear).
 * Both: 415 unless the body is declared JSON, 400 `InvalidRequestBody` for a body that is not a JSON object,
 * an unknown or wrongly-cased property, a value of the wrong type or outside its documented values, or no
 * property to update; 400 `MissingRequiredParameter` for a batch without `alertIds`.
 */
export function answerWrite(call: WriteCall): Answer {
  if (!JSON_MEDIA_TYPE.test(call.contentType ?? '')) {
    return defenderError(415, 'UnsupportedMediaType', "The request's Content-Type must be application/json.");
  }
  const batch = call.api === 'POST alerts/batchUpdate';
  const read = readFields(call.body, batch ? BATCH_RULES : UPDATE_RULES, {
    ...(batch ? { required: ['alertIds'] } : {}),
    atLeastOne: UPDATABLE,
  });
  if ('error' in read) {
    const code = read.error.missing ? 'MissingRequiredParameter' : 'InvalidRequestBody';
    return defenderError(400, code, read.error.message);
  }
  const { alertIds, ...change } = read.values;
  const ids = batch ? [...new Set(alertIds as string[])] : [call.id ?? ''];
  const alerts = ids.map((id) => {
    const alert = call.tenant.alertById(id);
    return alert && isAlertVisible(call.tenant, alert, call.rbacGroupIds) ? alert : undefined;
  });
  const missing = ids.filter((_, i) => alerts[i] === undefined);
  if (missing.length > 0) return defenderError(404, 'ResourceNotFound', notFoundMessage(missing));
  const found = alerts as NonNullable<(typeof alerts)[number]>[];
  call.changes.apply(found, change as AlertChange, call.author);
  return batch ? { status: 200, empty: true } : entityAnswer(call.origin, found[0]!, 'Alerts');
}

function notFoundMessage(ids: readonly string[]): string {
  if (ids.length === 1) return `Alert ${ids[0]!} was not found`;
  const named = ids.slice(0, NAMED_IDS).join(', ');
  const more = ids.length > NAMED_IDS ? ` and ${ids.length - NAMED_IDS} more` : '';
  return `Alerts ${named}${more} were not found`;
}
