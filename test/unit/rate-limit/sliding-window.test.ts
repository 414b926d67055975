import { describe, expect, it } from 'vitest';
import { SlidingWindowLog } from '../../../src/rate-limit/sliding-window.js';

// The log takes the time as an argument: the tests name each instant instead of faking a clock.
const T = 1_000_000;

/** A log with `events` recorded under `k` at the given times. */
function logOf(windows: { limit: number; windowMs: number }[], events: number[] = []) {
  const log = new SlidingWindowLog(windows);
  for (const at of events) log.record('k', at);
  return log;
}

describe('SlidingWindowLog', () => {
  it('moves one event to a later time, kept in order; an event no longer on record is not moved', () => {
    const log = logOf([{ limit: 3, windowMs: 1_000 }], [T, T + 100, T + 200]);
    log.move('k', T, T + 150);
    expect(log.events('k', T + 300)).toEqual([T + 100, T + 150, T + 200]);
    // Full until the earliest of them slides out, one window after T + 100 rather than after T.
    expect(log.wait('k', T + 300).ms).toBe(800);
    log.move('k', T + 50, T + 900);
    log.move('other', T, T + 900);
    expect(log.events('k', T + 300)).toEqual([T + 100, T + 150, T + 200]);
  });

  it('lets events happen up to the limit, then says how long until the oldest slides out', () => {
    const log = logOf([{ limit: 3, windowMs: 1_000 }]);
    for (const at of [T, T + 100, T + 200]) {
      expect(log.wait('k', at).ms).toBe(0);
      log.record('k', at);
    }
    expect(log.wait('k', T + 300)).toEqual({ ms: 700, window: 0 });
  });

  it('slides: a slot comes back exactly one window after the event that took it', () => {
    const log = logOf([{ limit: 2, windowMs: 1_000 }], [T, T + 400]);
    expect(log.wait('k', T + 999).ms).toBe(1);
    expect(log.wait('k', T + 1_000).ms).toBe(0);
    log.record('k', T + 1_000);
    expect(log.wait('k', T + 1_000).ms).toBe(400);
  });

  it('holds back by whichever of several windows frees a slot last, and names it', () => {
    const log = logOf(
      [
        { limit: 2, windowMs: 1_000 },
        { limit: 3, windowMs: 10_000 },
      ],
      [T, T + 100, T + 2_000],
    );
    // The short window has room at T + 2,500; the long one is full until T + 10,000.
    expect(log.wait('k', T + 2_500)).toEqual({ ms: 7_500, window: 1 });
    expect(log.usage('k', T + 2_500)).toEqual([1, 3]);
  });

  it('keeps keys apart', () => {
    const log = logOf([{ limit: 1, windowMs: 1_000 }], [T]);
    expect(log.wait('k', T).ms).toBe(1_000);
    expect(log.wait('other', T).ms).toBe(0);
  });

  it('foresees when the k-th next event may happen if events come as early as allowed', () => {
    const log = logOf([{ limit: 2, windowMs: 1_000 }], [T]);
    // One slot is free now; then two a window after each pair, as each pair slides out.
    expect([0, 1, 2, 3, 4].map((k) => log.slotAt('k', T, k) - T)).toEqual([0, 1_000, 1_000, 2_000, 2_000]);
  });

  it('foresees slots under every window at once', () => {
    const log = logOf([
      { limit: 2, windowMs: 1_000 },
      { limit: 3, windowMs: 10_000 },
    ]);
    // Two now, one a window later, then the long window is full until the first two slide out of it.
    expect([0, 1, 2, 3].map((k) => log.slotAt('k', T, k) - T)).toEqual([0, 0, 1_000, 10_000]);
  });

  it('says when each window regains a slot, and now when it is empty', () => {
    const log = logOf(
      [
        { limit: 5, windowMs: 1_000 },
        { limit: 5, windowMs: 60_000 },
      ],
      [T, T + 500],
    );
    expect(log.resetAt('k', T + 1_200)).toEqual([T + 1_500, T + 60_000]);
    expect(log.resetAt('k', T + 2_000)).toEqual([T + 2_000, T + 60_000]);
  });

  it('counts events added from elsewhere in time order, whatever order they come in', () => {
    const log = logOf([{ limit: 3, windowMs: 1_000 }], [T + 500]);
    log.add('k', [T + 300, T], T + 600);
    expect(log.events('k', T + 600)).toEqual([T, T + 300, T + 500]);
    expect(log.wait('k', T + 600)).toEqual({ ms: 400, window: 0 });
  });

  it('keeps no event older than the longest window', () => {
    const log = logOf([{ limit: 100, windowMs: 1_000 }], [T, T + 10, T + 900]);
    expect(log.events('k', T + 1_010)).toEqual([T + 900]);
    log.reset();
    expect(log.events('k', T + 1_010)).toEqual([]);
  });

  it('refuses to be built without a window', () => {
    expect(() => new SlidingWindowLog([])).toThrow('SlidingWindowLog needs at least one window');
  });
});
