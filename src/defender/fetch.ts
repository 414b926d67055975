import type { DefenderApi } from './apis.js';
import type { UpstreamObserver } from './observer.js';
import { answersNothing, hasDocumentedShape } from './routes.js';
import type { CachedAnswer } from '../cache/entity-cache.js';
import type { Clock } from '../clock.js';
import { GatewayError, defenderBadBody, defenderStatusRule } from '../errors.js';

/** A failure worth another attempt (5xx, timeout, network, an authority that is down), as opposed to an answer. */
export class RetryableFailure extends Error {
  /**
   * True when the request may have reached Defender and been acted on (a timeout, a reset connection, a body
   * cut short, a 5xx to a write): a write that is not idempotent must not be sent again after it.
   */
  outcomeUnknown = false;
}

function unknownOutcome(message: string, cause: unknown): RetryableFailure {
  const failure = new RetryableFailure(message, { cause });
  failure.outcomeUnknown = true;
  return failure;
}

/**
 * What one request got from Defender, by {@link defenderStatusRule}: an answer; a 429 with the pause Defender
 * asked for; or a refusal to fail the call with at once. A failure worth retrying is thrown as a
 * {@link RetryableFailure}, a body that cannot be served as a contract error, and the caller's abort as its reason.
 */
export type Attempt =
  | { readonly kind: 'answer'; readonly answer: CachedAnswer }
  | { readonly kind: 'throttle'; readonly retryAfterMs: number }
  | { readonly kind: 'refusal'; readonly error: GatewayError; readonly answered: boolean };

export interface FetchOptions {
  readonly fetch: typeof fetch;
  /** Per-request timeout (ms). */
  readonly timeoutMs: number;
  /** Reads the time of a Retry-After given as an HTTP-date. */
  readonly clock: Clock;
  readonly observer?: UpstreamObserver | undefined;
}

/** What a call sends besides its URL: a GET unless it says otherwise. */
export interface RequestBody {
  readonly method: 'POST' | 'PATCH';
  /** JSON text, sent as `application/json; charset=utf-8`. */
  readonly json: string;
  /**
   * Whether sending it twice does no more than sending it once (advanced hunting's query, a PATCH without a
   * comment). False for a write that must not be repeated: after an unknown outcome it is not retried.
   */
  readonly idempotent: boolean;
}

/** One HTTP request to Defender, no redirects followed, and what its status means. */
export async function fetchOnce(
  options: FetchOptions,
  api: DefenderApi,
  url: URL,
  token: string,
  signal?: AbortSignal,
  body?: RequestBody,
): Promise<Attempt> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const started = performance.now();
  let response: Response;
  try {
    response = await options.fetch(url, {
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        ...(body && { 'Content-Type': 'application/json; charset=utf-8' }),
      },
      ...(body && { method: body.method, body: body.json }),
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    options.observer?.onCall?.(api, 'error', performance.now() - started);
    if (signal?.aborted) throw signal.reason;
    throw unknownOutcome('network error or timeout', error);
  }
  const { status } = response;
  options.observer?.onCall?.(api, status, performance.now() - started);
  const rule = defenderStatusRule(status);
  if (rule.kind === 'answer')
    return { kind: 'answer', answer: { status: 200, body: await bodyOf(api, response) } };
  await response.body?.cancel();
  switch (rule.kind) {
    case 'absent':
      return { kind: 'answer', answer: { status: 404 } };
    case 'throttle': {
      const header = response.headers.get('retry-after');
      return { kind: 'throttle', retryAfterMs: retryAfterMs(header, options.clock.now()) };
    }
    case 'retry':
      // A 5xx to a write says nothing of whether Defender applied it before failing (an error after the
      // change was stored, a proxy's 502/504 in front of a backend that carried on): the outcome is unknown,
      // and a write that must not be repeated is not sent again (docs/clients.md, "Writes").
      throw body ? unknownOutcome(`status ${status}`, undefined) : new RetryableFailure(`status ${status}`);
    case 'refusal':
      return { kind: 'refusal', error: new GatewayError(rule.code, rule.message), answered: rule.answered };
  }
}

/**
 * A 200's body, parsed and checked before anything is cached or shared: an answer of the wrong shape is never
 * served again. A body cut short is worth another attempt.
 */
async function bodyOf(api: DefenderApi, response: Response): Promise<unknown> {
  const text = await response.text().catch((error: unknown) => {
    throw unknownOutcome('body interrupted', error);
  });
  // batchUpdate documents "200 OK" with an empty body.
  if (text.trim() === '' && answersNothing(api)) return null;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw defenderBadBody('not JSON');
  }
  if (!hasDocumentedShape(api, body)) throw defenderBadBody('not the documented shape');
  return body;
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); absent or unreadable means 1 s. */
export function retryAfterMs(header: string | null, now: number): number {
  if (header === null) return 1_000;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1_000 : Math.max(0, at - now);
}
