import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheName } from '../cache/budget.js';
import type { DefenderApi } from '../defender/apis.js';
import type { BreakerState } from '../defender/breaker.js';
import type { UpstreamObserver } from '../defender/client.js';

/** What the limiter gauges read at scrape time. */
export interface QueueDepthSource {
  queueDepths(): Partial<Record<DefenderApi, number>>;
  /** With a budget shared through Redis: whether it is (false while this replica keeps to its share). */
  readonly shared?: boolean;
}

export interface MetricsOptions {
  /** Read at every scrape for `defender_limiter_queue_depth`; absent, the gauge has no series. */
  readonly limiter?: QueueDepthSource;
  /** Distinct operation names kept as labels; later names count as `other`. Default 100. */
  readonly maxOperationNames?: number;
  /** Node's default process metrics (CPU, memory, event loop). Default true. */
  readonly processMetrics?: boolean;
}

/** The gateway's Prometheus metrics, in a registry of their own (never the global one). */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Feeds the upstream metrics: give it to `DefenderClient` as its `observer`. */
  readonly observer: UpstreamObserver;
  /** One GraphQL operation took `seconds`, under its (bounded) name. */
  observeOperation(operationName: string | null | undefined, seconds: number): void;
  /** `gateway_cache_bytes{cache}` reads `bytes()` at every scrape (the last source given for a name wins). */
  trackCacheBytes(cache: CacheName, bytes: () => number): void;
  /**
   * A relationship level chosen for a bulk plan was answered by REST because the bulk source failed with
   * `reason` (an error code): `defender_plan_fallbacks_total{api,reason}`.
   */
  onPlanFallback(api: 'hunting', reason: string): void;
  /** One alert write (mutation) ended with `outcome`: `defender_alert_writes_total{outcome}`. */
  onAlertWrite(outcome: 'updated' | 'not_found' | 'refused' | 'unknown' | 'failed'): void;
  /** Feeds the load metrics: operations running, operations and connections refused at their caps. */
  readonly load: LoadObserver;
  /** Feeds the cost metrics: refusals before any call, cuts during execution, calls wasted. */
  readonly cost: CostObserver;
}

/** What admission and the execution-time stop report (MAX_OPERATION_CALLS). */
export interface CostObserver {
  /** An operation refused before any call: `QUERY_TOO_EXPENSIVE` or `RATE_LIMITED`. */
  onRefused(code: string): void;
  /** An operation stopped during execution, before a fan-out level whose calls would pass the cap. */
  onCut(): void;
  /** An operation ended with QUERY_TOO_EXPENSIVE after spending `calls` Defender calls. */
  onWasted(calls: number): void;
}

/** What the server's caps report (HTTP_MAX_CONNECTIONS, MAX_INFLIGHT_OPERATIONS). */
export interface LoadObserver {
  onInFlight(operations: number): void;
  onOperationShed(): void;
  onConnectionDropped(): void;
}

const BREAKER_STATE_VALUES: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Creates the metrics named in docs/operations.md: upstream calls by API and status, 429s, limiter queue depth and
 * wait, cache reads by result, background refreshes by outcome, and GraphQL duration by operation. Label
 * values come only from closed sets (API templates, HTTP statuses, outcomes) or from a capped set of operation
 * names, so cardinality stays bounded.
 */
