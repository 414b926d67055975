import type { MutationResolvers, UpdateAlertInput } from '../../generated/resolvers.js';
import { parseAlertId } from '../../defender/ids.js';
import type { AlertDto } from '../../defender/types.js';
import type { AlertPatch } from '../../defender/writes.js';
import { patchAlert } from '../../defender/writes.js';
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

export const Mutation: MutationResolvers = {
  updateAlert: async (_, { id, input }, ctx) => {
    const { writes } = ctx;
    const who = writes.principal?.id ?? 'anonymous';
    const base = { who, alertIds: [id], requestId: writes.requestId };
    let patch: AlertPatch;
    let alertId: string;
    try {
      checkWriteRight(ctx);
      alertId = parseAlertId(id);
      patch = alertPatchOf(input);
    } catch (error) {
      writes.audit({ ...base, changes: {}, outcome: 'refused', error: (error as Error).message });
      throw error;
    }
    // The value before, for the audit trail, only when it costs no call.
    const [cached] = await ctx.client.peek([{ api: 'alerts/{id}', id: alertId }], ctx.scope);
    const before = cached?.status === 200 ? (cached.body as AlertDto) : undefined;
    const changes = changesOf(patch, before);
    try {
      const updated = await patchAlert(ctx.client, alertId, patch, ctx.scope);
      writes.audit({ ...base, changes, outcome: updated ? 'updated' : 'not_found' });
      return updated;
    } catch (error) {
      writes.audit({ ...base, changes, outcome: outcomeOf(error), error: (error as Error).message });
      throw error;
    } finally {
      writes.afterWrite();
      // The result holds what Defender shows after the write: never a stored answer.
      ctx.scope.stats.freshUntil = 0;
    }
  },
};
