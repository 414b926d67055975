import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { SimulatorCall } from '../../src/simulator/server.js';
import type { TestGateway, TestGatewayOptions } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { TOKEN } from '../helpers/simulator.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

// The nested query's logon users fan out past a minute's budget and past the default cap on a fresh gateway.
const ROOMY = parseRateLimits('100000/60s');
const TRACED = (exporter: InMemorySpanExporter, more: TestGatewayOptions = {}): TestGatewayOptions => ({
  rateLimits: ROOMY,
  simulator: { rateLimits: ROOMY },
  tracing: { exporter, exportEachSpan: true },
  ...more,
  // A second identical query must run again over cached answers, not come from the response cache.
  server: { maxOperationCalls: 100_000, responseCache: false, ...more.server },
});

/** Triage's nested walk, from one alert the caller names: its user's machines' logon users, and its machine. */
const TRIAGE = `query Triage($id: ID!) {
  alert(id: $id) { id user { machines { id logonUsers { id } } } machine { computerDnsName } }
}`;

/** A `traceparent` as a federation router sends it: the router's trace, its span as the parent, sampled. */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

/** The one operation span of the export, and the spans whose parent it is. */
function treeOf(spans: readonly ReadableSpan[]): { operation: ReadableSpan; calls: ReadableSpan[] } {
  const operations = spans.filter((s) => s.kind === SpanKind.SERVER);
  expect(operations).toHaveLength(1);
  const operation = operations[0]!;
  const calls = spans.filter((s) => s.parentSpanContext?.spanId === operation.spanContext().spanId);
  // Nothing else: every span is the operation's or one of its children.
  expect(spans.length).toBe(calls.length + 1);
  return { operation, calls };
}

/** The APIs of a list of calls, sorted, to compare multisets. */
const apisOf = (calls: readonly (string | null)[]): (string | null)[] => [...calls].sort();

/** `api=count` for each API of a list of calls, sorted: the form of the `*_by_api` attributes. */
const perApi = (apis: readonly (string | null)[]): string[] =>
  [...new Set(apis)].sort().map((api) => `${api}=${apis.filter((a) => a === api).length}`);

/** Everything a span exports besides its ids and times: name, attributes, events, status. */
function recordedText(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      attributes: s.attributes,
      status: s.status,
      events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      resource: s.resource.attributes,
    })),
  );
}

/** What must never be in a span: the token, the upstream's address, a query string, the caller's ids. */
function expectNothingSecret(spans: readonly ReadableSpan[], sim: TestGateway['sim'], ids: string[]): void {
  const text = recordedText(spans);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(new URL(sim.url).host);
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toContain('$filter');
  expect(text).not.toContain('?');
  for (const id of ids) expect(text, id).not.toContain(id);
  for (const call of sim.calls) if (call.kql) expect(text).not.toContain(call.kql);
}

