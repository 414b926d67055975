import { describe, expect, it } from 'vitest';
import type { EdgeCounts, FanoutStore } from '../../../src/planner/fanout.js';
import {
  FanoutRecorder,
  FanoutStats,
  distinctRatio,
  expectedLength,
  sumOf,
} from '../../../src/planner/fanout.js';

/** What one operation saw on one edge: these list lengths, each list delivered whole, all children distinct. */
function seen(edge: string, lengths: readonly number[], prefix = 'p'): Map<string, EdgeCounts> {
  const recorder = new FanoutRecorder();
  lengths.forEach((n, i) =>
    recorder.observe(
      edge,
      `${prefix}${i}`,
      n,
      Array.from({ length: n }, (_, k) => `${prefix}${i}-${k}`),
    ),
  );
  return recorder.seen();
}

const EDGE = 'Machine(record).logonUsers';

describe('the learnt fan-out of an edge', () => {
  it('is the prior until something is seen, then the mean of what was seen, the prior weighing one parent', () => {
    expect(expectedLength(undefined, 25)).toBe(25);
    const counts = seen(EDGE, Array<number>(99).fill(1)).get(EDGE);
    expect(expectedLength(counts, 25)).toBeCloseTo((25 + 99) / 100);
  });

  it('reads the mean of min(first, length) from the histogram', () => {
    // Lengths 1, 2, 40 and 100: with first 10, 1 + 2 + 10 + 10.
    const counts = seen(EDGE, [1, 2, 40, 100]).get(EDGE);
    expect(expectedLength(counts, 0, 10)).toBeCloseTo((0 + 1 + 2 + 10 + 10) / 5);
    expect(expectedLength(counts, 0)).toBeCloseTo((1 + 2 + 40 + 100) / 5);
    expect(expectedLength(counts, 25, 0)).toBe(0);
  });

  it('counts a parent once per operation, and how many of the children delivered were distinct', () => {
    const recorder = new FanoutRecorder();
    recorder.observe('Alert(record).user', 'a1', 1, ['bob']);
    recorder.observe('Alert(record).user', 'a1', 1, ['bob']); // the same alert, asked twice
    recorder.observe('Alert(record).user', 'a2', 1, ['bob']);
    recorder.observe('Alert(record).user', 'a3', 0, []);
    const counts = recorder.seen().get('Alert(record).user')!;
    expect(counts).toMatchObject({ parents: 3, sum: 2, children: 2, distinct: 1 });
    // One distinct of two, against the prior's five of five.
    expect(distinctRatio(counts)).toBeCloseTo(6 / 7);
    expect(distinctRatio(undefined)).toBe(1);
  });
});

describe('the fan-out statistics', () => {
  it('add what every operation saw', () => {
    const stats = new FanoutStats();
    stats.record(seen(EDGE, [1, 1]));
    stats.record(seen(EDGE, [3], 'q'));
    expect(stats.counts(EDGE)).toMatchObject({ parents: 3, sum: 5 });
  });

  it('read the shared totals, plus what is not sent yet, and keep to their own while the store fails', async () => {
    const totals = new Map<string, EdgeCounts>();
    let up = true;
    const store: FanoutStore = {
      async add(deltas) {
        if (!up) throw new Error('down');
        for (const [edge, counts] of deltas) totals.set(edge, sumOf(totals.get(edge), counts));
      },
      async read(edges) {
        if (!up) throw new Error('down');
        return new Map(edges.filter((e) => totals.has(e)).map((e) => [e, sumOf(totals.get(e))]));
      },
    };
    // Another replica's counts, already in the store.
    totals.set(EDGE, seen(EDGE, Array<number>(10).fill(2), 'other').get(EDGE)!);
    const errors: unknown[] = [];
    const stats = new FanoutStats({ store, refreshMs: 0, onStoreError: (e) => errors.push(e) });
    stats.record(seen(EDGE, [4]));
    await stats.sync();
    expect(stats.counts(EDGE)).toMatchObject({ parents: 11, sum: 24 });
    expect(totals.get(EDGE)).toMatchObject({ parents: 11, sum: 24 });

    up = false;
    stats.record(seen(EDGE, [6], 'x'));
    await stats.sync();
    expect(errors.length).toBeGreaterThan(0);
    // Its own: the two lists it saw, none of the other replica's.
    expect(stats.counts(EDGE)).toMatchObject({ parents: 2, sum: 10 });

    up = true;
    await stats.sync();
    // The delta kept while the store was down is added once, not lost and not twice.
    expect(totals.get(EDGE)).toMatchObject({ parents: 12, sum: 30 });
    expect(stats.counts(EDGE)).toMatchObject({ parents: 12, sum: 30 });
  });
});
