import type { MutationResolvers, UpdateAlertInput } from '../../generated/resolvers.js';
import { parseAlertId } from '../../defender/ids.js';
import type { AlertDto } from '../../defender/types.js';
import type { AlertPatch } from '../../defender/writes.js';
import { BATCH_UPDATE_MAX_IDS, batchUpdateAlerts, patchAlert } from '../../defender/writes.js';
import { ErrorCode, GatewayError, badUserInput } from '../../errors.js';
import type { GraphQLContext, WriteAudit } from '../context.js';

/** The longest comment accepted (characters); Defender documents none, this keeps a mistake from being posted. */
export const MAX_COMMENT_LENGTH = 4_000;
/** The longest `assignedTo` accepted (characters): an email address is at most 254. */
export const MAX_ASSIGNED_TO_LENGTH = 256;

/**
 * The input checked and turned into Defender's body, before any call: the enums already arrive as Defender's
 * wire strings (`ENUM_VALUES`); `UNKNOWN` is a status Defender shows but does not accept.
 */
export function alertPatchOf(input: UpdateAlertInput): AlertPatch {
  const patch: Record<string, string> = {};
  if (input.status != null) {
    if (input.status === 'Unknown') throw badUserInput('status UNKNOWN cannot be set.');
    patch['status'] = input.status;
  }
  if (input.assignedTo != null) {
    if (input.assignedTo.trim() === '' || input.assignedTo.length > MAX_ASSIGNED_TO_LENGTH)
      throw badUserInput(`assignedTo must be 1 to ${MAX_ASSIGNED_TO_LENGTH} characters.`);
    patch['assignedTo'] = input.assignedTo;
  }
  if (input.classification != null) patch['classification'] = input.classification;
  if (input.determination != null) patch['determination'] = input.determination;
  if (input.comment != null) {
    if (input.comment.trim() === '' || input.comment.length > MAX_COMMENT_LENGTH)
      throw badUserInput(`comment must be non-blank and at most ${MAX_COMMENT_LENGTH} characters.`);
    patch['comment'] = input.comment;
  }
  if (Object.keys(patch).length === 0) throw badUserInput('input must change at least one field.');
  return patch;
}

/** The caller's right to write, checked before any call (AUTH_MODE=jwt only). */
function checkWriteRight({ writes }: GraphQLContext): void {
  if (writes.disabled)
    throw new GatewayError(
      ErrorCode.Forbidden,
      'Changing alerts without inbound authentication is turned off (ALLOW_UNAUTHENTICATED_WRITES).',
    );
  if (writes.writeRole === undefined) return;
  if (writes.principal?.grants.has(writes.writeRole)) return;
  throw new GatewayError(ErrorCode.Forbidden, `Changing alerts needs the ${writes.writeRole} role or scope.`);
}

function outcomeOf(error: unknown): WriteAudit['outcome'] {
  if (!(error instanceof GatewayError)) return 'failed';
  if (error.extensions['outcome'] === 'unknown') return 'unknown';
  if (error.code === ErrorCode.Forbidden || error.code === ErrorCode.BadUserInput) return 'refused';
  return 'failed';
}

/** Per changed field, the value before (from the cached alert, when there is one) and after; a comment is its length. */
function changesOf(patch: AlertPatch, before: AlertDto | undefined): WriteAudit['changes'] {
  const changes: Record<string, { from?: unknown; to: unknown }> = {};
  for (const [field, to] of Object.entries(patch)) {
    if (field === 'comment') {
      changes[field] = { to: { length: (to as string).length } };
      continue;
    }
    const from = before?.[field as keyof AlertDto];
    changes[field] = before ? { from: from ?? null, to } : { to };
  }
  return changes;
}

/** The write outcome of one alert, for the audit trail and its metric. */
function alertOutcome(result: AlertDto | null | Error): WriteAudit['outcome'] {
  if (result instanceof Error) return outcomeOf(result);
  return result ? 'updated' : 'not_found';
}

/**
 * Up to this many alerts, `updateAlerts` sends one PATCH each; above, batchUpdate. A PATCH spends 1/100 of its
 * API's minute and answers the alert; a batch spends 1/10 of batchUpdate's minute and the alerts are read
 * before and after (one `$filter=id in (…)` call per MACHINE_BATCH_SIZE ids, each 1/100 of `alerts`' minute).
 * Eleven PATCHes cost as much of their budget as one batch and its reads: up to 10, PATCHes are cheaper.
 */
export const PATCH_MAX_IDS = 10;
/** Most alerts one `updateAlerts` changes: two batchUpdate calls, a fifth of that API's minute. */
export const MAX_UPDATE_IDS = 200;

/** The ids of `updateAlerts`, checked before any call: well-formed, each once, 1 to {@link MAX_UPDATE_IDS}. */
export function alertIdsOf(ids: readonly string[]): string[] {
  if (ids.length === 0 || ids.length > MAX_UPDATE_IDS)
    throw badUserInput(`ids must list 1 to ${MAX_UPDATE_IDS} alerts; got ${ids.length}.`);
  const parsed = ids.map(parseAlertId);
  const seen = new Set<string>();
  for (const id of parsed) {
    if (seen.has(id)) throw badUserInput(`ids lists alert ${id} twice.`);
    seen.add(id);
  }
  return parsed;
}

