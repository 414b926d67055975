import type { DefenderApi } from './apis.js';
import type { CallOutcome, CircuitBreaker } from './breaker.js';
import type { FetchOptions, RequestBody } from './fetch.js';
import { RetryableFailure, fetchOnce } from './fetch.js';
import type { CallScope, CallSpan } from './scope.js';
import { apiStats } from './scope.js';
import type { CachedAnswer } from '../cache/entity-cache.js';
import type { Permit, UpstreamLimiter } from '../rate-limit/limiter.js';
import type { TokenProvider } from '../auth/tokens.js';
import { TokenAcquisitionError } from '../auth/tokens.js';
import {
  ErrorCode,
  GatewayError,
  defenderPastDeadline,
  defenderThrottling,
  defenderUnavailable,
  rateLimited,
  writeOutcomeUnknown,
} from '../errors.js';

export interface PipelineOptions extends FetchOptions {
  /** The identity calls go out as unless their scope names another. */
  readonly tokens: TokenProvider;
  /** The same identity's tokens for Microsoft Graph (advanced hunting). Default: `tokens`. */
  readonly graphTokens?: TokenProvider | undefined;
  readonly limiter: UpstreamLimiter;
  readonly breaker: CircuitBreaker;
  /** Retries after a 5xx, a timeout or a network error. */
  readonly maxRetries: number;
  /** Retries after a 429, each after its Retry-After pause. */
  readonly maxThrottleRetries: number;
  /** Backoff base (ms); the delay before retry n is drawn uniformly in [0, min(cap, base·2^n)]. Default 200. */
  readonly backoffBaseMs?: number | undefined;
  /** Backoff cap (ms). Default 2,000. */
  readonly backoffCapMs?: number | undefined;
  /** The jitter's source, uniform in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** How one call waits for the budget and how often it tries. */
interface Policy {
  readonly maxRetries: number;
  readonly maxThrottleRetries: number;
  /** Takes the limiter's slot for one attempt. */
  readonly slot: (api: DefenderApi, scope: CallScope) => Promise<Permit>;
  /**
   * Whether the scope's deadline bounds the call: its token wait, every attempt (each one's timeout is the
   * smaller of the per-call timeout and what is left) and every backoff. Without, only the per-call timeout does.
   */
  readonly bounded: boolean;
}

/** What an attempt's signal aborts with when the operation's deadline comes (never shown to a client). */
class DeadlineReached extends Error {}

/** The longest delay `setTimeout` takes (ms); a deadline further away is never reached by a timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A background call is tried once: a failure keeps the stale answer, a later hit tries again, and the budget is
 * never spent on retries clients could use. Its one slot is taken before it starts (see `background`).
 */
const BACKGROUND: Omit<Policy, 'slot'> = {
  maxRetries: 0,
  maxThrottleRetries: 0,
  // A refresh has no caller waiting: its scope's deadline is its start, and the per-call timeout bounds it.
  bounded: false,
};

/**
 * The way every call to Defender goes, a client's or the gateway's own: circuit breaker → the operation's cap
 * → token → rate limiter → one request ({@link fetchOnce}, its status mapped by `errors.ts`'s table) → retries
 * with jittered backoff after 5xx, timeouts and network errors, and after 429s once Retry-After has passed.
 */
export class CallPipeline {
  readonly #interactive: Policy;

  constructor(private readonly options: PipelineOptions) {
    this.#interactive = {
      maxRetries: options.maxRetries,
      maxThrottleRetries: options.maxThrottleRetries,
      slot: async (api, scope) => {
        const permit = await options.limiter.acquire(api, scope);
        options.observer?.onLimiterWait?.(api, permit.waitedMs);
        return permit;
      },
      bounded: true,
    };
  }

  /**
   * A client's call: it waits its turn for the budget and is retried, all within the scope's deadline: past it,
   * the call fails UPSTREAM_UNAVAILABLE (RATE_LIMITED while it still waits for the budget). `body` makes it a
   * POST or PATCH (advanced hunting's query, an alert's update); one that is not idempotent is not sent again
   * once its outcome is unknown.
   */
  call(api: DefenderApi, url: URL, scope: CallScope, body?: RequestBody): Promise<CachedAnswer> {
    return this.#guarded(api, url, scope, this.#interactive, body);
  }

  /**
   * The gateway's own call (a cache refresh): it starts only while the breaker is closed (never as its probe)
   * and a slot is free now with nobody waiting for one, so clients' calls always go first, and is tried once.
   * Undefined when it cannot start: nothing is sent. Its scope should be its own, so no operation pays for it.
   */
  background(api: DefenderApi, url: URL, scope: CallScope): Promise<CachedAnswer> | undefined {
    if (!this.options.breaker.allowsBackground(api)) return undefined;
    const permit = this.options.limiter.tryAcquire(api);
    if (!permit) return undefined;
    return this.#guarded(api, url, scope, { ...BACKGROUND, slot: () => Promise.resolve(permit) });
  }

