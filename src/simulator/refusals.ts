/**
 * How the simulator refuses a call instead of answering it: Defender's and Graph's 429s for a full window,
 * and the answers of injected faults, each in the shape of the API that was called.
 */

import type { Fault } from './faults.js';
import type { Answer } from './handlers.js';
import { defenderError } from './handlers.js';
import { graphError } from './hunting.js';
import type { ThrottleRefusal } from './throttle.js';
import { formatTimeSpan } from './throttle.js';

/** A 5xx as Defender's REST routes answer it (fault injection). */
export function restError(status: number): Answer {
  return status === 503
    ? defenderError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.')
    : defenderError(status, 'InternalServerError', '');
}

/** Defender's REST 429 for a full window, with the message its real answers carry. */
export function quotaExceeded({ window, retryAfterSeconds }: ThrottleRefusal): Answer {
  return throttled(
    retryAfterSeconds,
    `API calls quota exceeded! Maximum allowed ${window.limit} per ${formatTimeSpan(window.windowSeconds)} for the key Destination+TenantID+AppID. You can send requests again in ${retryAfterSeconds} seconds.`,
  );
}

/** Defender's 429: code `"429"` (not the documented `TooManyRequests`) and a Retry-After in seconds. */
function throttled(retryAfterSeconds: number, message: string): Answer {
  return { ...defenderError(429, '429', message), headers: { 'Retry-After': String(retryAfterSeconds) } };
}

/** Graph's 429: its error shape, code `TooManyRequests`, and a Retry-After in seconds. */
export function graphThrottled(retryAfterSeconds: number, message: string): Answer {
  return {
    ...graphError(429, 'TooManyRequests', message),
    headers: { 'Retry-After': String(retryAfterSeconds) },
  };
}

/** What an injected fault (other than `slow`) answers; `error` shapes a 5xx as the route's API would. */
export function faultAnswer(
  fault: Exclude<Fault, { kind: 'slow' }>,
  error: (status: number) => Answer,
): Answer | 'hang' | 'reset' {
  switch (fault.kind) {
    case 'hang':
    case 'reset':
      return fault.kind;
    case 'status':
      return error(fault.status);
    case 'throttle': {
      const answer = error(429);
      const message = `API calls quota exceeded! You can send requests again in ${fault.retryAfterSeconds} seconds.`;
      return 'json' in answer && isGraphError(answer.json)
        ? graphThrottled(fault.retryAfterSeconds, message)
        : throttled(fault.retryAfterSeconds, message);
    }
    case 'malformed':
      return { status: 200, malformed: true };
    case 'body':
      return { status: 200, json: fault.body };
    case 'redirect':
      return { status: 302, empty: true, headers: { Location: fault.location } };
  }
}

function isGraphError(json: unknown): boolean {
  return (
    typeof json === 'object' && json !== null && 'innerError' in ((json as { error?: object }).error ?? {})
  );
}
