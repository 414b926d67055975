import { createMemoryCache } from '../../../src/cache/entity-cache.js';
import type { DefenderApi } from '../../../src/defender/apis.js';
import type {
  BackgroundRefreshOutcome,
  CallScope,
  DefenderClientOptions,
} from '../../../src/defender/client.js';
import { DefenderClient, newStats } from '../../../src/defender/client.js';
import type { Permit, UpstreamLimiter } from '../../../src/rate-limit/limiter.js';
import { StaticTokenProvider } from '../../../src/auth/tokens.js';
import { GatewayError } from '../../../src/errors.js';

export const MACHINE: DefenderApi = 'machines/{id}';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
}

/** One request Defender received: its path's last segment (the id), its token, and its time on the clock. */
export interface SentRequest {
  readonly id: string;
  readonly token: string;
  readonly at: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Defender as a script: `respond` answers the n-th request for an id (n from 0). Default: the machine itself.
 * A status alone answers with an empty body (429s with `Retry-After: 0`).
 */
export type Respond = (id: string, n: number) => number | Response | Promise<number | Response>;

/** What the client tells the rate limiter, with `free` deciding whether background work finds a slot. */
export class RecordingLimiter implements UpstreamLimiter {
  free = true;
  readonly acquired: DefenderApi[] = [];
  readonly tried: DefenderApi[] = [];
  readonly paused: [DefenderApi, number][] = [];

  acquire(api: DefenderApi): Promise<Permit> {
    this.acquired.push(api);
    return Promise.resolve({ waitedMs: 0 });
  }
  tryAcquire(api: DefenderApi): Permit | undefined {
    this.tried.push(api);
    return this.free ? { waitedMs: 0 } : undefined;
  }
  whenAvailable(): number {
    return 0;
  }
  pause(api: DefenderApi, ms: number): void {
    this.paused.push([api, ms]);
  }
  budget() {
    return [];
  }
  close(): void {}
}

/** A client against a scripted Defender with a manual clock, a recording limiter and a memory cache. */
export function fakeDefender(respond: Respond = () => 200, options: Partial<DefenderClientOptions> = {}) {
  const clock = new ManualClock();
  const limiter = new RecordingLimiter();
  const sent: SentRequest[] = [];
  const counts = new Map<string, number>();
  const refreshes: BackgroundRefreshOutcome[] = [];
  const backgroundErrors: unknown[] = [];
  let refreshed: (() => void) | undefined;
  const fetchStub = (async (input: URL | string | Request, init?: RequestInit) => {
    const id = decodeURIComponent(String(input).split('?')[0]!.split('/').pop()!);
    const token = new Headers(init?.headers).get('authorization')!.replace('Bearer ', '');
    sent.push({ id, token, at: clock.now(), signal: init?.signal ?? undefined });
    const n = counts.get(id) ?? 0;
    counts.set(id, n + 1);
    const answer = await respond(id, n);
    if (answer instanceof Response) return answer;
    if (answer === 200) return Response.json({ id, n });
    return new Response(null, { status: answer, headers: answer === 429 ? { 'retry-after': '0' } : {} });
  }) as typeof fetch;
  const client = new DefenderClient({
    baseUrl: new URL('http://defender.test'),
    tokens: new StaticTokenProvider('app-token'),
    limiter,
    cache: createMemoryCache({ clock }),
    ttlMs: () => 1_000,
    staleMs: 10_000,
    timeoutMs: 1_000,
    maxRetries: 0,
    maxThrottleRetries: 0,
    backoffBaseMs: 0,
    backoffCapMs: 0,
    breakerThreshold: 1,
    breakerHalfOpenAfterMs: 5_000,
    clock,
    fetch: fetchStub,
    observer: {
      onBackgroundRefresh: (_, outcome) => {
        refreshes.push(outcome);
        refreshed?.();
      },
    },
    onBackgroundError: (error) => backgroundErrors.push(error),
    ...options,
  });
  const scope = (extra: Partial<CallScope> = {}): CallScope => ({
    stats: newStats(),
    deadline: clock.now() + 5_000,
    ...extra,
  });
  return {
    client,
    clock,
    limiter,
    sent,
    refreshes,
    backgroundErrors,
    scope,
    get: (id: string, s: CallScope = scope()) => client.get({ api: MACHINE, id }, s),
    /** Resolves once a background refresh has reported its outcome. */
    nextRefresh: () => new Promise<void>((resolve) => (refreshed = resolve)),
  };
}

/** The contract code a call failed with, or `ok`. */
export const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );

/** Lets pending promise callbacks run (a refresh that has nothing to wait for settles within a few turns). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
