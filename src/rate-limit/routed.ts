import type { DefenderApi } from '../defender/apis.js';
import type { QueueDepthSource } from '../ops/metrics.js';
import type { AcquireOptions, ApiBudget, Permit, UpstreamLimiter } from './limiter.js';

/** A whole limiter (local, or shared through Redis under its own key) with the APIs it alone serves. */
export type OwnBudget = UpstreamLimiter & QueueDepthSource & { readonly apis: readonly DefenderApi[] };

/**
 * Several budgets behind one limiter: Defender's REST routes share one set of windows per route
 * (`DEFENDER_RATE_LIMITS`); advanced hunting (`HUNTING_RATE_LIMITS`) and `alerts/batchUpdate` (10/min, 500/h)
 * have their own. Each part is a whole limiter (local, or shared through Redis under its own key), so one API's
 * queue, pauses and windows never touch another part's.
 */
export class RoutedLimiter implements UpstreamLimiter, QueueDepthSource {
  readonly #own: ReadonlyMap<DefenderApi, UpstreamLimiter & QueueDepthSource>;
  readonly #parts: readonly (UpstreamLimiter & QueueDepthSource)[];

  constructor(
    private readonly rest: UpstreamLimiter & QueueDepthSource,
    ...others: readonly OwnBudget[]
  ) {
    this.#own = new Map(others.flatMap((part) => part.apis.map((api) => [api, part] as const)));
    this.#parts = [rest, ...others];
  }

  /** With Redis: whether every budget is shared now. */
  get shared(): boolean | undefined {
    const { shared } = this.rest;
    return shared === undefined ? undefined : this.#parts.every((part) => part.shared !== false);
  }

  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit> {
    return this.#of(api).acquire(api, options);
  }

  tryAcquire(api: DefenderApi): Permit | undefined {
    return this.#of(api).tryAcquire(api);
  }

  whenAvailable(api: DefenderApi, calls: number): number {
    return this.#of(api).whenAvailable(api, calls);
  }

  pause(api: DefenderApi, ms: number): void {
    this.#of(api).pause(api, ms);
  }

  budget(): ApiBudget[] {
    return this.#parts.flatMap((part) => part.budget());
  }

  queueDepths(): Partial<Record<DefenderApi, number>> {
    const depths = this.rest.queueDepths();
    for (const [api, part] of this.#own) depths[api] = part.queueDepths()[api] ?? 0;
    return depths;
  }

  close(): void {
    for (const part of this.#parts) part.close();
  }

  #of(api: DefenderApi): UpstreamLimiter {
    return this.#own.get(api) ?? this.rest;
  }
}
