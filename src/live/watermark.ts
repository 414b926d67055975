import type { AlertDto } from '../defender/types.js';
import type { TraceOrigin } from '../ops/spans.js';
import { compareInstants, instantOf } from './filter-match.js';

/** What happened to an alert, as `AlertChangeKind` says it. */
export type AlertChangeKind = 'CREATED' | 'UPDATED';

/** One change of one alert, as a poll saw it: the parent of `AlertChange`. */
export interface AlertChangeEvent {
  readonly kind: AlertChangeKind;
  readonly alert: AlertDto;
  /**
   * With tracing: the span of the poll that found the change or of the write that made it, which each
   * execution's span links to. Published with the change to the other replicas.
   */
  readonly origin?: TraceOrigin;
}

/**
 * How far a poller has seen: the newest `lastUpdateTime` among the alerts it has seen (as Defender wrote it), and
 * the ids of those seen at exactly that time. The next poll asks for `lastUpdateTime ge time` and leaves out
 * those ids, so a change that lands on the same 100 ns tick as the last one seen is not lost, and none is told
 * twice.
 */
export interface Watermark {
  readonly time: string;
  readonly ids: readonly string[];
}

/** The watermark of a tenant with no alert at all: every alert it will ever have is after it. */
export const EPOCH_WATERMARK: Watermark = { time: '1970-01-01T00:00:00Z', ids: [] };

/** The watermark at the newest of `alerts` (for instance the one answer to `$orderby=lastUpdateTime desc&$top=1`). */
export function watermarkAt(alerts: readonly AlertDto[]): Watermark {
  return advance(EPOCH_WATERMARK, alerts);
}

/**
 * The changes among a page of `alerts` polled from `watermark`, and the watermark after them. An alert already
 * seen at the watermark's own time is not a change; one with no readable `lastUpdateTime` cannot be placed
 * and is left out. An alert is `CREATED` when its `alertCreationTime` is not before `since` (the watermark the
 * tick started from: it did not exist when the previous tick looked), `UPDATED` otherwise.
 */
export function changesIn(
  alerts: readonly AlertDto[],
  watermark: Watermark,
  since: Watermark,
): { changes: AlertChangeEvent[]; watermark: Watermark } {
  const seen = new Set(watermark.ids);
  const at = instantOf(watermark.time);
  const sinceAt = instantOf(since.time);
  const changes: AlertChangeEvent[] = [];
  for (const alert of alerts) {
    const updated = alert.lastUpdateTime ? instantOf(alert.lastUpdateTime) : undefined;
    if (!updated || !at || compareInstants(updated, at) < 0) continue;
    if (compareInstants(updated, at) === 0 && seen.has(alert.id)) continue;
    const created = alert.alertCreationTime ? instantOf(alert.alertCreationTime) : undefined;
    const isNew = created !== undefined && sinceAt !== undefined && compareInstants(created, sinceAt) >= 0;
    changes.push({ kind: isNew ? 'CREATED' : 'UPDATED', alert });
  }
  changes.sort((a, b) =>
    compareInstants(instantOf(a.alert.lastUpdateTime!)!, instantOf(b.alert.lastUpdateTime!)!),
  );
  return { changes, watermark: advance(watermark, alerts) };
}

/** The watermark moved to the newest of `alerts`, keeping every id seen at that time. */
function advance(watermark: Watermark, alerts: readonly AlertDto[]): Watermark {
  let time = watermark.time;
  let at = instantOf(time);
  let ids = new Set(watermark.ids);
  for (const alert of alerts) {
    const updated = alert.lastUpdateTime ? instantOf(alert.lastUpdateTime) : undefined;
    if (!updated) continue;
    const order = at ? compareInstants(updated, at) : 1;
    if (order > 0) {
      time = alert.lastUpdateTime!;
      at = updated;
      ids = new Set([alert.id]);
    } else if (order === 0) {
      ids.add(alert.id);
    }
  }
  return { time, ids: [...ids] };
}