export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const calls = new Counter({
    name: 'defender_upstream_calls_total',
    help: 'HTTP requests sent to Defender, by API and HTTP status (or "error" for network failures and timeouts); background refreshes included (see defender_background_refreshes_total).',
    labelNames: ['api', 'status'] as const,
    registers: [registry],
  });
  const throttled = new Counter({
    name: 'defender_upstream_throttled_total',
    help: 'Defender answers 429 (Too Many Requests), by API.',
    labelNames: ['api'] as const,
    registers: [registry],
  });
  const limiter = options.limiter;
  new Gauge({
    name: 'defender_limiter_queue_depth',
    help: 'Calls waiting in the gateway rate limiter now, by API.',
    labelNames: ['api'] as const,
    registers: [registry],
    collect() {
      if (!limiter) return;
      for (const [api, depth] of Object.entries(limiter.queueDepths())) this.set({ api }, depth ?? 0);
    },
  });
  // Only with a limiter that can share (CACHE_URL): a gauge without labels would otherwise read 0 ("not shared").
  if (typeof limiter?.shared === 'boolean') {
    new Gauge({
      name: 'defender_limiter_shared',
      help: 'With CACHE_URL: 1 while the rate-limit budget is shared through Redis, 0 while Redis is unreachable and this replica keeps to its share (limits / GATEWAY_REPLICAS).',
      registers: [registry],
      collect() {
        this.set(limiter.shared ? 1 : 0);
      },
    });
  }
  const limiterWait = new Histogram({
    name: 'defender_limiter_wait_seconds',
    help: 'Time a call waited in the gateway rate limiter before it was sent, by API.',
    labelNames: ['api'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const cache = new Counter({
    name: 'defender_cache_requests_total',
    help: 'Upstream cache reads for client calls, by API and result (hit, miss, stale).',
    labelNames: ['api', 'result'] as const,
    registers: [registry],
  });
  const refreshes = new Counter({
    name: 'defender_background_refreshes_total',
    help: "Background refreshes of stale cached answers (stale-while-revalidate), by API and outcome: refreshed, throttled (429), failed, or skipped (no free budget slot or breaker not closed; no request sent). Every one not skipped is also one request in defender_upstream_calls_total, and is in no operation's extensions.upstream.calls.",
    labelNames: ['api', 'outcome'] as const,
    registers: [registry],
  });
  const breaker = new Gauge({
    name: 'defender_breaker_state',
    help: 'Circuit breaker state by API: 0 closed, 1 half-open (probing), 2 open. No series until a breaker first changes.',
    labelNames: ['api'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL operation duration, by operation name ("anonymous" without one, "other" past the cap).',
    labelNames: ['operation'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });

  const inFlight = new Gauge({
    name: 'graphql_operations_in_flight',
    help: 'GraphQL requests running now (at most MAX_INFLIGHT_OPERATIONS).',
    registers: [registry],
  });
  const shed = new Counter({
    name: 'graphql_operations_shed_total',
    help: 'GraphQL requests refused with 503 RATE_LIMITED because MAX_INFLIGHT_OPERATIONS were running.',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'http_connections_dropped_total',
    help: 'Connections closed as soon as accepted because HTTP_MAX_CONNECTIONS were open.',
    registers: [registry],
  });
  const alertWrites = new Counter({
    name: 'defender_alert_writes_total',
    help: 'Alert mutations, by outcome: updated, not_found, refused (before any call), unknown (Defender may or may not have applied it), failed.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'defender_plan_fallbacks_total',
    help: 'Relationship levels planned for advanced hunting that were answered by REST because hunting failed, by API and reason (the error code: RATE_LIMITED, UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, FORBIDDEN, …).',
    labelNames: ['api', 'reason'] as const,
    registers: [registry],
  });
  const refused = new Counter({
    name: 'defender_operations_refused_total',
    help: 'Operations refused before any Defender call, by code: QUERY_TOO_EXPENSIVE (expected cost over MAX_OPERATION_CALLS) or RATE_LIMITED (the budget cannot serve it before the deadline).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const cut = new Counter({
    name: 'defender_operations_cut_total',
    help: 'Operations stopped during execution with QUERY_TOO_EXPENSIVE before a fan-out level whose calls would pass MAX_OPERATION_CALLS (the estimate was too low).',
    registers: [registry],
  });
  const wasted = new Counter({
    name: 'defender_wasted_calls_total',
    help: 'Defender calls spent by operations that ended with QUERY_TOO_EXPENSIVE (goal: 0).',
    registers: [registry],
  });
  const cacheSources = new Map<CacheName, () => number>();
  new Gauge({
    name: 'gateway_cache_bytes',
    help: 'Estimated heap bytes held by each in-process cache (entities, responses, documents, persistedQueries, compiled); their budgets add up to CACHE_MAX_MB.',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      for (const [cache, bytes] of cacheSources) this.set({ cache }, bytes());
    },
  });

  const operationLabel = boundedLabel(options.maxOperationNames ?? 100);
  return {
    registry,
    observer: {
      onCall(api, status) {
        calls.inc({ api, status: String(status) });
        if (status === 429) throttled.inc({ api });
      },
      onCacheLookup(api, result) {
        cache.inc({ api, result });
      },
      onLimiterWait(api, waitedMs) {
        limiterWait.observe({ api }, waitedMs / 1000);
      },
      onBreakerState(api, state) {
        breaker.set({ api }, BREAKER_STATE_VALUES[state]);
      },
      onBackgroundRefresh(api, outcome) {
        refreshes.inc({ api, outcome });
      },
    },
    observeOperation(name, seconds) {
      duration.observe({ operation: operationLabel(name) }, seconds);
    },
    load: {
      onInFlight: (operations) => inFlight.set(operations),
      onOperationShed: () => shed.inc(),
      onConnectionDropped: () => dropped.inc(),
    },
    onPlanFallback(api, reason) {
      fallbacks.inc({ api, reason });
    },
    onAlertWrite(outcome) {
      alertWrites.inc({ outcome });
    },
    trackCacheBytes(cache, bytes) {
      cacheSources.set(cache, bytes);
    },
    cost: {
      onRefused: (code) => refused.inc({ code }),
      onCut: () => cut.inc(),
      onWasted: (calls) => wasted.inc(calls),
    },
  };
}

/** Maps operation names to labels: the first `max` distinct names as they are, later ones `other`. */
function boundedLabel(max: number): (name: string | null | undefined) => string {
  const known = new Set<string>();
  return (name) => {
    if (!name) return 'anonymous';
    const label = name.slice(0, 100);
    if (known.has(label)) return label;
    if (known.size >= max) return 'other';
    known.add(label);
    return label;
  };
}
