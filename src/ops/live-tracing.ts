import type { IncomingHttpHeaders } from 'node:http';
import type { Context, Link, Span, Tracer } from '@opentelemetry/api';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, isSpanContextValid, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { DefenderApi } from '../defender/apis.js';
import type { CallSpan, CallTracer } from '../defender/scope.js';
import type { PollOutcome } from '../live/poller.js';
import type { TraceOrigin } from './spans.js';
import {
  ATTR_GRAPHQL_OPERATION_NAME,
  ATTR_GRAPHQL_OPERATION_TYPE,
  NO_CALL_SPAN,
  errorCodeOf,
  originOf,
  startCallSpan,
} from './spans.js';

/**
 * The spans of `Subscription.alertChanges` besides each event's execution (an operation's span,
 * `Tracing.startEvent`): the polls that find the changes, and each subscription's start.
 *
 * A subscription lasts for hours, so it is not one span: a span that long is exported only when it ends, shows
 * as one bar over everything in a viewer, and says nothing about any one change. What an operator follows is a
 * change: the poll that found it (a trace of its own: no request carries it), then each execution of a
 * subscriber's selection over it (a trace of its own too, linked to the poll). The start of a subscription is a
 * short span, a child of the subscribing request's `traceparent` (SSE: the POST's headers; WebSocket: the
 * upgrade request's), that ends once the subscription runs or is refused: it is what a router's trace shows of
 * the subscribe, and each event links to it, so an execution leads back to the subscription it served.
 */
export interface LiveTracing {
  /** One poll of an identity's changed alerts: the root of a trace of its own. */
  startPoll(): PollTrace;
  /** A subscription being set up, a child of the W3C trace context in `headers` when they carry one. */
  startSubscription(headers: IncomingHttpHeaders): SubscriptionTrace;
}

export function liveTracing(
  tracer: Tracer,
  parentOf: (headers: IncomingHttpHeaders) => Context,
): LiveTracing {
  return {
    startPoll: () => new PollTrace(tracer),
    startSubscription: (headers) => new SubscriptionTrace(tracer, parentOf(headers)),
  };
}

/** How a poll ended: a tick's outcome, or `stopped` when its poller stopped during it (nobody is subscribed). */
export type PollSpanOutcome = PollOutcome | 'stopped';

/** One poll tick's span (`alertChanges poll`), the parent of its calls' spans. */
export class PollTrace implements CallTracer {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
    this.#span = tracer.startSpan('alertChanges poll', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
    this.#context = trace.setSpan(ROOT_CONTEXT, this.#span);
  }

  /** What the changes this poll finds carry, for their executions to link to; undefined when sampled out. */
  get origin(): TraceOrigin | undefined {
    return originOf(this.#span);
  }

  startCall(api: DefenderApi, method: 'GET' | 'POST' | 'PATCH'): CallSpan {
    if (!this.#span.isRecording()) return NO_CALL_SPAN;
    // A poll never reads the cache: every call of it is a bypass.
    return startCallSpan(this.#tracer, this.#context, api, method, true);
  }

  /** Ends the span with how the tick went: its outcome, calls, changes found, and the error it failed with. */
  end(outcome: PollSpanOutcome, result: { calls: number; changes: number; error?: unknown }): void {
    const span = this.#span;
    span.setAttributes({
      'defender_graph.live.poll.outcome': outcome,
      'defender_graph.live.changes': result.changes,
      'defender_graph.upstream.calls': result.calls,
    });
    if (outcome === 'failed') {
      const code = errorCodeOf(result.error);
      span.setAttribute(ATTR_ERROR_TYPE, code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    }
    span.end();
  }
}

/** A subscription's start (`alertChanges subscribe`): from its request to its source stream, or its refusal. */
export class SubscriptionTrace {
  readonly #span: Span;
  #ended = false;

  constructor(tracer: Tracer, parent: Context) {
    this.#span = tracer.startSpan('alertChanges subscribe', { kind: SpanKind.SERVER }, parent);
  }

  /** The subscription's start, for each of its events to link to; undefined when sampled out. */
  get origin(): TraceOrigin | undefined {
    return originOf(this.#span);
  }

  /** The operation is known: it validated, and is a subscription. */
  named(name: string | undefined): void {
    this.#span.setAttribute(ATTR_GRAPHQL_OPERATION_TYPE, 'subscription');
    if (name) this.#span.setAttribute(ATTR_GRAPHQL_OPERATION_NAME, name);
  }

  /** The subscription runs (no error code) or was refused (the codes of its errors, each once); once only. */
  end(errorCodes: readonly string[]): void {
    if (this.#ended) return;
    this.#ended = true;
    if (errorCodes.length > 0) {
      this.#span.setAttributes({
        'defender_graph.error_codes': [...errorCodes],
        [ATTR_ERROR_TYPE]: errorCodes[0]!,
      });
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: errorCodes.join(',') });
    }
    this.#span.end();
  }
}

/**
 * The links of one event's execution: the change's origin (the poll that found it, here or on the replica that
 * polled, or the write that made it) and the subscription's start. An origin from another replica arrived as
 * JSON: only a well-formed one is linked, by its ids alone.
 */
export function eventLinks(change: TraceOrigin | undefined, subscription: TraceOrigin | undefined): Link[] {
  const links: Link[] = [];
  const add = (origin: TraceOrigin | undefined, kind: string) => {
    if (!origin) return;
    const context = { traceId: origin.traceId, spanId: origin.spanId, traceFlags: origin.traceFlags };
    if (typeof context.traceFlags === 'number' && isSpanContextValid(context))
      links.push({ context, attributes: { 'defender_graph.link': kind } });
  };
  add(change, 'change');
  add(subscription, 'subscription');
  return links;
}
