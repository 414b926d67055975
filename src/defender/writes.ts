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

/**
 * `PATCH /api/alerts/{id}` (docs/defender-api.md §9) on its own budget (`alerts/{id}:patch`). Without a comment
 * the write sets values, so sending it twice is sending it once, and it is retried like a read; with a comment
 * Defender appends one each time, so after a timeout or a reset it is not sent again and the call fails with
 * `outcome: 'unknown'`. The updated alert (Defender answers it as `GET alerts/{id}` shows it) replaces the
 * cached one. Null when Defender answers 404.
 */
export async function patchAlert(
  client: DefenderClient,
  id: string,
  patch: AlertPatch,
  scope: CallScope,
): Promise<AlertDto | null> {
  const alert = { api: 'alerts/{id}', id } as const;
  const write = {
    method: 'PATCH',
    json: JSON.stringify(patch),
    // A comment is appended on every PATCH that carries one: only a PATCH without it may be sent twice.
    idempotent: patch.comment === undefined,
  } as const;
  try {
    const answer = await client.write('alerts/{id}:patch', alert, write, scope);
    if (answer.status === 404) {
      await client.forget([alert], scope);
      return null;
    }
    const { '@odata.context': _, ...updated } = answer.body as AlertDto & { '@odata.context'?: string };
    await client.forget([alert], scope);
    await client.prime(alert, updated, scope);
    return updated as AlertDto;
  } catch (error) {
    // Whatever happened, what is cached may no longer be what Defender holds.
    await client.forget([alert], scope);
    throw error;
  }
}