describe('OpenTelemetry traces', () => {
  it('traces a nested query as one operation span with one child per call the simulator saw, under the inbound traceparent', async () => {
    const exporter = new InMemorySpanExporter();
    gw = await startTestGateway(TRACED(exporter));
    const t = gw.sim.tenant;
    const alert = t.alerts.find(
      (a) => a.relatedUser && t.usersByAccountName(a.relatedUser.userName.toLowerCase()).length > 0,
    )!;
    const res = await gw.query(TRIAGE, { id: alert.id }, { traceparent: TRACEPARENT });
    expect(res.errors).toBeUndefined();
    const seen: SimulatorCall[] = [...gw.sim.calls];
    expect(seen.length).toBeGreaterThan(2);

    const { operation, calls } = treeOf(exporter.getFinishedSpans());
    expect(operation.name).toBe('graphql.query Triage');
    expect(operation.spanContext().traceId).toBe(TRACE_ID);
    expect(operation.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(operation.parentSpanContext?.isRemote).toBe(true);
    expect([...(operation.attributes['defender_graph.upstream.calls_by_api'] as string[])].sort()).toEqual(
      perApi(seen.map((c) => c.api)),
    );
    expect(operation.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Triage',
      'defender_graph.upstream.calls': seen.length,
      'defender_graph.upstream.cache_hits': 0,
      'defender_graph.cost.min': expect.any(Number),
      'defender_graph.cost.expected': expect.any(Number),
      'defender_graph.cost.max': expect.any(Number),
    });
    expect(operation.status.code).not.toBe(SpanStatusCode.ERROR);

    // One CLIENT span per call Defender saw, of the same API, each answered 200 at its first attempt.
    expect(calls.every((c) => c.kind === SpanKind.CLIENT)).toBe(true);
    expect(calls.every((c) => c.spanContext().traceId === TRACE_ID)).toBe(true);
    expect(apisOf(calls.map((c) => c.attributes['defender_graph.api'] as string))).toEqual(
      apisOf(seen.map((c) => c.api)),
    );
    for (const call of calls) {
      const api = call.attributes['defender_graph.api'] as string;
      expect(call.name).toBe(`GET ${api}`);
      expect(call.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.template': `/api/${api}`,
        'http.response.status_code': 200,
        'defender_graph.cache': 'miss',
        'defender_graph.retries': 0,
        'defender_graph.limiter_wait_ms': 0,
        'defender_graph.outcome': 'answer',
      });
      expect(call.events.map((e) => e.name)).toEqual(['defender_graph.attempt']);
    }
    const machineIds = t.machinesOfUser(t.usersByAccountName(alert.relatedUser!.userName.toLowerCase())[0]!);
    expectNothingSecret(exporter.getFinishedSpans(), gw.sim, [
      alert.id,
      alert.machineId,
      alert.relatedUser!.userName,
      ...machineIds.map((m) => m.id),
    ]);

    // The same operation again: every answer comes from the cache, no call, no call span; hits counted per API.
    exporter.reset();
    const again = await gw.query(TRIAGE, { id: alert.id });
    expect(again.errors).toBeUndefined();
    expect(gw.sim.calls.length).toBe(seen.length);
    const second = treeOf(exporter.getFinishedSpans());
    expect(second.calls).toEqual([]);
    // No inbound traceparent: the root of a trace of its own.
    expect(second.operation.parentSpanContext).toBeUndefined();
    // Each answer the first run fetched is a hit now: the same APIs, as many times each.
    expect(
      [...(second.operation.attributes['defender_graph.upstream.cache_hits_by_api'] as string[])].sort(),
    ).toEqual(perApi(seen.map((c) => c.api)));
    expect(second.operation.attributes).toMatchObject({
      'defender_graph.upstream.calls': 0,
      'defender_graph.upstream.cache_hits': again.extensions!.upstream!.cacheHits,
    });
    expect(second.operation.attributes['defender_graph.upstream.calls_by_api']).toBeUndefined();
  });

  it('records retries, the last status and the error code of a call that failed, and the operation’s error codes', async () => {
    const exporter = new InMemorySpanExporter();
    gw = await startTestGateway(TRACED(exporter));
    const id = gw.sim.tenant.machines[0]!.id;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 503 } });
    const res = await gw.query(`query One($id: ID!) { machine(id: $id) { id } }`, { id });
    expect(res.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    const { operation, calls } = treeOf(exporter.getFinishedSpans());
    expect(calls).toHaveLength(1);
    const [call] = calls;
    // One call span for the call and its retries: as many attempts as requests Defender saw.
    expect(call!.events.filter((e) => e.name === 'defender_graph.attempt')).toHaveLength(gw.sim.calls.length);
    expect(call!.attributes).toMatchObject({
      'defender_graph.retries': gw.sim.calls.length - 1,
      'http.response.status_code': 503,
      'defender_graph.outcome': 'UPSTREAM_UNAVAILABLE',
      'error.type': 'UPSTREAM_UNAVAILABLE',
    });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(operation.attributes['defender_graph.error_codes']).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(operation.status.code).toBe(SpanStatusCode.ERROR);
    expectNothingSecret(exporter.getFinishedSpans(), gw.sim, [id]);
  });

  it('names the plan each relationship level used, and never the KQL of a hunting query', async () => {
    const exporter = new InMemorySpanExporter();
    gw = await startTestGateway(TRACED(exporter, { server: { plans: 'auto' } }));
    const res = await gw.query(
      `query Walk { alerts(first: 10) { nodes { id machine { logonUsers { id } } } } }`,
      {},
      { traceparent: TRACEPARENT },
    );
    expect(res.errors).toBeUndefined();
    const plans = (res.extensions!.upstream as { plans?: { path: string; source: string }[] }).plans ?? [];
    expect(plans.some((p) => p.source === 'hunting')).toBe(true);
    const { operation, calls } = treeOf(exporter.getFinishedSpans());
    expect(operation.attributes['defender_graph.plans']).toEqual(plans.map((p) => `${p.path}=${p.source}`));
    expect(apisOf(calls.map((c) => c.attributes['defender_graph.api'] as string))).toEqual(
      apisOf(gw.sim.calls.map((c) => c.api)),
    );
    const hunting = calls.filter((c) => c.attributes['defender_graph.api'] === 'hunting');
    expect(hunting.length).toBeGreaterThan(0);
    for (const call of hunting) {
      expect(call.name).toBe('POST hunting');
      expect(call.attributes['url.template']).toBe('/v1.0/security/runHuntingQuery');
    }
    expectNothingSecret(exporter.getFinishedSpans(), gw.sim, [
      ...gw.sim.tenant.alerts.slice(0, 10).map((a) => a.machineId),
    ]);
  });

  it('exports over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT as npm start configures it, flushed when the gateway closes', async () => {
    const exports: { path: string; headers: Record<string, unknown>; body: string }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        exports.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    try {
      const port = (collector.address() as AddressInfo).port;
      gw = await startTestGateway({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k%20123',
          OTEL_SERVICE_NAME: 'defender-graph-test',
        },
      });
      const id = gw.sim.tenant.machines[0]!.id;
      const res = await gw.query(`query Exported($id: ID!) { machine(id: $id) { id } }`, { id });
      expect(res.errors).toBeUndefined();
      // The batch processor waits up to 5 s: nothing need have left yet. Closing the gateway flushes it.
      await gw.close();
      gw = undefined;
      expect(exports.map((e) => e.path)).toEqual(['/v1/traces']);
      const [sent] = exports;
      expect(sent!.headers['x-collector-key']).toBe('k 123');
      const body = JSON.parse(sent!.body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: { name: string }[] }[];
        }[];
      };
      const [resource] = body.resourceSpans;
      expect(resource!.resource.attributes).toContainEqual({
        key: 'service.name',
        value: { stringValue: 'defender-graph-test' },
      });
      expect(resource!.scopeSpans.flatMap((s) => s.spans.map((span) => span.name)).sort()).toEqual([
        'GET machines/{id}',
        'graphql.query Exported',
      ]);
      expect(sent!.body).not.toContain(id);
    } finally {
      collector.closeAllConnections();
      collector.close();
    }
  });
});
