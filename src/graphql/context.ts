import type { OperationTrace } from '../ops/tracing.js';
import type { CallScope, DefenderClient } from '../defender/client.js';
import type { AlertDto } from '../defender/types.js';
import type { AlertFilter } from '../generated/resolvers.js';
import type { AlertChangeEvent } from '../live/watermark.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { FanoutRecorder } from '../planner/fanout.js';
import type { Loaders } from './loaders.js';
import type { HuntingPlans } from './hunting-plans.js';
import type { Principal } from '../auth/jwt.js';

/** One line of the audit trail of writes (never a token). */
export interface WriteAudit {
  readonly who: string;
  readonly alertIds: readonly string[];
  /** Per field: the value before (when the alert was at hand) and the value asked for. */
  readonly changes: Readonly<Record<string, { readonly from?: unknown; readonly to: unknown }>>;
  readonly outcome: 'updated' | 'not_found' | 'refused' | 'unknown' | 'failed';
  readonly requestId: string;
  readonly error?: string;
}

/** What mutations need beyond reads: who is asking, the right to write, the audit trail. */
export interface WriteContext {
  /** The authenticated caller (AUTH_MODE=jwt); undefined without inbound authentication. */
  readonly principal?: Principal | undefined;
  /** The role or scope a caller needs to write; undefined when nobody is checked (AUTH_MODE=none). */
  readonly writeRole?: string | undefined;
  /** Mutations are refused for everyone (AUTH_MODE=none in front of a real Defender without ALLOW_UNAUTHENTICATED_WRITES). */
  readonly disabled: boolean;
  readonly requestId: string;
  /** Records one write: a log line and a metric. */
  readonly audit: (entry: WriteAudit) => void;
  /**
   * Called after a write was (or may have been) applied, with the alerts as Defender answered them: drops this
   * process's stored results of the identity and tells its live subscribers at once.
   */
  readonly afterWrite: (updated: readonly AlertDto[]) => void;
}

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
  readonly writes: WriteContext;
  /** What this operation's relationship answers held, learnt when it ends (planner/fanout.ts). */
  readonly fanout: FanoutRecorder;
  /** The source streams of subscriptions: only on an operation that came over WebSocket or SSE (src/live/). */
  readonly live?: LiveSubscribe;
  /** This operation's trace (`OTEL_EXPORTER_OTLP_ENDPOINT`); absent when tracing is off. */
  readonly trace?: OperationTrace;
}

/** What a subscription's root field subscribes to, as the caller it runs for. */
export interface LiveSubscribe {
  alertChanges(filter: AlertFilter | null | undefined): AsyncIterable<{ alertChanges: AlertChangeEvent }>;
}
