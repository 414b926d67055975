import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { PollOutcome } from './poller.js';

/** What live subscriptions report; every hook must not throw. */
export interface LiveObserver {
  /** One poll tick ended, having sent `calls` alerts calls. */
  onPoll(outcome: PollOutcome, calls: number): void;
  /** One event was resolved for one subscriber and handed to its transport, `lagMs` after the alert's `lastUpdateTime`. */
  onDelivered(transport: LiveTransport, lagMs: number): void;
}

export type LiveTransport = 'websocket' | 'sse';

/** What the gauges read at scrape time. */
export interface LiveGauges {
  subscriptions(): Readonly<Record<LiveTransport, number>>;
  /** Identities this replica polls for now. */
  pollers(): number;
}

const LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 300];

/**
 * The live metrics, in the gateway's registry (docs/operations.md): subscribers by transport, pollers running,
 * poll ticks by outcome and the calls they sent, events delivered, and the lag from an alert's `lastUpdateTime`
 * to the delivery of its change. Labels come from closed sets only.
 */
export function liveMetrics(registry: Registry, gauges: LiveGauges): LiveObserver {
  new Gauge({
    name: 'live_subscriptions',
    help: 'Subscriptions open now, by transport (websocket, sse).',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      for (const [transport, count] of Object.entries(gauges.subscriptions())) this.set({ transport }, count);
    },
  });
  new Gauge({
    name: 'live_alert_pollers',
    help: 'Upstream identities this replica polls alerts for now (with CACHE_URL, only those whose lease it holds).',
    registers: [registry],
    collect() {
      this.set(gauges.pollers());
    },
  });
  const polls = new Counter({
    name: 'live_alert_polls_total',
    help: 'Alert poll ticks, by outcome: changes, empty (nothing new), skipped (the budget had no slot for polling before the next tick), failed.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const pollCalls = new Counter({
    name: 'live_alert_poll_calls_total',
    help: 'GET /api/alerts calls sent by the alert pollers (also counted in defender_upstream_calls_total).',
    registers: [registry],
  });
  const delivered = new Counter({
    name: 'live_events_delivered_total',
    help: 'Alert changes resolved and handed to a subscriber, by transport.',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'live_delivery_lag_seconds',
    help: "Time from an alert's lastUpdateTime (Defender's clock) to the delivery of its change to a subscriber.",
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  return {
    onPoll(outcome, calls) {
      polls.inc({ outcome });
      if (calls > 0) pollCalls.inc(calls);
    },
    onDelivered(transport, lagMs) {
      delivered.inc({ transport });
      lag.observe(Math.max(0, lagMs) / 1000);
    },
  };
}
