import type { SimulatorApi } from './routes.js';

/** What an injected fault does to a call instead of (or before) answering it. */
export type Fault =
  /** Answer with this status and Defender's error body (500 `InternalServerError`, 503 `ServiceUnavailable`…). */
  | { readonly kind: 'status'; readonly status: number }
  /** Answer normally, `delayMs` later than usual. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Never answer; the connection stays open until the client gives up or the simulator closes. */
  | { readonly kind: 'hang' }
  /** Destroy the connection without an answer. */
  | { readonly kind: 'reset' }
  /** Answer 200 with a body that is not JSON. */
  | { readonly kind: 'malformed' }
  /** Answer 429 with this Retry-After, whatever the throttle says. */
  | { readonly kind: 'throttle'; readonly retryAfterSeconds: number }
  /** Answer 200 with this JSON body instead of the tenant's (shapes Defender might send one day). */
  | { readonly kind: 'body'; readonly body: unknown }
  /** Answer a redirect to `location` (an upstream must never follow it with its token). */
  | { readonly kind: 'redirect'; readonly location: string };

export interface FaultRule {
  /** The API (route template, or `hunting`) it applies to; `*` for every API. */
  readonly api: SimulatorApi | '*';
  /**
   * Only calls whose `{id}` segment is this one (compared without regard to case, as Defender compares
   * account names): one machine's or one user's calls fail while the same route answers for the others.
   * Default: every id.
   */
  readonly id?: string;
  readonly fault: Fault;
  /** Apply to the next `times` matching calls, then retire. */
  readonly times?: number;
  /** Apply to this share (0–1) of matching calls, spread evenly and deterministically. Default 1. */
  readonly ratio?: number;
}

interface ActiveRule {
  readonly rule: FaultRule;
  /** Matching calls seen so far, which decides the next one deterministically under `ratio`. */
  seen: number;
  applied: number;
}

/** The fault rules in force, consulted once per routed call; the first rule that fires wins. */
export class FaultInjector {
  #rules: ActiveRule[] = [];

  add(rule: FaultRule): void {
    const ratio = rule.ratio ?? 1;
    if (!(ratio > 0 && ratio <= 1)) throw new Error(`fault ratio must be in (0, 1], got ${ratio}`);
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
      throw new Error(`fault times must be a positive integer, got ${rule.times}`);
    }
    this.#rules.push({ rule, seen: 0, applied: 0 });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The fault for this call (its API and decoded `{id}`, if any), if any rule fires. */
  next(api: SimulatorApi, id?: string): Fault | undefined {
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.api !== '*' && rule.api !== api) continue;
      if (rule.id !== undefined && rule.id.toLowerCase() !== id?.toLowerCase()) continue;
      const ratio = rule.ratio ?? 1;
      const n = active.seen++;
      // Fires on exactly floor(n·ratio) of the first n matching calls: an even spread without randomness.
      if (Math.floor((n + 1) * ratio) === Math.floor(n * ratio)) continue;
      active.applied++;
      if (rule.times !== undefined && active.applied >= rule.times) {
        this.#rules = this.#rules.filter((r) => r !== active);
      }
      return rule.fault;
    }
    return undefined;
  }
}
