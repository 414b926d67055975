import { describe, expect, it } from 'vitest';
import type { AlertDto } from '../../../src/defender/types.js';
import { changesIn, watermarkAt } from '../../../src/live/watermark.js';

/** How a poll tick turns Defender's answer into changes, and how far it has then seen. */

const alert = (id: string, created: string, updated: string) =>
  ({ id, alertCreationTime: created, lastUpdateTime: updated }) as AlertDto;

const OLD = '2026-10-01T00:00:00Z';

describe('changesIn', () => {
  const start = watermarkAt([alert('a', OLD, '2026-11-01T00:00:00.0000001Z')]);

  it('tells each alert after the watermark once, oldest first: new ones CREATED, older ones UPDATED', () => {
    const page = [
      alert('a', OLD, '2026-11-01T00:00:00.0000001Z'), // the one seen at the watermark: not a change
      alert('c', '2026-11-01T00:00:00.0000003Z', '2026-11-01T00:00:00.0000003Z'),
      alert('b', OLD, '2026-11-01T00:00:00.0000002Z'),
    ];
    const { changes, watermark } = changesIn(page, start, start);
    expect(changes.map((c) => [c.kind, c.alert.id])).toEqual([
      ['UPDATED', 'b'],
      ['CREATED', 'c'],
    ]);
    expect(watermark).toEqual({ time: '2026-11-01T00:00:00.0000003Z', ids: ['c'] });
  });

  it('keeps a change on the same tick as the watermark that it had not seen, and every id of that tick', () => {
    const { changes, watermark } = changesIn(
      [alert('a', OLD, '2026-11-01T00:00:00.0000001Z'), alert('z', OLD, '2026-11-01T00:00:00.0000001Z')],
      start,
      start,
    );
    expect(changes.map((c) => c.alert.id)).toEqual(['z']);
    expect([...watermark.ids].sort()).toEqual(['a', 'z']);
  });

  it('compares instants, not strings: an offset or fewer digits name the same tick', () => {
    const { changes } = changesIn([alert('a', OLD, '2026-11-01T01:00:00.0000001+01:00')], start, start);
    expect(changes).toEqual([]);
  });
});
