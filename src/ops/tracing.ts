import type { IncomingHttpHeaders } from 'node:http';
import type { Attributes, Context, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from '../config/telemetry.js';
import type { DefenderApi } from '../defender/apis.js';
import type { CallSpan, CallTracer } from '../defender/scope.js';
import type { TraceOrigin } from './spans.js';
import {
  ATTR_GRAPHQL_OPERATION_NAME,
  ATTR_GRAPHQL_OPERATION_TYPE,
  NO_CALL_SPAN,
  originOf,
  startCallSpan,
} from './spans.js';
import type { LiveTracing } from './live-tracing.js';
import { eventLinks, liveTracing } from './live-tracing.js';

/** How tracing is started besides the configuration: tests and the bench send spans elsewhere. */
export interface TracingOptions {
  /** Where spans go instead of the OTLP endpoint (tests: an `InMemorySpanExporter`). Turns tracing on. */
  readonly exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches (tests read them at once). Default false. */
  readonly exportEachSpan?: boolean;
}

/** Tracing, started: one trace per GraphQL operation, and the spans of live subscriptions (`live-tracing.ts`). */
export interface Tracing extends LiveTracing {
  /**
   * Starts an operation's span, a child of the W3C trace context in `headers` (`traceparent`, `tracestate`)
   * when they carry one, as a federation router sends it; else the root of a new trace.
   */
  startOperation(headers: IncomingHttpHeaders, options: { readonly fresh: boolean }): OperationTrace;
  /**
   * Starts the span of one subscription event's execution for one subscriber (`graphql.subscription <name>`),
   * the root of a trace of its own, linked to the change's origin and to the subscription's start.
   */
  startEvent(event: SubscriptionEvent): OperationTrace;
  /** Exports what is still queued (flushed), then records nothing more. */
  shutdown(): Promise<void>;
}

/** One subscription event about to be executed for one subscriber. */
export interface SubscriptionEvent {
  /** The subscription operation's name; undefined when anonymous. */
  readonly operationName: string | undefined;
  /** `CREATED` or `UPDATED`. */
  readonly changeKind: string;
  /** The poll that found the change, or the write that made it; undefined when it was not traced. */
  readonly change: TraceOrigin | undefined;
  /** The subscription's start; undefined when it was not traced. */
  readonly subscription: TraceOrigin | undefined;
}

/**
 * Tracing as configured, or undefined when it is off (no `OTEL_EXPORTER_OTLP_ENDPOINT` and no exporter
 * given): then no SDK is started, no span is made and the scope carries no tracer, so it costs nothing. The
 * provider is the gateway's own, never registered globally: several gateways in one process (the tests) do not
 * share it, and nothing reaches for a global.
 */
export function startTracing(config: TelemetryConfig, options: TracingOptions = {}): Tracing | undefined {
  const exporter =
    options.exporter ??
    (config.tracesUrl &&
      new OTLPTraceExporter({ url: config.tracesUrl.href, headers: { ...config.headers } }));
  if (!exporter) return undefined;
  const processor: SpanProcessor = options.exportEachSpan
    ? new SimpleSpanProcessor({ exporter })
    : new BatchSpanProcessor({ exporter, exportTimeoutMillis: EXPORT_TIMEOUT_MS });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: samplerOf(config),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('defender-graph');
  const propagator = new W3CTraceContextPropagator();
  const parentOf = (headers: IncomingHttpHeaders) => propagator.extract(ROOT_CONTEXT, headers, HEADERS);
  return {
    startOperation(headers, { fresh }) {
      const parent = parentOf(headers);
      const span = tracer.startSpan('graphql.request', { kind: SpanKind.SERVER }, parent);
      return new OperationTrace(tracer, span, parent, fresh);
    },
    startEvent(event) {
      // Linked to the poll rather than its child: one poll's change is executed for every subscriber whose
      // filter it passes, after the poll has ended, each with calls and errors of its own. As children, a poll
      // with a thousand subscribers would be one trace of thousands of spans that outlive their root, and no
      // execution could be sampled on its own; linked, each execution is a small trace like a query's, and a
      // viewer follows the link to the poll (or to the write, or to a poll on another replica, which a parent in
      // this process could not be) and to the subscription it served. CONSUMER: it processes a change that
      // the poll produced, the kind OpenTelemetry's messaging conventions give such work.
      const name = event.operationName;
      const span = tracer.startSpan(
        name ? `graphql.subscription ${name}` : 'graphql.subscription',
        {
          kind: SpanKind.CONSUMER,
          links: eventLinks(event.change, event.subscription),
          attributes: {
            [ATTR_GRAPHQL_OPERATION_TYPE]: 'subscription',
            ...(name && { [ATTR_GRAPHQL_OPERATION_NAME]: name }),
            'defender_graph.live.change_kind': event.changeKind,
          },
        },
        ROOT_CONTEXT,
      );
      return new OperationTrace(tracer, span, ROOT_CONTEXT, false);
    },
    ...liveTracing(tracer, parentOf),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * How long one export may take (ms), the flush at shutdown included: a collector that does not answer must not
 * hold the process past shutdown's 10 s for closing the rest (`ops/shutdown.ts`); its spans are dropped.
 */
const EXPORT_TIMEOUT_MS = 5_000;

/** Reads Node's inbound headers (lower-case names; a repeated header is an array, its first value taken). */
const HEADERS: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

/** `OTEL_TRACES_SAMPLER` as the OpenTelemetry specification defines each value. */
function samplerOf({ sampler, samplerRatio }: TelemetryConfig): Sampler {
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(samplerRatio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplerRatio) });
  }
}

