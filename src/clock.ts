/**
 * Time, injected. The limiters, the breaker, the caches and the client read the time only through a `Clock`, so
 * unit tests drive them with a manual clock or vitest's fake timers instead of sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** The process's clock. */
export const systemClock: Clock = { now: () => Date.now() };
