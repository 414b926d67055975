import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HrTime } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { closeRedis, connectRedis } from '../../src/cache/redis.js';
import { createRedisCache } from '../../src/cache/redis-cache.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { Simulator, SimulatorCall } from '../../src/simulator/server.js';
import type { TestGateway, TestGatewayOptions } from '../helpers/gateway.js';
import { callsTo, startTestGateway } from '../helpers/gateway.js';
import type { LiveClient } from '../helpers/live.js';
import { eventually, sseClient, wsClient } from '../helpers/live.js';
import { TOKEN, testSimulator } from '../helpers/simulator.js';

/*
 * Traces of Subscription.alertChanges against the simulator, with the real graphql-ws and graphql-sse clients:
 * each poll is a root span with its calls, each event's execution a span of its own with its calls, linked to
 * the poll that found the change and to the subscription's start, which continues the subscribing request's
 * traceparent. Checked against the calls the simulator saw.
 */

const POLL_MS = 150;
const SMALL = { machines: 40, users: 20, alerts: 150 };
// Polls every 150 ms would spend Defender's 100 calls a minute in seconds.
const ROOMY = parseRateLimits('100000/60s');

/** A `traceparent` as a federation router sends it: the router's trace, its span as the parent, sampled. */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

/** A dashboard's selection: the alert's machine and its user's machines cost calls of their own. */
const WATCH = `subscription Watch {
  alertChanges { kind alert { id title machine { id computerDnsName } user { id machines { id } } } }
}`;

/** Keeps what it was given when the gateway shuts tracing down (the in-memory exporter forgets it then). */
class KeepingExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A subscriber (with a `traceparent`) sees one created alert arrive without errors; then the gateway closes,
 * which flushes whatever a tracer would have queued.
 */
async function oneChangeDelivered(gw: TestGateway): Promise<void> {
  const stream = track(wsClient(gw.url, undefined, { traceparent: TRACEPARENT })).subscribe<Change>(WATCH);
  await polling(gw.sim);
  const { machineId, user } = machineWithUser(gw.sim);
  gw.sim.createAlert({ machineId, user });
  expect((await stream.nth(1)).errors).toBeUndefined();
  await gw.close();
}

/** A gateway polling every {@link POLL_MS}; its `close` may be called by the test and again after it. */
async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    simulator: { sizes: SMALL, rateLimits: ROOMY },
    rateLimits: ROOMY,
    ...options,
    server: { live: { pollIntervalMs: POLL_MS }, ...options.server },
  });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= gw.close());
  cleanups.push(close);
  return { ...gw, close };
}

function track<C extends LiveClient>(client: C): C {
  cleanups.push(() => client.dispose());
  return client;
}

interface Change {
  alertChanges: { kind: string; alert: Record<string, unknown> };
}

/** A machine with a user logged on, to raise alerts on. */
function machineWithUser(sim: Simulator): { machineId: string; user: string; accountName: string } {
  const { tenant } = sim;
  const machine = tenant.machines.find(
    (m) => m.onboardingStatus === 'Onboarded' && tenant.logonUsers(m.id).length > 0,
  )!;
  const user = tenant.logonUsers(machine.id)[0]!;
  return {
    machineId: machine.id,
    user: `${user.accountDomain}\\${user.accountName}`,
    accountName: user.accountName,
  };
}

/** The poll's calls the simulator saw: `GET /api/alerts` ordered by `lastUpdateTime`. */
function pollCalls(sim: Simulator): SimulatorCall[] {
  return callsTo(sim.calls, 'alerts').filter((c) => c.query['$orderby']?.startsWith('lastUpdateTime'));
}

/** Resolves once the poller has its watermark: a change made from now on is found by a later tick. */
async function polling(sim: Simulator): Promise<void> {
  await eventually(() => pollCalls(sim).some((c) => c.query['$filter']?.startsWith('lastUpdateTime ge')));
}

const msOf = ([seconds, nanos]: HrTime): number => seconds * 1000 + nanos / 1e6;

