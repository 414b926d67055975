import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { DefenderApi } from './apis.js';
import { ErrorCode, GatewayError } from '../errors.js';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** How one call ended, for the breaker of its API. */
export type CallOutcome =
  /** Defender answered (200, 404, 429 or another 4xx): the API works. */
  | 'success'
  /** The call failed on 5xx, timeouts or connection errors, after its retries. */
  | 'failure'
  /** Says nothing about Defender's health (cancelled, refused by our own limiter or cap, no token). */
  | 'neutral';

export interface BreakerOptions {
  /** Consecutive failed calls that open an API's breaker. Default 5. */
  readonly threshold?: number;
  /** How long an open breaker refuses calls before it lets one probe through (ms). Default 30 s. */
  readonly halfOpenAfterMs?: number;
  /** Where the breaker reads the time (its open period). Default: the system clock. */
  readonly clock?: Clock;
  /** Told when an API's breaker changes state (metrics). */
  readonly onStateChange?: (api: DefenderApi, state: BreakerState) => void;
}

interface ApiCircuit {
  failures: number;
  /** Epoch ms the breaker opened; undefined while closed. */
  openedAt?: number;
  /** A half-open probe is in flight. */
  probing: boolean;
}

/**
 * One circuit breaker per Defender API (route template). It counts **calls**, not attempts: a call that still
 * fails on 5xx, a timeout or a connection error after its retries is one failure. After `threshold`
 * consecutive failures the API's breaker opens, and calls to it are refused at once with UPSTREAM_UNAVAILABLE
 * (no upstream request). After `halfOpenAfterMs` one probe call goes through: success closes the breaker,
 * failure opens it again for another `halfOpenAfterMs`. A success resets the count.
 *
 * A 429 is an answer, like a 404 or a 403: it is Defender's own throttling (its budget, or "by CPU"), sent by a
 * Defender that is up and reading requests, so it never counts as a failure and, as a probe's answer, closes the
 * breaker. Counting it as neutral instead left the breaker half-open while Defender throttled: every other call
 * was refused as UPSTREAM_UNAVAILABLE, though the truth was RATE_LIMITED, and the rate limiter's pause after the
 * 429 already keeps the calls that follow from hammering it.
 */
export class CircuitBreaker {
  readonly #circuits = new Map<DefenderApi, ApiCircuit>();
  readonly #threshold: number;
  readonly #halfOpenAfterMs: number;
  readonly #clock: Clock;
  readonly #onStateChange: ((api: DefenderApi, state: BreakerState) => void) | undefined;

  constructor(options: BreakerOptions = {}) {
    this.#threshold = Math.max(1, options.threshold ?? 5);
    this.#halfOpenAfterMs = Math.max(0, options.halfOpenAfterMs ?? 30_000);
    this.#clock = options.clock ?? systemClock;
    this.#onStateChange = options.onStateChange;
  }

  state(api: DefenderApi): BreakerState {
    const circuit = this.#circuits.get(api);
    if (circuit?.openedAt === undefined) return 'closed';
    return this.#clock.now() - circuit.openedAt >= this.#halfOpenAfterMs ? 'halfOpen' : 'open';
  }

  /**
   * Lets a call to `api` go, or throws UPSTREAM_UNAVAILABLE at once. Every admitted call must be followed by
   * exactly one {@link settle} with its outcome (it may be the half-open probe).
   */
  admit(api: DefenderApi): void {
    const circuit = this.#circuits.get(api);
    if (circuit?.openedAt === undefined) return;
    const state = this.state(api);
    if (state === 'halfOpen' && !circuit.probing) {
      circuit.probing = true;
      this.#onStateChange?.(api, 'halfOpen');
      return;
    }
    const left = Math.max(0, circuit.openedAt + this.#halfOpenAfterMs - this.#clock.now());
    throw new GatewayError(ErrorCode.UpstreamUnavailable, `Defender is failing on ${api}; retry later.`, {
      retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)),
    });
  }

  /** Whether a background call (a cache refresh) may go now: only while closed, never as the probe. */
  allowsBackground(api: DefenderApi): boolean {
    return this.#circuits.get(api)?.openedAt === undefined;
  }

  /** Records how an admitted call ended. */
  settle(api: DefenderApi, outcome: CallOutcome): void {
    const circuit = this.#circuits.get(api) ?? { failures: 0, probing: false };
    this.#circuits.set(api, circuit);
    const wasProbe = circuit.probing;
    circuit.probing = false;
    if (outcome === 'success') {
      const wasOpen = circuit.openedAt !== undefined;
      circuit.failures = 0;
      circuit.openedAt = undefined;
      if (wasOpen) this.#onStateChange?.(api, 'closed');
    } else if (outcome === 'failure') {
      circuit.failures++;
      // A failed probe re-opens at once; a failure of a call admitted before the breaker opened only extends it.
      if (wasProbe || (circuit.openedAt === undefined && circuit.failures >= this.#threshold)) {
        circuit.openedAt = this.#clock.now();
        this.#onStateChange?.(api, 'open');
      }
    }
    // 'neutral' changes nothing, but frees the probe slot so that the next call probes.
  }
}
