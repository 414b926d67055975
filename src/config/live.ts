import type { EnvReader } from './env.js';

/** The live subscriptions' settings (`Subscription.alertChanges`). */
export interface LiveConfig {
  /** `ALERT_POLL_SECONDS`: time between two polls of one identity's alerts while anyone subscribes (ms). Default 30 s. */
  readonly pollIntervalMs: number;
  /**
   * `ALERT_POLL_BUDGET_PERCENT`: most of each window of the alerts API's budget the pollers of one replica may
   * spend, in percent. Default 20.
   */
  readonly pollBudgetShare: number;
  /** `LIVE_MAX_SUBSCRIPTIONS`: most subscriptions at once in one replica. Default 10,000. */
  readonly maxSubscriptions: number;
  /** `LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION`: most subscriptions one WebSocket connection holds. Default 20. */
  readonly maxSubscriptionsPerConnection: number;
}

export function parseLiveConfig({ int, fail }: EnvReader): LiveConfig {
  const percent = int('ALERT_POLL_BUDGET_PERCENT', 20, 1);
  if (percent > 100) fail('ALERT_POLL_BUDGET_PERCENT', `expected a percentage from 1 to 100, got ${percent}`);
  return {
    pollIntervalMs: int('ALERT_POLL_SECONDS', 30, 1) * 1000,
    pollBudgetShare: percent / 100,
    maxSubscriptions: int('LIVE_MAX_SUBSCRIPTIONS', 10_000, 1),
    maxSubscriptionsPerConnection: int('LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1),
  };
}
