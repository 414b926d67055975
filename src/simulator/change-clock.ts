/**
 * The simulator's time once it runs. The generated tenant is a snapshot taken at `tenantNow`
 * (`SIMULATOR_NOW`); from the moment the simulator starts, its now is `tenantNow` plus the time its clock has
 * moved since then, so alerts created or updated later carry later times, as on a live tenant.
 */

import type { Ticks } from './data-time.js';
import { Clock, TICKS_PER_MS } from './data-time.js';

/** A source of the current time in ms since the epoch; tests inject one they move by hand. */
export interface SimulatorClock {
  now(): number;
}

export const systemClock: SimulatorClock = { now: () => Date.now() };

/**
 * Hands out the times of changes. Every change gets a later time than the one before (one 100 ns tick later
 * when the clock has not moved, or went back), and later than every generated date, so a client polling
 * `lastUpdateTime gt <watermark>` sees each change exactly once and in order.
 */
export class ChangeClock {
  readonly #format: Clock;
  readonly #startedAtMs: number;
  /** The last change's time, in ticks after `tenantNow`; 0 is the newest a generated date can be. */
  #lastTicks: Ticks = 0;

  constructor(
    private readonly tenantNowMs: number,
    private readonly clock: SimulatorClock,
  ) {
    this.#format = new Clock(tenantNowMs);
    this.#startedAtMs = clock.now();
  }

  /** The simulator's now, in ms since the epoch. */
  nowMs(): number {
    return this.tenantNowMs + (this.clock.now() - this.#startedAtMs);
  }

  /** The time of a change made now, in ticks after `tenantNow`: strictly after every earlier change. */
  stamp(): Ticks {
    const ticks = Math.max(this.current(), this.#lastTicks + 1);
    this.#lastTicks = ticks;
    return ticks;
  }

  /** Now, in ticks after `tenantNow`, never before the last change: a time a client may use as a watermark. */
  current(): Ticks {
    return Math.max(Math.floor((this.nowMs() - this.tenantNowMs) * TICKS_PER_MS), this.#lastTicks);
  }

  /** Defender's form, seven fractional digits: `2026-11-01T00:00:12.3450001Z`. */
  format(t: Ticks): string {
    return this.#format.ticksTime(t);
  }

  /** The 18-digit .NET tick count an alert id carries. */
  dotNetTicks(t: Ticks): string {
    return this.#format.dotNetTicks(t);
  }
}
