import type { DefenderClient } from '../defender/client.js';
import type { LiveTracing } from '../ops/live-tracing.js';
import type { StartSource } from './hub.js';
import type { LiveObserver } from './metrics.js';
import type { PollBudget } from './poll-budget.js';
import { AlertPoller } from './poller.js';

export interface LocalSourceOptions {
  readonly client: DefenderClient;
  readonly budget: PollBudget;
  /** `ALERT_POLL_SECONDS`, in ms. */
  readonly intervalMs: number;
  readonly observer?: LiveObserver;
  /** A tick that failed; logged by the caller. */
  readonly onError?: (error: unknown) => void;
  /** Traces each poll. Default: not traced. */
  readonly tracing?: LiveTracing;
}

/** Counts the pollers running in this process, for the `live_alert_pollers` gauge. */
export interface PollerCount {
  value: number;
}

/**
 * Without Redis: every replica polls for its own subscribers, one poller per identity, from the first
 * subscriber to the last.
 */
export function localSource(options: LocalSourceOptions, running: PollerCount): StartSource {
  return (_identity, tokens, deliver) => {
    const poller = new AlertPoller({
      client: options.client,
      ...(tokens && { tokens }),
      budget: options.budget,
      intervalMs: options.intervalMs,
      onChanges: deliver,
      ...(options.observer && { onTick: options.observer.onPoll }),
      ...(options.onError && { onError: options.onError }),
      ...(options.tracing && { tracing: options.tracing }),
    });
    poller.start();
    running.value++;
    return {
      stop: async () => {
        running.value--;
        await poller.stop();
      },
    };
  };
}
