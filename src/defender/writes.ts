import type { CachedAnswer } from '../cache/entity-cache.js';
import { ErrorCode, GatewayError, writeOutcomeUnknown } from '../errors.js';
import { BATCH_UPDATE_API } from './apis.js';
import type { CallScope, DefenderClient } from './client.js';
import type { AlertDto } from './types.js';

/** The properties of an alert a write may change, with Defender's case-sensitive names and wire values. */
export interface AlertPatch {
  readonly status?: string;
  readonly assignedTo?: string;
  readonly classification?: string;
  readonly determination?: string;
  readonly comment?: string;
}

/** Whether sending `patch` twice does no more than sending it once: a comment is appended every time. */
function isIdempotent(patch: AlertPatch): boolean {
  return patch.comment === undefined;
}

/**
 * `PATCH /api/alerts/{id}` (docs/defender-api.md §9) on its own budget (`alerts/{id}:patch`). Without a comment
 * the write sets values, so sending it twice is sending it once, and it is retried like a read; with a comment
 * Defender appends one each time, so after a timeout, a reset or a 5xx it is not sent again and the call fails
 * with `outcome: 'unknown'`. Whatever happened, the alerts' generation moves on (no cached answer that shows
 * alerts is read again, on any replica), and the updated alert (Defender answers it as `GET alerts/{id}` shows
 * it) is stored under the new one. Null when Defender answers 404.
 */
export async function patchAlert(
  client: DefenderClient,
  id: string,
  patch: AlertPatch,
  scope: CallScope,
): Promise<AlertDto | null> {
  const alert = { api: 'alerts/{id}', id } as const;
  const write = { method: 'PATCH', json: JSON.stringify(patch), idempotent: isIdempotent(patch) } as const;
  let answer: CachedAnswer;
  try {
    answer = await client.write('alerts/{id}:patch', alert, write, scope);
  } finally {
    // Whatever happened, what is cached may no longer be what Defender holds.
    await client.alertsChanged(scope);
  }
  if (answer.status === 404) return null;
  const { '@odata.context': _, ...updated } = answer.body as AlertDto & { '@odata.context'?: string };
  await client.prime(alert, updated, scope);
  return updated as AlertDto;
}

/**
 * Most alert ids in one `POST alerts/batchUpdate`. Defender documents no maximum; this keeps a body small and
 * one refused batch from touching more than this many alerts.
 */
export const BATCH_UPDATE_MAX_IDS = 100;

/**
 * `POST /api/alerts/batchUpdate` (§9) on its own budget (`alerts/batchUpdate`, 10/min and 500/h) for `ids`
 * (distinct, checked), in chunks of {@link BATCH_UPDATE_MAX_IDS}. Defender answers an empty 200: the alerts are
 * read back by the caller. Per chunk, in the order of the chunks: `ok`, or the error its ids failed with. A
 * chunk with a comment is never sent twice after an unknown outcome (as {@link patchAlert}); a 404 to a chunk
 * (Defender does not say what it changed then) is an unknown outcome too. The alerts' generation moves on
 * after the last chunk, whatever happened.
 */
export async function batchUpdateAlerts(
  client: DefenderClient,
  ids: readonly string[],
  patch: AlertPatch,
  scope: CallScope,
): Promise<('ok' | Error)[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH_UPDATE_MAX_IDS)
    chunks.push(ids.slice(i, i + BATCH_UPDATE_MAX_IDS));
  try {
    return await Promise.all(
      chunks.map(async (alertIds): Promise<'ok' | Error> => {
        const write = {
          method: 'POST',
          json: JSON.stringify({ alertIds, ...patch }),
          idempotent: isIdempotent(patch),
        } as const;
        try {
          const answer = await client.write(BATCH_UPDATE_API, { api: BATCH_UPDATE_API }, write, scope);
          if (answer.status === 404) return batchNotFound(alertIds.length);
          return 'ok';
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error));
        }
      }),
    );
  } finally {
    await client.alertsChanged(scope);
  }
}

/** Defender answered 404 to a batch of alerts that were there a moment ago: what it changed is not known. */
function batchNotFound(count: number): GatewayError {
  return writeOutcomeUnknown(
    BATCH_UPDATE_API,
    new GatewayError(ErrorCode.UpstreamBadResponse, `batchUpdate of ${count} alerts answered 404`),
  );
}
