import type { Principal } from '../auth/jwt.js';
import type { OboTokenProviders } from '../auth/obo.js';
import type { DefenderPlans } from '../config/hunting.js';
import type { CallScope, DefenderClient } from '../defender/client.js';
import { newStats } from '../defender/client.js';
import type { AlertDto } from '../defender/types.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { TraceOrigin } from '../ops/spans.js';
import type { OperationTrace } from '../ops/tracing.js';
import { FanoutRecorder } from '../planner/fanout.js';
import type { GraphQLContext, LiveSubscribe, WriteAudit } from './context.js';
import type { PlanFallbackObserver } from './hunting-plans.js';
import { HuntingPlans } from './hunting-plans.js';
import { createLoaders } from './loaders.js';

/** What every operation's context is built from, whichever transport it came over. */
export interface OperationContextDeps {
  readonly client: DefenderClient;
  readonly limiter: UpstreamLimiter;
  readonly machineBatchSize: number;
  readonly maxPageSize: number;
  /** Most Defender calls one operation may need. */
  readonly maxOperationCalls: number;
  /** How long one operation's calls may wait for the rate limiter (ms). */
  readonly requestDeadlineMs: number;
  /** `DEFENDER_PLANS`. Default `rest`. */
  readonly plans?: DefenderPlans;
  /** On-behalf-of token providers (DEFENDER_AUTH_MODE=obo): calls go out as the authenticated caller. */
  readonly obo?: OboTokenProviders;
  /** With `obo`: the same callers' tokens for Microsoft Graph (advanced hunting). */
  readonly graphObo?: OboTokenProviders;
  /** The role or scope a caller needs for any mutation; unset: nobody is checked (AUTH_MODE=none). */
  readonly writeRole?: string;
  /** Every mutation is refused (AUTH_MODE=none in front of a real Defender). Default false. */
  readonly writesDisabled?: boolean;
  /** A field was cut at execution because the operation reached its call cap (a metric). */
  readonly onCut?: () => void;
  /** A level planned for hunting fell back to REST (a metric and a warn line). */
  readonly onPlanFallback?: PlanFallbackObserver;
  /** Records one write (a log line and a metric). */
  readonly audit?: (entry: WriteAudit) => void;
  /**
   * After a write by `identity`: drop stored results that may show the old alerts, tell live subscribers.
   * `origin`: the writing operation's span, when traced, for the executions of the changes to link to.
   */
  readonly afterWrite?: (
    identity: string,
    updated: readonly AlertDto[],
    origin: TraceOrigin | undefined,
  ) => void;
}

/** One operation as its transport received it. */
export interface OperationRequest {
  /** The authenticated caller (AUTH_MODE=jwt). */
  readonly principal?: Principal | undefined;
  /** Who asks when nobody is authenticated (a client name or address), for fair shares of the budget. */
  readonly caller: string;
  readonly requestId: string;
  /** Aborted when the client goes away or the subscription ends: queued and in-flight calls stop. */
  readonly signal?: AbortSignal;
  /** `Cache-Control: no-cache`: cached answers are not read. Default false. */
  readonly fresh?: boolean;
  /** Epoch ms the operation's calls may wait until. Default: now + `requestDeadlineMs`. */
  readonly deadline?: number;
  /** A subscription's source streams (only over WebSocket or SSE). */
  readonly live?: LiveSubscribe;
  /** Every mutation is refused (subscriptions: only a subscription runs there anyway). Default false. */
  readonly readOnly?: boolean;
  /** The operation's trace, started by the transport from its request's headers. Default: not traced. */
  readonly trace?: OperationTrace;
}

/**
 * The one place a GraphQL operation's context is made — for HTTP queries and mutations (server.ts) and for each
 * event of a subscription (live/engine.ts) — so both plan, spend, cut and learn alike: the scope (deadline,
 * cancellation, the caller's share, on-behalf-of tokens for Defender and Graph), loaders, the hunting plans,
 * the fan-out recorder and what writes need.
 */
export function operationContexts(deps: OperationContextDeps): (request: OperationRequest) => GraphQLContext {
  return (request) => {
    const { principal } = request;
    const scope: CallScope = {
      stats: newStats(),
      deadline: request.deadline ?? Date.now() + deps.requestDeadlineMs,
      ...(request.signal && { signal: request.signal }),
      caller: principal ? `principal:${principal.id}` : request.caller,
      ...(deps.obo && principal && { tokens: deps.obo.forPrincipal(principal) }),
      ...(deps.graphObo && principal && { graphTokens: deps.graphObo.forPrincipal(principal) }),
      ...(request.fresh && { fresh: true }),
      maxCalls: deps.maxOperationCalls,
      seen: new Map(),
      ...(request.trace && { trace: request.trace }),
    };
    const loaders = createLoaders(deps.client, scope, deps.machineBatchSize, deps.onCut);
    const identity = deps.client.identityOf(scope);
    return {
      scope,
      client: deps.client,
      limiter: deps.limiter,
      maxPageSize: deps.maxPageSize,
      loaders,
      hunting: new HuntingPlans(
        deps.client,
        scope,
        deps.limiter,
        deps.plans ?? 'rest',
        loaders.perParent,
        deps.onPlanFallback,
      ),
      fanout: new FanoutRecorder(),
      writes: {
        principal,
        writeRole: deps.writeRole,
        disabled: (deps.writesDisabled ?? false) || (request.readOnly ?? false),
        requestId: request.requestId,
        audit: (entry) => deps.audit?.(entry),
        afterWrite: (updated) => deps.afterWrite?.(identity, updated, request.trace?.origin),
      },
      ...(request.live && { live: request.live }),
      ...(request.trace && { trace: request.trace }),
    };
  };
}
