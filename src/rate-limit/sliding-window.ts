/** One window in milliseconds: at most `limit` events in any `windowMs`. */
export interface WindowSpec {
  readonly limit: number;
  readonly windowMs: number;
}

/** When the next event may happen under `key`, and which window holds it back. */
export interface Wait {
  /** 0 when an event may happen now. */
  readonly ms: number;
  /** Index (in the spec list) of the window that holds it back longest, when `ms` > 0. */
  readonly window: number;
}

/**
 * A sliding-window log per key: the exact count of events in the last `windowMs` of every window, so a
 * caller can ask how long until one more event fits under all of them. Memory is bounded by the largest
 * limit per key, since events older than the longest window are dropped.
 *
 * Both sides of an upstream budget use it: the simulator refuses what Defender would refuse, and the
 * gateway's limiter waits until a call fits.
 */
export class SlidingWindowLog {
  readonly #events = new Map<string, number[]>();
  readonly #longestMs: number;

  constructor(readonly windows: readonly WindowSpec[]) {
    if (windows.length === 0) throw new Error('SlidingWindowLog needs at least one window');
    this.#longestMs = Math.max(...windows.map((w) => w.windowMs));
  }

  wait(key: string, now: number): Wait {
    const times = this.#trimmed(key, now);
    let wait: Wait = { ms: 0, window: -1 };
    this.windows.forEach((w, index) => {
      if (times.length < w.limit) return;
      // The window has room again once the event that filled it slides out.
      const ms = times[times.length - w.limit]! + w.windowMs - now;
      if (ms > wait.ms) wait = { ms, window: index };
    });
    return wait;
  }

  /**
   * When the `k`-th event from now (0 = the next) could happen if events happen as early as allowed: in
   * each window, the event that must slide out first, or the `k − limit`-th future event plus the window.
   */
  slotAt(key: string, now: number, k: number): number {
    const times = this.#trimmed(key, now);
    let at = now;
    for (const w of this.windows) {
      at = Math.max(at, slotInWindow(times, w, now, k));
    }
    return at;
  }

  record(key: string, now: number): void {
    this.#trimmed(key, now).push(now);
  }

  /**
   * Moves one event of `key` from time `from` to `to` (later), kept sorted: a call counted from when it was let
   * go, counted from when it was over instead. Nothing when no event is at `from` (it slid out, or was forgotten).
   */
  move(key: string, from: number, to: number): void {
    const times = this.#events.get(key);
    if (!times) return;
    const index = countUpTo(times, from) - 1;
    if (index < 0 || times[index] !== from) return;
    times.splice(index, 1);
    times.splice(countUpTo(times, to), 0, to);
  }

  /** Adds events at the given times (any order, none later than `now`), kept sorted. */
  add(key: string, times: readonly number[], now: number): void {
    const events = this.#trimmed(key, now);
    events.push(...times);
    events.sort((a, b) => a - b);
    this.#trimmed(key, now);
  }

  /** The key's events in the longest window, oldest first. */
  events(key: string, now: number): readonly number[] {
    return [...this.#trimmed(key, now)];
  }

  /** Events under `key` in each window now, in window order. */
  usage(key: string, now: number): number[] {
    const times = this.#trimmed(key, now);
    return this.windows.map((w) => times.length - countUpTo(times, now - w.windowMs));
  }

  /** When each window regains a slot: its oldest event plus the window (now when it is empty). */
  resetAt(key: string, now: number): number[] {
    const times = this.#trimmed(key, now);
    return this.windows.map((w) => {
      const first = countUpTo(times, now - w.windowMs);
      return first < times.length ? times[first]! + w.windowMs : now;
    });
  }

  /** Keys with events in the longest window. */
  keys(): string[] {
    return [...this.#events.keys()];
  }

  reset(): void {
    this.#events.clear();
  }

  /** The key's events with those older than the longest window dropped, so memory stays bounded. */
  #trimmed(key: string, now: number): number[] {
    let times = this.#events.get(key);
    if (!times) {
      times = [];
      this.#events.set(key, times);
    }
    const drop = countUpTo(times, now - this.#longestMs);
    if (drop > 0) times.splice(0, drop);
    return times;
  }
}

function slotInWindow(times: readonly number[], w: WindowSpec, now: number, k: number): number {
  const index = times.length - w.limit + k;
  if (index < 0) return now;
  if (index < times.length) return Math.max(now, times[index]! + w.windowMs);
  // Beyond the events on record, each future event frees its slot one window after it happens.
  return slotInWindow(times, w, now, k - w.limit) + w.windowMs;
}

/** Number of sorted times at or before `limit` (binary search). */
function countUpTo(times: readonly number[], limit: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
