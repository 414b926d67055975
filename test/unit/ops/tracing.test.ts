import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { newStats } from '../../../src/defender/scope.js';
import { operationContexts } from '../../../src/graphql/operation-context.js';
import type { OperationContextDeps } from '../../../src/graphql/operation-context.js';
import type { OperationSummary } from '../../../src/ops/tracing.js';
import { startTracing } from '../../../src/ops/tracing.js';

const SUMMARY: OperationSummary = {
  ...newStats(),
  byApi: {},
  plans: [],
  errorCodes: [],
  httpStatus: 200,
  responseCacheHit: false,
  dryRun: false,
};

describe('tracing (ops/tracing.ts)', () => {
  it('starts no SDK without OTEL_EXPORTER_OTLP_ENDPOINT: nothing to start, no global provider set', () => {
    expect(startTracing(loadConfig({}).telemetry)).toBeUndefined();
    expect(
      startTracing(
        loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })
          .telemetry,
      ),
    ).toBeUndefined();
    // The API's global is still its proxy over the no-op provider: spans made through it record nothing.
    const global = trace.getTracerProvider();
    expect(global).toBeInstanceOf(ProxyTracerProvider);
    expect(trace.getTracer('x').startSpan('s').isRecording()).toBe(false);
  });

  it('gives an operation no tracer when tracing is off, so the client records nothing', () => {
    const contexts = operationContexts({
      client: { identityOf: () => 'app' },
      limiter: {},
      machineBatchSize: 50,
      maxPageSize: 500,
      maxOperationCalls: 100,
      requestDeadlineMs: 15_000,
    } as unknown as OperationContextDeps);
    const context = contexts({ caller: 'ip:127.0.0.1', requestId: 'r1' });
    expect(context.scope.trace).toBeUndefined();
    expect(context.trace).toBeUndefined();
  });

  it('starts with an endpoint, and shuts down without exporting when no span was made', async () => {
    const tracing = startTracing(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).telemetry,
    );
    expect(tracing).toBeDefined();
    await tracing!.shutdown();
  });

  it('keeps an inbound traceparent’s decision by default: not sampled, nothing recorded, calls included', () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing(loadConfig({}).telemetry, { exporter, exportEachSpan: true })!;
    const notSampled = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' };
    const operation = tracing.startOperation(notSampled, { fresh: false });
    operation.startCall('alerts', 'GET').end({ status: 200 });
    operation.end(SUMMARY);
    expect(exporter.getFinishedSpans()).toEqual([]);

    const always = startTracing(loadConfig({ OTEL_TRACES_SAMPLER: 'always_on' }).telemetry, {
      exporter,
      exportEachSpan: true,
    })!;
    const recorded = always.startOperation(notSampled, { fresh: true });
    recorded.startCall('alerts/{id}', 'GET').end({ status: 404 });
    recorded.end(SUMMARY);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['GET alerts/{id}', 'graphql.request']);
    expect(spans[0]!.attributes).toMatchObject({
      'defender_graph.cache': 'bypass',
      'defender_graph.outcome': 'not_found',
      'url.template': '/api/alerts/{id}',
    });
  });
});
