import type { ApiState } from './redis-windows.js';
import type { WindowSpec } from './sliding-window.js';
import type { RateLimitWindow } from './windows.js';

/*
 * The budget one replica keeps on its own while Redis is unreachable (see RedisRateLimiter): its share of
 * every window, and the calls that share starts with so that the replicas together stay within the limits.
 */

/** One replica's share of every window: the limit divided by the replicas, rounded down, at least 1. */
export function shareOf(windows: readonly RateLimitWindow[], replicas: number): RateLimitWindow[] {
  const n = Math.max(1, Math.floor(replicas));
  return windows.map((w) => ({
    limit: Math.max(1, Math.floor(w.limit / n)),
    windowSeconds: w.windowSeconds,
  }));
}

/**
 * The calls one replica reserves in its local share when Redis fails: its part (1/replicas, rounded up) of
 * the calls Redis last counted in each window, each dated as late as such a call can have been made: a call in
 * the shortest window when Redis counted it, one in a longer window but not the next shorter one just before
 * that shorter window began.
 */
export function reservedCalls(state: ApiState, specs: readonly WindowSpec[], replicas: number): number[] {
  const now = state.at;
  const order = specs.map((s, i) => ({ windowMs: s.windowMs, count: state.windows[i]?.count ?? 0 }));
  order.sort((a, b) => a.windowMs - b.windowMs);
  const times: number[] = [];
  let placed = 0;
  let at = now;
  for (const w of order) {
    const need = Math.ceil(w.count / replicas);
    for (; placed < need; placed++) times.push(at);
    at = now - w.windowMs;
  }
  return times;
}
