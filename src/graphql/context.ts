import type { CallScope, DefenderClient } from '../defender/client.js';
import type { AlertFilter } from '../generated/resolvers.js';
import type { AlertChangeEvent } from '../live/watermark.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { FanoutRecorder } from '../planner/fanout.js';
import type { Loaders } from './loaders.js';
import type { HuntingPlans } from './hunting-plans.js';

/** What every resolver gets for one operation. */
export interface GraphQLContext {
  readonly loaders: Loaders;
  /** Which source answers each relationship level hunting could serve (`DEFENDER_PLANS`). */
  readonly hunting: HuntingPlans;
  readonly client: DefenderClient;
  /** This operation's upstream spending, deadline and cancellation. */
  readonly scope: CallScope;
  readonly limiter: UpstreamLimiter;
  /** Cap on `first`. */
  readonly maxPageSize: number;
  /** What this operation's relationship answers held, learnt when it ends (planner/fanout.ts). */
  readonly fanout: FanoutRecorder;
  /** The source streams of subscriptions: only on an operation that came over WebSocket or SSE (src/live/). */
  readonly live?: LiveSubscribe;
}

/** What a subscription's root field subscribes to, as the caller it runs for. */
export interface LiveSubscribe {
  alertChanges(filter: AlertFilter | null | undefined): AsyncIterable<{ alertChanges: AlertChangeEvent }>;
}
