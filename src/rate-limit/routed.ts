import type { DefenderApi } from '../defender/apis.js';
import { HUNTING_API } from '../defender/apis.js';
import type { QueueDepthSource } from '../ops/metrics.js';
import type { AcquireOptions, ApiBudget, Permit, UpstreamLimiter } from './limiter.js';

/**
 * Two budgets behind one limiter: Defender's REST routes share one set of windows per route
 * (`DEFENDER_RATE_LIMITS`), advanced hunting has its own (`HUNTING_RATE_LIMITS`). Each part is a whole limiter
 * (local, or shared through Redis under its own key), so hunting's queue, pauses and windows never touch a REST
 * route's.
 */
export class RoutedLimiter implements UpstreamLimiter, QueueDepthSource {
  constructor(
    private readonly rest: UpstreamLimiter & QueueDepthSource,
    private readonly hunting: UpstreamLimiter & QueueDepthSource,
  ) {}

  /** With Redis: whether both budgets are shared now. */
  get shared(): boolean | undefined {
    const { shared } = this.rest;
    return shared === undefined ? undefined : shared && this.hunting.shared !== false;
  }

  acquire(api: DefenderApi, options: AcquireOptions): Promise<Permit> {
    return this.#of(api).acquire(api, options);
  }

  tryAcquire(api: DefenderApi): boolean {
    return this.#of(api).tryAcquire(api);
  }

  whenAvailable(api: DefenderApi, calls: number): number {
    return this.#of(api).whenAvailable(api, calls);
  }

  pause(api: DefenderApi, ms: number): void {
    this.#of(api).pause(api, ms);
  }

  budget(): ApiBudget[] {
    return [...this.rest.budget(), ...this.hunting.budget()];
  }

  queueDepths(): Partial<Record<DefenderApi, number>> {
    return { ...this.rest.queueDepths(), hunting: this.hunting.queueDepths().hunting ?? 0 };
  }

  close(): void {
    this.rest.close();
    this.hunting.close();
  }

  #of(api: DefenderApi): UpstreamLimiter {
    return api === HUNTING_API ? this.hunting : this.rest;
  }
}
