/** One rate-limit window: at most `limit` calls in any `windowSeconds`. */
export interface RateLimitWindow {
  readonly limit: number;
  readonly windowSeconds: number;
}

const WINDOW = /^(\d+)\/(\d+)(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/**
 * Parses a limit set such as `100/60s,1500/3600s` (units s, m or h). Throws an `Error` whose message says
 * what was expected, so that configuration can name the variable that held it.
 */
export function parseRateLimits(text: string): RateLimitWindow[] {
  const windows = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = WINDOW.exec(part);
      if (!match) throw new Error(`expected windows like "100/60s,1500/3600s", got "${part}"`);
      const limit = Number(match[1]);
      const windowSeconds = Number(match[2]) * UNIT_SECONDS[match[3] as keyof typeof UNIT_SECONDS];
      if (limit < 1 || windowSeconds < 1) throw new Error(`limit and window must be positive in "${part}"`);
      return { limit, windowSeconds };
    });
  if (windows.length === 0) throw new Error('expected at least one window, like "100/60s"');
  return windows.sort((a, b) => a.windowSeconds - b.windowSeconds);
}
