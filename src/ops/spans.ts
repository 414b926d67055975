import type { Attributes, Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
} from '@opentelemetry/semantic-conventions';
import type { DefenderApi } from '../defender/apis.js';
import type { CallSpan } from '../defender/scope.js';
import { ErrorCode, GatewayError } from '../errors.js';

// Incubating semantic conventions, copied rather than imported from `/incubating` (which may change in a minor).
export const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';
export const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name';
const ATTR_URL_TEMPLATE = 'url.template';

/**
 * A span that later work refers to (an OpenTelemetry span link): the poll or write that found an alert change,
 * or a subscription's start. Plain data: it travels with a change to the other replicas through Redis.
 */
export type TraceOrigin = Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>;

/** A span as a link target: its ids alone, or undefined when it records nothing (its trace is sampled out). */
export function originOf(span: Span): TraceOrigin | undefined {
  if (!span.isRecording()) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { traceId, spanId, traceFlags };
}

/**
 * The span of one Defender call, a child of `parent` (an operation's span, or a poll's): the same record
 * whichever work made the call. `fresh`: the caller reads no cached answer (`no-cache`, or a poll).
 */
export function startCallSpan(
  tracer: Tracer,
  parent: Context,
  api: DefenderApi,
  method: 'GET' | 'POST' | 'PATCH',
  fresh: boolean,
): CallSpan {
  const attributes: Attributes = {
    'defender_graph.api': api,
    [ATTR_URL_TEMPLATE]: templateOf(api),
    [ATTR_HTTP_REQUEST_METHOD]: method,
    // A write (PATCH alerts/{id}, POST alerts/batchUpdate) is never cached; hunting's POST is a read.
    'defender_graph.cache': isWrite(api, method) ? 'none' : fresh ? 'bypass' : 'miss',
  };
  return new UpstreamCallSpan(
    tracer.startSpan(`${method} ${api}`, { kind: SpanKind.CLIENT, attributes }, parent),
  );
}

/** One call through the pipeline: its limiter wait, attempts, retries and outcome. */
class UpstreamCallSpan implements CallSpan {
  #limiterWaitMs = 0;
  #retries = 0;
  #lastStatus: number | undefined;

  constructor(private readonly span: Span) {}

  limiterWait(waitedMs: number): void {
    this.#limiterWaitMs += waitedMs;
  }

  attempt(status: number | 'error', durationMs: number): void {
    if (status !== 'error') this.#lastStatus = status;
    this.span.addEvent('defender_graph.attempt', {
      ...(status === 'error'
        ? { [ATTR_ERROR_TYPE]: 'network' }
        : { [ATTR_HTTP_RESPONSE_STATUS_CODE]: status }),
      'defender_graph.duration_ms': Math.round(durationMs),
    });
  }

  retry(): void {
    this.#retries++;
  }

  end(outcome: { readonly status: number } | { readonly error: unknown }): void {
    const { span } = this;
    span.setAttributes({
      'defender_graph.limiter_wait_ms': Math.round(this.#limiterWaitMs),
      'defender_graph.retries': this.#retries,
      ...(this.#lastStatus !== undefined && { [ATTR_HTTP_RESPONSE_STATUS_CODE]: this.#lastStatus }),
    });
    if ('status' in outcome) {
      span.setAttribute('defender_graph.outcome', outcome.status === 404 ? 'not_found' : 'answer');
    } else {
      const code = errorCodeOf(outcome.error);
      span.setAttributes({ 'defender_graph.outcome': code, [ATTR_ERROR_TYPE]: code });
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    }
    span.end();
  }
}

/** The code the client would see for an error, never its message (which may name a URL). */
export function errorCodeOf(error: unknown): string {
  return error instanceof GatewayError ? error.code : ErrorCode.InternalServerError;
}

/** The span of a call in a trace sampled out: records nothing. */
export const NO_CALL_SPAN: CallSpan = {
  limiterWait: () => {},
  attempt: () => {},
  retry: () => {},
  end: () => {},
};

/** Whether a call writes (never cached): every method but GET, except hunting's POST, which is a query. */
function isWrite(api: DefenderApi, method: 'GET' | 'POST' | 'PATCH'): boolean {
  return method !== 'GET' && api !== 'hunting';
}

/** The path template an API is called on, under the base URL: never an id, never a query string. */
function templateOf(api: DefenderApi): string {
  if (api === 'hunting') return '/v1.0/security/runHuntingQuery';
  return `/api/${api.replace(/:patch$/, '')}`;
}