  /** The identity calls of this scope go out as (cache partitions follow it); Graph's for `hunting`. */
  tokensFor(scope: CallScope, api?: DefenderApi): TokenProvider {
    if (api === 'hunting') {
      if (scope.tokens) return scope.graphTokens ?? scope.tokens;
      return this.options.graphTokens ?? this.options.tokens;
    }
    return scope.tokens ?? this.options.tokens;
  }

  /**
   * A call through its API's circuit breaker: refused at once while it is open, its outcome recorded once. A
   * 429 settles it as an answer the moment it arrives: the call may go on waiting out Retry-After, but Defender
   * has shown it is up, and a half-open breaker must not keep refusing everyone else meanwhile. So does any
   * refusal Defender answered with (400, 401, 403).
   */
  async #guarded(
    api: DefenderApi,
    url: URL,
    scope: CallScope,
    policy: Policy,
    body?: RequestBody,
  ): Promise<CachedAnswer> {
    const { breaker } = this.options;
    const span = scope.trace?.startCall(api, body?.method ?? 'GET');
    try {
      breaker.admit(api);
    } catch (error) {
      span?.end({ error });
      throw error;
    }
    let settled = false;
    const settle = (outcome: CallOutcome) => {
      if (settled) return;
      settled = true;
      breaker.settle(api, outcome);
    };
    try {
      const answer = await this.#withRetries(api, url, scope, policy, () => settle('success'), body, span);
      settle('success');
      span?.end({ status: answer.status });
      return answer;
    } catch (error) {
      settle(outcomeOf(error));
      span?.end({ error });
      throw error;
    }
  }

  async #withRetries(
    api: DefenderApi,
    url: URL,
    scope: CallScope,
    policy: Policy,
    onAnswered: () => void,
    body: RequestBody | undefined,
    span: CallSpan | undefined,
  ): Promise<CachedAnswer> {
    const fetchOptions = span ? tracedFetchOptions(this.options, span) : this.options;
    const deadline = policy.bounded ? this.#deadlineSignal(scope) : undefined;
    const signal = !deadline
      ? scope.signal
      : scope.signal
        ? AbortSignal.any([scope.signal, deadline.signal])
        : deadline.signal;
    const { clock } = this.options;
    let failures = 0;
    let throttles = 0;
    let last: RetryableFailure | undefined;
    try {
      for (;;) {
        try {
          if (deadline && clock.now() >= scope.deadline) throw new DeadlineReached();
          const { token, permit } = await this.#admit(api, scope, policy, signal, span);
          let attempt;
          try {
            // The deadline's abort cuts the attempt short when it comes before `timeoutMs` (fetchOnce's own).
            attempt = await fetchOnce(fetchOptions, api, url, token, signal, body);
          } finally {
            permit.done?.();
          }
          if (attempt.kind === 'answer') return attempt.answer;
          if (attempt.kind === 'refusal') {
            if (attempt.answered) onAnswered();
            throw attempt.error;
          }
          onAnswered();
          this.options.limiter.pause(api, attempt.retryAfterMs);
          if (++throttles > policy.maxThrottleRetries) throw defenderThrottling(api, attempt.retryAfterMs);
          span?.retry();
        } catch (error) {
          // Sending again could apply it twice (a comment posted twice): say so instead of guessing, even when
          // the deadline is what cut the attempt short.
          if (body && !body.idempotent && error instanceof RetryableFailure && error.outcomeUnknown)
            throw writeOutcomeUnknown(api, error);
          // An attempt cut short by the deadline (or its body, interrupted by it) says nothing of Defender's
          // health: only an earlier failure, kept as the cause, counts for the breaker.
          // When the deadline cuts a call none of whose attempts had failed, in an operation that spent time queued
          // for the budget, it is the budget (not Defender) that could not serve it in time: RATE_LIMITED.
          const pastDeadline =
            error instanceof DeadlineReached ||
            (error instanceof RetryableFailure &&
              deadline?.signal.aborted === true &&
              !scope.signal?.aborted);
          if (pastDeadline)
            throw last === undefined && scope.stats.limiterWaitMs > 0
              ? rateLimited(1, api)
              : defenderPastDeadline(api, last);
          if (!(error instanceof RetryableFailure)) throw error;
          last = error;
          if (++failures > policy.maxRetries) throw defenderUnavailable(api, error);
          const backoffMs = this.#backoffMs(failures);
          // A retry that would start at or past the deadline could not be answered in time: fail now.
          if (deadline && clock.now() + backoffMs >= scope.deadline) throw defenderPastDeadline(api, last);
          span?.retry();
          await delay(backoffMs, signal);
        }
      }
    } finally {
      deadline?.dispose();
    }
  }

  /**
   * A signal that aborts with {@link DeadlineReached} at the scope's deadline, on the timers (which tests may
   * fake), so that a token wait, an attempt or a backoff in progress ends then.
   */
  #deadlineSignal(scope: CallScope): { signal: AbortSignal; dispose: () => void } {
    const controller = new AbortController();
    const leftMs = scope.deadline - this.options.clock.now();
    if (!(leftMs < MAX_TIMER_MS)) return { signal: controller.signal, dispose: () => {} };
    const timer = setTimeout(() => controller.abort(new DeadlineReached()), Math.max(0, leftMs));
    return { signal: controller.signal, dispose: () => clearTimeout(timer) };
  }

  /** Full jitter: uniform in [0, min(cap, base·2^failures)]. */
  #backoffMs(failures: number): number {
    const base = this.options.backoffBaseMs ?? 200;
    const cap = this.options.backoffCapMs ?? 2_000;
    return (this.options.random ?? Math.random)() * Math.min(cap, base * 2 ** failures);
  }

  /**
   * Counts the call against the operation's cap the moment it is committed to (concurrent fields would all
   * pass a check made later), then gets the token and, last, the limiter's slot, right before the request
   * leaves, so the limiter counts what Defender will count. A call that never leaves is not counted; one that
   * leaves is counted from when its attempt is over (Permit.done).
   */
  async #admit(
    api: DefenderApi,
    scope: CallScope,
    policy: Policy,
    signal: AbortSignal | undefined,
    span: CallSpan | undefined,
  ): Promise<{ token: string; permit: Permit }> {
    const { stats, maxCalls } = scope;
    if (maxCalls !== undefined && stats.calls >= maxCalls) {
      throw new GatewayError(
        ErrorCode.QueryTooExpensive,
        `The operation reached its cap of ${maxCalls} Defender calls.`,
        { cost: { estimated: stats.calls + 1, max: maxCalls } },
      );
    }
    stats.calls++;
    apiStats(stats, api).calls++;
    try {
      const token = await this.#token(scope, api, signal);
      const permit = await policy.slot(api, scope);
      stats.limiterWaitMs += permit.waitedMs;
      span?.limiterWait(permit.waitedMs);
      // The limiter may give a slot right at the deadline: a request sent then could not be answered in time.
      if (policy.bounded && this.options.clock.now() >= scope.deadline) {
        permit.done?.();
        throw rateLimited(1, api);
      }
      return { token, permit };
    } catch (error) {
      stats.calls--;
      apiStats(stats, api).calls--;
      throw error;
    }
  }

  /**
   * A failure to get a token is mapped like an answer from Defender: an authority that is down is retried like
   * a network failure, one that refused the credentials is UNAUTHENTICATED at once. The authority's own words
   * (which may quote the secret) stay in the cause, never in the client's message.
   */
  async #token(scope: CallScope, api: DefenderApi, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await this.tokensFor(scope, api).getToken(signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!(error instanceof TokenAcquisitionError)) throw error;
      if (error.retryable) throw new RetryableFailure('no token from the authority', { cause: error });
      throw new GatewayError(
        ErrorCode.Unauthenticated,
        'Defender credentials were refused by the authority.',
        {},
        { cause: error },
      );
    }
  }
}

/**
 * What a failed call says about Defender's health: exhausted retries on 5xx, timeouts or connection errors are
 * failures, unless the token authority, not Defender, was down. Defender's answers (its refusals and 429s) were
 * settled as successes when they arrived; everything else (cancellation, our own limiter and cap, a refused
 * token, bad bodies, unexpected statuses) says nothing.
 */
function outcomeOf(error: unknown): CallOutcome {
  if (!(error instanceof GatewayError) || error.code !== ErrorCode.UpstreamUnavailable) return 'neutral';
  const last = error.cause;
  return last instanceof RetryableFailure && !(last.cause instanceof TokenAcquisitionError)
    ? 'failure'
    : 'neutral';
}

/** A traced call's fetch options: each attempt's status is told to its span as well as to the metrics. */
function tracedFetchOptions(options: FetchOptions, span: CallSpan): FetchOptions {
  const { observer } = options;
  return {
    ...options,
    observer: {
      onCall(api, status, durationMs) {
        observer?.onCall?.(api, status, durationMs);
        span.attempt(status, durationMs);
      },
    },
  };
}

/** Waits `ms` on the timers (which tests may fake), or rejects with the signal's reason once it aborts. */
function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