/** The simulator's calls that arrived while `span` ran (span times and arrivals are both read off Date.now). */
function during(calls: readonly SimulatorCall[], span: ReadableSpan): SimulatorCall[] {
  const start = Math.floor(msOf(span.startTime));
  const end = Math.ceil(msOf(span.endTime));
  return calls.filter((c) => c.at >= start && c.at <= end);
}

const childrenOf = (spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

const named = (spans: readonly ReadableSpan[], name: string): ReadableSpan[] =>
  spans.filter((s) => s.name === name);

/** The APIs of a list of calls, sorted, to compare multisets. */
const apisOf = (apis: readonly unknown[]): string[] => apis.map(String).sort();

/** What must never be in a span: the token, the upstream's address, a query string, the caller's ids. */
function expectNothingSecret(spans: readonly ReadableSpan[], sim: Simulator, ids: readonly string[]): void {
  const text = JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      attributes: s.attributes,
      status: s.status,
      events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      links: s.links.map((l) => l.attributes),
      resource: s.resource.attributes,
    })),
  );
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(new URL(sim.url).host);
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toContain('$filter');
  expect(text).not.toContain('lastUpdateTime');
  expect(text).not.toContain('?');
  for (const id of ids) expect(text, id).not.toContain(id);
}

describe('traces of live subscriptions', () => {
  it('traces each poll as a root span with its calls, and each event’s execution as a span of its own with its calls, linked to the poll that found the change and to the subscription’s start under the upgrade’s traceparent', async () => {
    const exporter = new InMemorySpanExporter();
    const gw = await gateway({ tracing: { exporter, exportEachSpan: true } });
    const stream = track(wsClient(gw.url, undefined, { traceparent: TRACEPARENT })).subscribe<Change>(WATCH);
    await polling(gw.sim);
    const { machineId, user, accountName } = machineWithUser(gw.sim);
    const created = gw.sim.createAlert({ machineId, user });

    const event = await stream.nth(1);
    expect(event.errors).toBeUndefined();
    expect(event.data?.alertChanges).toMatchObject({ kind: 'CREATED', alert: { id: created.id } });
    await eventually(() =>
      named(exporter.getFinishedSpans(), 'alertChanges poll').some(
        (s) => s.attributes['defender_graph.live.poll.outcome'] === 'changes',
      ),
    );
    const spans = [...exporter.getFinishedSpans()];
    const seen = [...gw.sim.calls];

    // The subscription's start: a short SERVER span under the upgrade request's traceparent.
    const [subscribe, ...moreSubscribes] = named(spans, 'alertChanges subscribe');
    expect(moreSubscribes).toEqual([]);
    expect(subscribe!.kind).toBe(SpanKind.SERVER);
    expect(subscribe!.spanContext().traceId).toBe(TRACE_ID);
    expect(subscribe!.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(subscribe!.attributes).toMatchObject({
      'graphql.operation.type': 'subscription',
      'graphql.operation.name': 'Watch',
    });
    expect(subscribe!.status.code).not.toBe(SpanStatusCode.ERROR);

    // The event's execution: a trace of its own, linked to the poll that found the change and to the start.
    const events = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(events).toHaveLength(1);
    const execution = events[0]!;
    expect(execution.name).toBe('graphql.subscription Watch');
    expect(execution.parentSpanContext).toBeUndefined();
    expect(execution.attributes).toMatchObject({
      'graphql.operation.type': 'subscription',
      'graphql.operation.name': 'Watch',
      'defender_graph.live.change_kind': 'CREATED',
    });
    expect(execution.links.map((l) => l.attributes?.['defender_graph.link'])).toEqual([
      'change',
      'subscription',
    ]);
    const [toPoll, toSubscribe] = execution.links;
    expect(toSubscribe!.context.spanId).toBe(subscribe!.spanContext().spanId);
    expect(toSubscribe!.context.traceId).toBe(TRACE_ID);
    const polls = named(spans, 'alertChanges poll');
    const finder = polls.find((p) => p.spanContext().spanId === toPoll!.context.spanId)!;
    expect(finder).toBeDefined();
    expect(toPoll!.context.traceId).toBe(finder.spanContext().traceId);
    expect(finder.attributes).toMatchObject({
      'defender_graph.live.poll.outcome': 'changes',
      'defender_graph.live.changes': 1,
    });

    // Its calls are its children, exactly the calls the simulator saw besides the polls'.
    const pollSeen = pollCalls(gw.sim);
    const eventSeen = seen.filter((c) => !pollSeen.includes(c));
    expect(eventSeen.length).toBeGreaterThan(0);
    const eventCalls = childrenOf(spans, execution);
    expect(eventCalls.every((c) => c.kind === SpanKind.CLIENT)).toBe(true);
    expect(apisOf(eventCalls.map((c) => c.attributes['defender_graph.api']))).toEqual(
      apisOf(eventSeen.map((c) => c.api)),
    );
    for (const call of eventCalls) {
      expect(call.attributes).toMatchObject({
        'defender_graph.cache': 'miss',
        'defender_graph.outcome': 'answer',
      });
    }
    expect(execution.attributes).toMatchObject({
      'defender_graph.upstream.calls': eventSeen.length,
      'defender_graph.upstream.cache_hits': event.extensions?.['upstream']
        ? (event.extensions['upstream'] as { cacheHits: number }).cacheHits
        : 0,
    });
    expect(execution.status.code).not.toBe(SpanStatusCode.ERROR);

    // Each poll: a root INTERNAL span whose children are exactly the poll calls the simulator saw during it.
    const lastEnd = Math.max(...polls.map((p) => msOf(p.endTime)));
    const pollsSeen = pollSeen.filter((c) => c.at <= Math.ceil(lastEnd));
    let counted = 0;
    for (const poll of polls) {
      expect(poll.kind).toBe(SpanKind.INTERNAL);
      expect(poll.parentSpanContext).toBeUndefined();
      const calls = childrenOf(spans, poll);
      expect(calls).toHaveLength(during(pollsSeen, poll).length);
      expect(poll.attributes['defender_graph.upstream.calls']).toBe(calls.length);
      for (const call of calls) {
        expect(call.name).toBe('GET alerts');
        expect(call.attributes).toMatchObject({
          'url.template': '/api/alerts',
          'defender_graph.cache': 'bypass',
          'http.response.status_code': 200,
          'defender_graph.outcome': 'answer',
        });
      }
      counted += calls.length;
    }
    expect(childrenOf(spans, finder).length).toBeGreaterThan(0);
    // No poll call the simulator saw is missing from the polls' spans.
    expect(counted).toBe(pollsSeen.length);
    // Nothing else: every span is a start, a poll, an execution, or a call of a poll or of the execution.
    expect(spans.length).toBe(1 + polls.length + 1 + counted + eventCalls.length);

    expectNothingSecret(spans, gw.sim, [created.id, machineId, accountName]);
  });

  it('traces a start over SSE under the POST’s traceparent, a refused start with its code, and an event that needed no call', async () => {
    const exporter = new InMemorySpanExporter();
    const gw = await gateway({ tracing: { exporter, exportEachSpan: true } });
    const client = track(sseClient(gw.url, { traceparent: TRACEPARENT }));
    const existing = gw.sim.tenant.alerts.find((a) => a.status === 'New')!;
    const stream = client.subscribe<Change>(
      `subscription Status { alertChanges(filter: { ids: ["${existing.id}"] }) { kind alert { id status } } }`,
    );
    const refused = client.subscribe<Change>(
      `subscription Bad { alertChanges(filter: { ids: ["../machines"] }) { kind } }`,
    );
    await refused.ended();
    const unparsed = client.subscribe<Change>(`subscription { alertChanges {`);
    await unparsed.ended();
    await polling(gw.sim);
    gw.sim.updateAlert(existing.id, { status: 'InProgress' });
    const event = await stream.nth(1);
    expect(event.data?.alertChanges).toMatchObject({ kind: 'UPDATED', alert: { status: 'IN_PROGRESS' } });

    const spans = [...exporter.getFinishedSpans()];
    const starts = named(spans, 'alertChanges subscribe');
    expect(starts).toHaveLength(3);
    for (const start of starts) {
      expect(start.spanContext().traceId).toBe(TRACE_ID);
      expect(start.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    }
    const byName = (name: string | undefined) =>
      starts.find((s) => s.attributes['graphql.operation.name'] === name)!;
    expect(byName('Status').status.code).not.toBe(SpanStatusCode.ERROR);
    // Refused by its resolver (the filter), and before it ran (the document does not parse).
    expect(byName('Bad').attributes).toMatchObject({
      'defender_graph.error_codes': ['BAD_USER_INPUT'],
      'error.type': 'BAD_USER_INPUT',
    });
    expect(byName('Bad').status.code).toBe(SpanStatusCode.ERROR);
    expect(byName(undefined).attributes['error.type']).toBe('GRAPHQL_VALIDATION_FAILED');

    // The payload carries the alert: its execution called nothing, and says so.
    const [execution, ...others] = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(others).toEqual([]);
    expect(execution!.name).toBe('graphql.subscription Status');
    expect(execution!.attributes).toMatchObject({
      'defender_graph.live.change_kind': 'UPDATED',
      'defender_graph.upstream.calls': 0,
    });
    expect(childrenOf(spans, execution!)).toEqual([]);
    expect(execution!.links[1]!.context.spanId).toBe(byName('Status').spanContext().spanId);
    expectNothingSecret(spans, gw.sim, [existing.id]);
  });

  it('links the execution of a change a write made to the write’s operation span, in the writer’s trace', async () => {
    const exporter = new InMemorySpanExporter();
    // The next poll is a minute away: the change arrives from the write.
    const gw = await gateway({
      tracing: { exporter, exportEachSpan: true },
      server: { live: { pollIntervalMs: 60_000 } },
    });
    const stream = track(wsClient(gw.url)).subscribe<Change>(
      `subscription Triaged { alertChanges { kind alert { id status } } }`,
    );
    await eventually(() => pollCalls(gw.sim).length === 1);
    const alert = gw.sim.tenant.alerts.find((a) => a.status === 'New')!;
    const res = await gw.query(
      `mutation Triage($id: ID!) { updateAlert(id: $id, input: { status: IN_PROGRESS }) { id } }`,
      { id: alert.id },
      { traceparent: TRACEPARENT },
    );
    expect(res.errors).toBeUndefined();
    expect((await stream.nth(1)).data?.alertChanges.kind).toBe('UPDATED');

    const spans = [...exporter.getFinishedSpans()];
    const [write, ...moreWrites] = named(spans, 'graphql.mutation Triage');
    expect(moreWrites).toEqual([]);
    expect(write!.spanContext().traceId).toBe(TRACE_ID);
    const [execution, ...others] = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    expect(others).toEqual([]);
    expect(execution!.name).toBe('graphql.subscription Triaged');
    const change = execution!.links.find((l) => l.attributes?.['defender_graph.link'] === 'change');
    expect(change?.context).toMatchObject({ traceId: TRACE_ID, spanId: write!.spanContext().spanId });
    expectNothingSecret(spans, gw.sim, [alert.id]);
  });

  it('records a poll that failed: its error code, and its call’s attempts as the simulator saw them', async () => {
    const exporter = new InMemorySpanExporter();
    const gw = await gateway({ tracing: { exporter, exportEachSpan: true } });
    gw.sim.injectFault({ api: 'alerts', fault: { kind: 'status', status: 503 } });
    track(wsClient(gw.url)).subscribe<Change>(WATCH);
    await eventually(() =>
      named(exporter.getFinishedSpans(), 'alertChanges poll').some(
        (s) => s.attributes['defender_graph.live.poll.outcome'] === 'failed',
      ),
    );
    const spans = [...exporter.getFinishedSpans()];
    const poll = named(spans, 'alertChanges poll').find(
      (s) => s.attributes['defender_graph.live.poll.outcome'] === 'failed',
    )!;
    expect(poll.attributes).toMatchObject({
      'defender_graph.upstream.calls': 1,
      'defender_graph.live.changes': 0,
      'error.type': 'UPSTREAM_UNAVAILABLE',
    });
    expect(poll.status.code).toBe(SpanStatusCode.ERROR);
    const [call, ...more] = childrenOf(spans, poll);
    expect(more).toEqual([]);
    // One span for the call and its retries: as many attempts as requests Defender saw during the poll.
    const attempts = during(pollCalls(gw.sim), poll);
    expect(attempts.length).toBeGreaterThan(1);
    expect(call!.events.filter((e) => e.name === 'defender_graph.attempt')).toHaveLength(attempts.length);
    expect(call!.attributes).toMatchObject({
      'defender_graph.retries': attempts.length - 1,
      'http.response.status_code': 503,
      'defender_graph.outcome': 'UPSTREAM_UNAVAILABLE',
    });
    expectNothingSecret(spans, gw.sim, []);
  });

  it('records nothing when its trace is sampled out (OTEL_TRACES_SAMPLER=always_off)', async () => {
    const exporter = new KeepingExporter();
    const gw = await gateway({
      tracing: { exporter, exportEachSpan: true },
      env: { OTEL_TRACES_SAMPLER: 'always_off' },
    });
    await oneChangeDelivered(gw);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('exports nothing with tracing off (OTEL_SDK_DISABLED=true), the collector’s address set', async () => {
    const posts: string[] = [];
    const collector = createServer((req, res) => {
      posts.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    cleanups.push(async () => {
      collector.closeAllConnections();
      collector.close();
    });
    const port = (collector.address() as AddressInfo).port;
    const gw = await gateway({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SDK_DISABLED: 'true' },
    });
    await oneChangeDelivered(gw);
    expect(posts).toEqual([]);
  });
});

describe('traces of live subscriptions across replicas sharing Redis', () => {
  it('links the executions on both replicas to the one poll span that found the change, on whichever replica polled', async () => {
    const sim = await testSimulator({ sizes: SMALL, rateLimits: ROOMY });
    cleanups.push(() => sim.close());
    const prefix = `test:live-traces:${randomUUID()}`;
    const replica = async (exporter: InMemorySpanExporter) => {
      const redis = connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { onError: () => {} });
      cleanups.push(() => closeRedis(redis));
      await eventually(() => redis.isReady);
      return gateway({
        sharedSimulator: sim,
        cache: createRedisCache(redis, { namespace: `${prefix}:cache` }),
        tracing: { exporter, exportEachSpan: true },
        // The lease lasts two thirds of an interval: long enough not to change hands on a busy machine.
        server: { live: { pollIntervalMs: 300, shared: { redis, prefix } } },
      });
    };
    const exporters = [new InMemorySpanExporter(), new InMemorySpanExporter()];
    const streams = [];
    for (const exporter of exporters) {
      const gw = await replica(exporter);
      streams.push(track(wsClient(gw.url)).subscribe<Change>(WATCH));
    }
    await polling(sim);
    const { machineId, user } = machineWithUser(sim);
    const created = sim.createAlert({ machineId, user });
    for (const stream of streams)
      expect((await stream.nth(1)).data?.alertChanges.alert['id']).toBe(created.id);

    // One replica polled and found it; the other got the change through Redis, with the poll's span.
    const polls = exporters.map((e) => named(e.getFinishedSpans(), 'alertChanges poll'));
    const links = exporters.map((e) => {
      const [execution, ...more] = e.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER);
      expect(more).toEqual([]);
      return execution!.links.find((l) => l.attributes?.['defender_graph.link'] === 'change')!.context;
    });
    expect(links[1]).toEqual(links[0]);
    const finders = polls.map((p) => p.filter((s) => s.spanContext().spanId === links[0]!.spanId));
    expect(finders.flat()).toHaveLength(1);
    const [finder] = finders.flat();
    expect(finder!.spanContext().traceId).toBe(links[0]!.traceId);
    expect(finder!.attributes['defender_graph.live.poll.outcome']).toBe('changes');
  });
});
