import type { RateLimitWindow } from '../rate-limit/windows.js';
import { SlidingWindowLog } from '../rate-limit/sliding-window.js';

/** Why a call was refused: the window that is full and when it frees a slot. */
export interface ThrottleRefusal {
  readonly window: RateLimitWindow;
  readonly retryAfterSeconds: number;
}

/**
 * Defender's throttling, per key (route template + caller): every window of the limit set applies at once.
 * Windows slide: a call is admitted only if fewer than `limit` admitted calls fall in the last `windowSeconds`.
 * A sliding window is the strictest reading of "100 calls per minute", so a gateway that never trips this
 * simulator never trips Defender's own fixed or sliding windows either. Refused calls are not counted.
 */
export class SlidingWindowThrottle {
  readonly #log: SlidingWindowLog;

  constructor(readonly windows: readonly RateLimitWindow[]) {
    this.#log = new SlidingWindowLog(
      windows.map((w) => ({ limit: w.limit, windowMs: w.windowSeconds * 1000 })),
    );
  }

  /** Admits and records a call for `key` at `now`, or says which window refuses it and for how long. */
  admit(key: string, now = Date.now()): ThrottleRefusal | undefined {
    const wait = this.#log.wait(key, now);
    if (wait.ms > 0) {
      return {
        window: this.windows[wait.window]!,
        retryAfterSeconds: Math.max(1, Math.ceil(wait.ms / 1000)),
      };
    }
    this.#log.record(key, now);
    return undefined;
  }

  reset(): void {
    this.#log.reset();
  }
}

/** `60` → `00:01:00`, the .NET TimeSpan form Defender's 429 message uses. */
export function formatTimeSpan(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}
