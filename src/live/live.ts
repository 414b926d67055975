import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { Registry } from 'prom-client';
import type { IncomingMessage } from 'node:http';
import type { JwtAuthenticator, Principal } from '../auth/jwt.js';
import type { RedisConnection } from '../cache/redis.js';
import type { AlertDto } from '../defender/types.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { OperationContextDeps, OperationRequest } from '../graphql/operation-context.js';
import type { FanoutStats } from '../planner/fanout.js';
import type { Logger } from '../ops/logger.js';
import type { TraceOrigin } from '../ops/spans.js';
import type { Tracing } from '../ops/tracing.js';
import type { LiveCaller } from './engine.js';
import { LiveEngine } from './engine.js';
import type { StartSource } from './hub.js';
import { LiveAlerts } from './hub.js';
import type { PollerCount } from './local-source.js';
import { localSource } from './local-source.js';
import { liveMetrics } from './metrics.js';
import { PollBudget } from './poll-budget.js';
import { sharedSource } from './shared-source.js';
import { sseHandler } from './sse.js';
import { attachWebSocket } from './websocket.js';

/** Defaults of the live options, as docs/configuration.md gives them. */
export const LIVE_DEFAULTS = {
  pollIntervalMs: 30_000,
  pollBudgetShare: 0.2,
  maxSubscriptions: 10_000,
  maxSubscriptionsPerConnection: 20,
  keepAliveMs: 12_000,
} as const;

export interface LiveOptions {
  /** `ALERT_POLL_SECONDS` in ms: time between two polls of one identity's alerts. Default 30,000. */
  readonly pollIntervalMs?: number;
  /**
   * `ALERT_POLL_BUDGET_PERCENT` / 100: most of each window of the alerts API's budget polling may spend, over
   * every identity this replica polls for. Default 0.2.
   */
  readonly pollBudgetShare?: number;
  /** `LIVE_MAX_SUBSCRIPTIONS`: most subscriptions at once in this process. Default 10,000. */
  readonly maxSubscriptions?: number;
  /** `LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION`: most subscriptions one WebSocket connection holds. Default 20. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Between WebSocket keep-alive pings (ms). Default 12,000. */
  readonly keepAliveMs?: number;
  /**
   * With `CACHE_URL`: one replica polls for an identity (a lease in Redis) and publishes the changes to the
   * others. Absent, each replica polls for its own subscribers.
   */
  readonly shared?: { readonly redis: RedisConnection; readonly prefix?: string };
}

export interface LiveDeps extends Pick<
  OperationContextDeps,
  'client' | 'limiter' | 'obo' | 'machineBatchSize' | 'maxPageSize' | 'maxOperationCalls'
> {
  readonly app: FastifyInstance;
  readonly schema: GraphQLSchema;
  /** Each event's context, made as a query's is. */
  readonly contexts: (request: OperationRequest) => GraphQLContext;
  /** Learns the fan-out from each event's relationships. */
  readonly fanout?: FanoutStats;
  readonly validationRules: readonly ValidationRule[];
  readonly maxTokens: number;
  readonly maxPayloadBytes: number;
  readonly hideSuggestions: boolean;
  readonly registry: Registry;
  readonly authenticator?: JwtAuthenticator;
  /** Whether an upgrade request carries the router's secret; absent when none is configured. */
  readonly admits?: (request: IncomingMessage) => boolean;
  readonly callerOf: (request: FastifyRequest) => LiveCaller;
  readonly logger?: Logger;
  readonly options?: LiveOptions;
  /** Traces polls, subscriptions' starts and events. Default: off (no span is made). */
  readonly tracing?: Tracing;
}

/** Live subscriptions as the server uses them. */
export interface Live {
  /** Serves a `POST /graphql` with `Accept: text/event-stream`. */
  readonly sse: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /**
   * Alerts a write as `identity` just changed: its subscribers here and on every replica are told at once.
   * `origin`: the write's span, when traced, which each execution of the changes links to.
   */
  announce(identity: string, alerts: readonly AlertDto[], origin?: TraceOrigin): void;
  /** Graceful shutdown: completes every stream, closes the WebSocket connections, stops the pollers. */
  close(): Promise<void>;
}

/**
 * `Subscription.alertChanges` end to end: the poll budget, the sources (a poller per identity here, or one per
 * identity across replicas through Redis), the fan-out hub, the engine that executes subscriptions like queries,
 * both transports on `/graphql`, and their metrics.
 */
export function startLive(deps: LiveDeps): Live {
  const options = { ...LIVE_DEFAULTS, ...deps.options };
  const budget = new PollBudget({
    limiter: deps.limiter,
    windows: deps.limiter
      .budget()
      .filter((b) => b.api === 'alerts')
      .map((b) => ({ limit: b.limit, windowSeconds: b.windowSeconds })),
    share: options.pollBudgetShare,
  });
  const running: PollerCount = { value: 0 };
  let lastErrorLog = 0;
  const onError = (error: unknown) => {
    // A poll that fails repeats every interval: logged at most once a minute.
    if (Date.now() - lastErrorLog < 60_000) return;
    lastErrorLog = Date.now();
    deps.logger?.warn({ error: (error as Error).name }, 'defender-graph: an alert poll failed');
  };
  const observer = liveMetrics(deps.registry, {
    // Read at scrape time, once the engine below exists.
    subscriptions: () => engine.subscriptions(),
    pollers: () => running.value,
  });
  const { tracing } = deps;
  const local = {
    client: deps.client,
    budget,
    intervalMs: options.pollIntervalMs,
    observer,
    onError,
    ...(tracing && { tracing }),
  };
  const shared = deps.options?.shared && sharedSource({ ...local, ...deps.options.shared }, running);
  const startSource: StartSource = shared ?? localSource(local, running);
  const hub = new LiveAlerts({
    startSource,
    maxSubscriptions: options.maxSubscriptions,
    ...(shared && { publish: shared.publish }),
  });
  const engine = new LiveEngine({
    schema: deps.schema,
    hub,
    client: deps.client,
    contexts: deps.contexts,
    ...(deps.fanout && { fanout: deps.fanout }),
    machineBatchSize: deps.machineBatchSize,
    maxPageSize: deps.maxPageSize,
    maxOperationCalls: deps.maxOperationCalls,
    validationRules: deps.validationRules,
    maxTokens: deps.maxTokens,
    hideSuggestions: deps.hideSuggestions,
    ...(deps.obo && { obo: deps.obo }),
    observer,
    ...(tracing && { tracing }),
  });
  const { authenticator, obo } = deps;
  const websocket = attachWebSocket({
    server: deps.app.server,
    engine,
    ...(authenticator && {
      authenticate: async (authorization: string | undefined): Promise<Principal> => {
        const principal = await authenticator.authenticate(authorization);
        obo?.forPrincipal(principal);
        return principal;
      },
    }),
    ...(deps.admits && { admits: deps.admits }),
    maxPerConnection: options.maxSubscriptionsPerConnection,
    keepAliveMs: options.keepAliveMs,
    maxPayloadBytes: deps.maxPayloadBytes,
  });
  return {
    sse: sseHandler(engine, deps.callerOf),
    announce: (identity, alerts, origin) => hub.announce(identity, alerts, origin),
    async close() {
      await hub.close();
      await websocket.close();
    },
  };
}