/**
 * Many alerts by batchUpdate: read first (through the loaders, so mostly from the cache) to leave out the alerts
 * Defender does not have (null, as `updateAlert` answers) or could not be read (their error), then written in
 * chunks, then read back, since a batch answers no alert. Per id: the alert after, null, or an error.
 */
async function batchUpdate(
  ctx: GraphQLContext,
  ids: readonly string[],
  patch: AlertPatch,
): Promise<{ before: readonly (AlertDto | null | Error)[]; after: (AlertDto | null | Error)[] }> {
  const { alertById } = ctx.loaders;
  const before = await alertById.loadMany(ids);
  const present = ids.filter((_, i) => isAlert(before[i]));
  const chunks = await batchUpdateAlerts(ctx.client, present, patch, ctx.scope);
  const failed = new Map<string, Error>();
  for (const [c, outcome] of chunks.entries()) {
    if (outcome === 'ok') continue;
    for (const id of present.slice(c * BATCH_UPDATE_MAX_IDS, (c + 1) * BATCH_UPDATE_MAX_IDS))
      failed.set(id, outcome);
  }
  // The loader remembers the alerts as they were; the operation's generation moved on, so these are read anew.
  const written = present.filter((id) => !failed.has(id));
  for (const id of written) alertById.clear(id);
  const read = new Map(written.map((id, i) => [id, i]));
  const readBack = written.length > 0 ? await alertById.loadMany(written) : [];
  const after = ids.map((id, i) => {
    const was = before[i]!;
    if (!isAlert(was)) return was;
    const index = read.get(id);
    return index === undefined ? failed.get(id)! : readBack[index]!;
  });
  return { before, after };
}

function isAlert(value: AlertDto | null | Error | undefined): value is AlertDto {
  return value != null && !(value instanceof Error);
}

/** The caller, the right to write and the input, checked before any call; a refusal is audited and thrown. */
function checked<T>(ctx: GraphQLContext, ids: readonly string[], parse: () => T): T {
  try {
    checkWriteRight(ctx);
    return parse();
  } catch (error) {
    ctx.writes.audit({
      who: whoOf(ctx),
      alertIds: ids,
      changes: {},
      outcome: 'refused',
      requestId: ctx.writes.requestId,
      error: (error as Error).message,
    });
    throw error;
  }
}

function whoOf({ writes }: GraphQLContext): string {
  return writes.principal?.id ?? 'anonymous';
}

/** The values before, for the audit trail, only where they cost no call. */
async function cachedAlerts(ctx: GraphQLContext, ids: readonly string[]): Promise<(AlertDto | undefined)[]> {
  const cached = await ctx.client.peek(
    ids.map((id) => ({ api: 'alerts/{id}', id }) as const),
    ctx.scope,
  );
  return cached.map((answer) => (answer?.status === 200 ? (answer.body as AlertDto) : undefined));
}

export const Mutation: MutationResolvers = {
  updateAlert: async (_, { id, input }, ctx) => {
    const { alertId, patch } = checked(ctx, [id], () => ({
      alertId: parseAlertId(id),
      patch: alertPatchOf(input),
    }));
    const [before] = await cachedAlerts(ctx, [alertId]);
    const audit = (outcome: WriteAudit['outcome'], error?: Error) =>
      ctx.writes.audit({
        who: whoOf(ctx),
        alertIds: [id],
        changes: changesOf(patch, before),
        outcome,
        requestId: ctx.writes.requestId,
        ...(error && { error: error.message }),
      });
    try {
      const updated = await patchAlert(ctx.client, alertId, patch, ctx.scope);
      audit(updated ? 'updated' : 'not_found');
      ctx.writes.afterWrite(updated ? [updated] : []);
      return updated;
    } catch (error) {
      audit(outcomeOf(error), error as Error);
      ctx.writes.afterWrite([]);
      throw error;
    } finally {
      // The result holds what Defender shows after the write: never a stored answer.
      ctx.scope.stats.freshUntil = 0;
    }
  },

  updateAlerts: async (_, { ids, input }, ctx) => {
    const { alertIds, patch } = checked(ctx, ids, () => ({
      alertIds: alertIdsOf(ids),
      patch: alertPatchOf(input),
    }));
    let before: readonly (AlertDto | null | Error | undefined)[];
    let after: (AlertDto | null | Error)[];
    try {
      if (alertIds.length <= PATCH_MAX_IDS) {
        before = await cachedAlerts(ctx, alertIds);
        after = await Promise.all(
          alertIds.map((id) =>
            patchAlert(ctx.client, id, patch, ctx.scope).catch((error: unknown) =>
              error instanceof Error ? error : new Error(String(error)),
            ),
          ),
        );
      } else {
        ({ before, after } = await batchUpdate(ctx, alertIds, patch));
      }
    } finally {
      ctx.scope.stats.freshUntil = 0;
    }
    // One audit line per alert, each with its own values before and outcome.
    for (const [i, id] of alertIds.entries()) {
      const result = after[i]!;
      const was = before[i];
      ctx.writes.audit({
        who: whoOf(ctx),
        alertIds: [id],
        changes: changesOf(patch, isAlert(was) ? was : undefined),
        outcome: alertOutcome(result),
        requestId: ctx.writes.requestId,
        ...(result instanceof Error && { error: result.message }),
      });
    }
    ctx.writes.afterWrite(after.filter(isAlert));
    // An Error in an entry is that entry's error (graphql-js puts it at the entry's index); the others stand.
    return after as (AlertDto | null)[];
  },
};