/**
 * What an operation did, told to its span when its response is sent (`plugins/tracing.ts`), or when a
 * subscription's event is executed (`live/engine.ts`: no HTTP status, no response cache, no dry run).
 */
export interface OperationSummary {
  /** The admission's estimate; absent when the operation was not estimated. */
  readonly estimate?: { readonly min: number; readonly expected: number; readonly max: number };
  readonly calls: number;
  readonly cacheHits: number;
  readonly sharedCalls: number;
  readonly staleHits: number;
  readonly limiterWaitMs: number;
  /** Calls and cache hits per API, as `extensions.upstream.byApi`. */
  readonly byApi: Partial<Record<DefenderApi, { readonly calls: number; readonly cacheHits: number }>>;
  /** `extensions.upstream.plans`: each relationship level's path (no ids) and the source that answered it. */
  readonly plans: readonly { readonly path: string; readonly source: string; readonly fallback?: string }[];
  /** The codes of the response's errors, once each. */
  readonly errorCodes: readonly string[];
  readonly httpStatus?: number;
  readonly responseCacheHit?: boolean;
  readonly dryRun?: boolean;
}

/**
 * One operation's span and the parent of its calls' spans, carried by the operation's scope (`CallTracer`), so
 * a call made in a DataLoader batch, after the resolver that asked for it has returned, still finds it. Every
 * call that goes through the pipeline is a span of its own; cache hits are counted per API on the operation's.
 */
export class OperationTrace implements CallTracer {
  readonly #span: Span;
  /** The context the calls' spans are children of. */
  readonly #context: Context;
  readonly #tracer: Tracer;
  readonly #fresh: boolean;
  #ended = false;

  /** `span`, started by the caller, is the operation's; `parent` the context it was started in. */
  constructor(tracer: Tracer, span: Span, parent: Context, fresh: boolean) {
    this.#tracer = tracer;
    this.#fresh = fresh;
    this.#span = span;
    this.#context = trace.setSpan(parent, span);
  }

  /** The operation's span, for work it causes later to link to; undefined when its trace is sampled out. */
  get origin(): TraceOrigin | undefined {
    return originOf(this.#span);
  }

  /** The operation is known (after parsing and validation): the span is named after it. */
  named(type: string, name: string | null | undefined): void {
    this.#span.updateName(name ? `graphql.${type} ${name}` : `graphql.${type}`);
    this.#span.setAttribute(ATTR_GRAPHQL_OPERATION_TYPE, type);
    if (name) this.#span.setAttribute(ATTR_GRAPHQL_OPERATION_NAME, name);
  }

  startCall(api: DefenderApi, method: 'GET' | 'POST' | 'PATCH'): CallSpan {
    // A trace sampled out records nothing below it either.
    if (!this.#span.isRecording()) return NO_CALL_SPAN;
    return startCallSpan(this.#tracer, this.#context, api, method, this.#fresh);
  }

  /** Ends the span with what the operation did; only the first call counts (a batch shares one context). */
  end(summary: OperationSummary): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    if (span.isRecording()) {
      const { estimate } = summary;
      span.setAttributes({
        'defender_graph.upstream.calls': summary.calls,
        'defender_graph.upstream.cache_hits': summary.cacheHits,
        'defender_graph.upstream.shared_calls': summary.sharedCalls,
        'defender_graph.upstream.stale_hits': summary.staleHits,
        'defender_graph.upstream.limiter_wait_ms': summary.limiterWaitMs,
        ...(summary.responseCacheHit !== undefined && {
          'defender_graph.response_cache_hit': summary.responseCacheHit,
        }),
        ...(summary.httpStatus !== undefined && { [ATTR_HTTP_RESPONSE_STATUS_CODE]: summary.httpStatus }),
        ...(summary.dryRun && { 'defender_graph.dry_run': true }),
        ...(estimate && {
          'defender_graph.cost.min': estimate.min,
          'defender_graph.cost.expected': estimate.expected,
          'defender_graph.cost.max': estimate.max,
        }),
        ...byApiAttributes(summary.byApi),
        ...(summary.plans.length > 0 && {
          'defender_graph.plans': summary.plans.map(
            (p) => `${p.path}=${p.source}${p.fallback ? ` (${p.fallback})` : ''}`,
          ),
        }),
        ...(summary.errorCodes.length > 0 && { 'defender_graph.error_codes': [...summary.errorCodes] }),
      });
      if (summary.errorCodes.length > 0) {
        span.setAttribute(ATTR_ERROR_TYPE, summary.errorCodes[0]!);
        span.setStatus({ code: SpanStatusCode.ERROR, message: summary.errorCodes.join(',') });
      }
    }
    span.end();
  }
}

/**
 * Calls and cache hits per API as two string arrays, `api=count`, APIs with none left out: a batch of fifty
 * cached machines is one entry, not fifty events (which the span's event limit would cut at 128 anyway).
 */
function byApiAttributes(byApi: OperationSummary['byApi']): Attributes {
  const entries = Object.entries(byApi) as [DefenderApi, { calls: number; cacheHits: number }][];
  const list = (count: (e: { calls: number; cacheHits: number }) => number) =>
    entries.filter(([, e]) => count(e) > 0).map(([api, e]) => `${api}=${count(e)}`);
  const calls = list((e) => e.calls);
  const hits = list((e) => e.cacheHits);
  return {
    ...(calls.length > 0 && { 'defender_graph.upstream.calls_by_api': calls }),
    ...(hits.length > 0 && { 'defender_graph.upstream.cache_hits_by_api': hits }),
  };
}
