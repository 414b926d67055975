import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import type { IncomingMessage } from 'node:http';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CacheBudget } from './cache/budget.js';
import { DEFAULT_CACHE_MAX_MB, splitCacheBudget } from './cache/budget.js';
import type { DefenderClient } from './defender/client.js';
import type { UpstreamLimiter } from './rate-limit/limiter.js';
import { errorFormatter } from './errors.js';
import { registerGraphiQL } from './graphiql/route.js';
import type { GraphQLContext } from './graphql/context.js';
import { carriesRouterSecret, routerOnly } from './auth/router-secret.js';
import { subgraphSchema } from './graphql/federation.js';
import { compiledExecution } from './graphql/executor.js';
import { inlineTracePlugin } from './plugins/inline-trace.js';
import { operationContexts } from './graphql/operation-context.js';
import type { DefenderPlans } from './config/hunting.js';
import { admissionPlugin } from './plugins/admission.js';
import { responseCachePlugin } from './plugins/response-cache.js';
import { upstreamReportPlugin } from './plugins/upstream-report.js';
import { fanoutLearningPlugin } from './plugins/fanout-learning.js';
import { FanoutStats } from './planner/fanout.js';
import { ResponseCache } from './cache/response-cache.js';
import { documentStore, persistedQueryCache } from './cache/apollo-caches.js';
import { QUERY_LIMITS, queryLimits } from './plugins/query-limits.js';
import { KnownOperationTypesRule } from './graphql/operation-types.js';
import type { JwtAuthenticator } from './auth/jwt.js';
import type { OboTokenProviders } from './auth/obo.js';
import { authenticationHook } from './auth/hook.js';
import type { HttpLimits } from './http/connection-limits.js';
import { DEFAULT_HTTP_LIMITS, capConnections, httpServerOptions } from './http/connection-limits.js';
import { DEFAULT_MAX_INFLIGHT_OPERATIONS, inFlightLimit } from './http/inflight-limit.js';
import { registerRefusals, refusalOptions } from './http/refusals.js';
import { boundedRequest } from './http/request-bounds.js';
import type { Logger } from './ops/logger.js';
import { requestIdFor } from './ops/logger.js';
import type { GatewayMetrics } from './ops/metrics.js';
import { createMetrics } from './ops/metrics.js';
import { operationsPlugin } from './plugins/operations.js';
import { noStorePlugins } from './plugins/no-store.js';
import { tracingPlugin } from './plugins/tracing.js';
import type { Tracing } from './ops/tracing.js';
import type { LiveOptions } from './live/live.js';
import { startLive } from './live/live.js';
import { SubscriptionsNeedAStreamRule } from './live/http-rule.js';
import { wantsEventStream } from './live/sse.js';

export interface ServerDeps {
  readonly client: DefenderClient;
  readonly limiter: UpstreamLimiter;
  /** How long one operation's calls may wait for the rate limiter (ms). */
  readonly requestDeadlineMs: number;
  readonly machineBatchSize: number;
  readonly maxPageSize: number;
  /** Most Defender calls one operation may need. */
  readonly maxOperationCalls: number;
  /** Expected calls are held to the cap and the budget plus this margin (%). Default 25. */
  readonly costMarginPercent?: number;
  /**
   * The fan-out learnt from every answer, read by the planner for expected costs (shared through Redis when
   * built so). Default: this server's own, in memory.
   */
  readonly fanout?: FanoutStats;
  /** The federation router's shared secret: when set, `/graphql` answers 401 without it. Default unset. */
  readonly routerSecret?: string;
  /** Inbound authentication (AUTH_MODE=jwt); absent means none. */
  readonly authenticator?: JwtAuthenticator;
  /** The role or scope a caller needs for any mutation; unset: nobody is checked (AUTH_MODE=none). */
  readonly writeRole?: string;
  /** Every mutation is refused, FORBIDDEN before any call (AUTH_MODE=none in front of a real Defender). */
  readonly writesDisabled?: boolean;
  /** On-behalf-of token providers (DEFENDER_AUTH_MODE=obo); needs the authenticator. */
  readonly obo?: OboTokenProviders;
  /** With `obo`: the same callers' tokens for Microsoft Graph (advanced hunting). */
  readonly graphObo?: OboTokenProviders;
  /** `DEFENDER_PLANS`: whether relationship levels may use advanced hunting. Default `rest`. */
  readonly plans?: DefenderPlans;
  /** Introspection on. Default false. */
  readonly introspection?: boolean;
  /**
   * Hide "Did you mean …?" suggestions from every error message (validation, variable coercion, literals).
   * Default true; `config.ts` shows them only with the embedded simulator.
   */
  readonly hideSchemaSuggestions?: boolean;
  /** Accept batched HTTP requests (a JSON array of operations). Default false. */
  readonly allowBatchedRequests?: boolean;
  /** Reuse an identical operation's result while its upstream answers are fresh. Default true. */
  readonly responseCache?: boolean;
  /**
   * Executions of a document by graphql-js before it runs compiled (graphql/executor.ts). Default 1; the tests
   * use 0, so that everything they ask runs compiled.
   */
  readonly compileAfter?: number;
  /**
   * Bytes each in-process cache may hold (`CACHE_MAX_MB` split by `splitCacheBudget`); the entity cache is the
   * client's, sized by whoever builds it from `entities`. Default: {@link DEFAULT_CACHE_MAX_MB} split.
   */
  readonly cacheBudget?: CacheBudget;
  /** Served at `/metrics`; give its `observer` to the client. Default: fresh metrics without upstream series. */
  readonly metrics?: GatewayMetrics;
  /** One JSON line per GraphQL operation. Default: no request logs. */
  readonly logger?: Logger;
  /** Timeouts, header size and connection cap; what is not given is {@link DEFAULT_HTTP_LIMITS}'. */
  readonly http?: Partial<HttpLimits>;
  /** Most GraphQL requests running at once; one more gets 503 RATE_LIMITED at once. Default 100. */
  readonly maxInFlightOperations?: number;
  /** Live subscriptions (`ALERT_POLL_SECONDS`, their caps, sharing through Redis); see `LiveOptions`' defaults. */
  readonly live?: LiveOptions;
  /** OpenTelemetry traces: a span per operation and per upstream call. Default: off (no span is made). */
  readonly tracing?: Tracing;
}

export interface GatewayServer {
  readonly app: FastifyInstance;
  /** Listens on `port` (0 for any) on `host`; resolves to the base URL. */
  listen(port: number, host?: string): Promise<string>;
  /** `/readyz` answers 503 from now on (shutdown has begun); everything else still works. */
  markDraining(): void;
  /** Destroys every open connection, idle or not (the end of a shutdown's grace period). */
  forceCloseConnections(): void;
  close(): Promise<void>;
}

/**
 * The GraphQL server over HTTP with its per-request context, from injected dependencies (`createDependencies`
 * in `dependencies.ts` builds them from the configuration), so tests build exactly what `npm start` runs.
 */
export async function createServer(deps: ServerDeps): Promise<GatewayServer> {
  const httpLimits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...deps.http };
  const app = Fastify({
    ...httpServerOptions(httpLimits),
    logger: false,
    bodyLimit: QUERY_LIMITS.maxBodyBytes,
    genReqId: requestIdFor,
    requestIdHeader: false,
    ...refusalOptions,
  });
  registerRefusals(app, deps.logger ? { logger: deps.logger } : {});
  // GraphQL takes JSON only: a text/plain body is 415 like any other type, not a string handed to Apollo.
  app.removeContentTypeParser('text/plain');
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false });
  capConnections(app.server, httpLimits.maxConnections, () => metrics.load.onConnectionDropped());
  // The id travels to Apollo's plugins in the request headers, and back to the client in the response's.
  app.addHook('onRequest', async (request, reply) => {
    request.headers['x-request-id'] = request.id;
    void reply.header('x-request-id', request.id);
  });
  // Before every other hook: without the router's secret, nothing of /graphql answers, not even GraphiQL.
  if (deps.routerSecret !== undefined) app.addHook('onRequest', routerOnly(deps.routerSecret));
  // First of the hooks: a browser's GET /graphql gets the GraphiQL page, which needs no token (its queries do).
  registerGraphiQL(app);
  let state: 'starting' | 'ready' | 'draining' = 'starting';
  // Once draining, a finished request closes its connection: a kept-alive one would hold close() to the end of
  // the grace period.
  app.addHook('onSend', async (_, reply) => {
    if (state === 'draining') void reply.header('connection', 'close');
  });
  const hideSuggestions = deps.hideSchemaSuggestions ?? true;
  const fanout = deps.fanout ?? new FanoutStats();
  const limits = queryLimits();
  const budget = deps.cacheBudget ?? splitCacheBudget(DEFAULT_CACHE_MAX_MB);
  const documents = documentStore(budget.documents);
  const persistedQueries = persistedQueryCache(budget.persistedQueries);
  const responseCache =
    deps.responseCache === false ? undefined : new ResponseCache({ maxBytes: budget.responses });
  metrics.trackCacheBytes('documents', () => documents.bytes);
  metrics.trackCacheBytes('persistedQueries', () => persistedQueries.bytes);
  if (responseCache) metrics.trackCacheBytes('responses', () => responseCache.bytes);
  const entityCache = deps.client.cache;
  if (entityCache.bytes !== undefined) metrics.trackCacheBytes('entities', () => entityCache.bytes ?? 0);

  const schema = subgraphSchema({ maxRepresentations: deps.maxOperationCalls * deps.machineBatchSize });
  const execution = compiledExecution(schema, {
    maxBytes: budget.compiled,
    ...(deps.compileAfter !== undefined && { compileAfter: deps.compileAfter }),
  });
  metrics.trackCacheBytes('compiled', () => execution.bytes);
  const apollo = new ApolloServer<GraphQLContext>({
    // Apollo's own parse, validation and plugins, with execution compiled (graphql/executor.ts).
    gateway: execution,
    formatError: errorFormatter({ hideSuggestions }),
    includeStacktraceInErrorResponses: false,
    introspection: deps.introspection ?? false,
    hideSchemaDetailsFromClientErrors: hideSuggestions,
    allowBatchedHttpRequests: deps.allowBatchedRequests ?? false,
    csrfPrevention: true,
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    documentStore: documents,
    cache: persistedQueries,
    validationRules: [...limits.validationRules, KnownOperationTypesRule, SubscriptionsNeedAStreamRule],
    // index.ts owns shutdown: it stops the limiter, the server and the embedded simulator, then exits 0.
    stopOnTerminationSignals: false,
    plugins: [
      fastifyApolloDrainPlugin(app),
      // In this order: Apollo starts each hook in the order listed. The response cache decides first whether a
      // stored result answers the query; admission (estimate, then refusal before any call) skips those; the
      // report reads both (the estimate, or the response-cache hit). Each keeps its own state per request.
      ...(responseCache ? [responseCachePlugin({ responseCache })] : []),
      admissionPlugin({
        maxOperationCalls: deps.maxOperationCalls,
        batchSize: deps.machineBatchSize,
        maxPageSize: deps.maxPageSize,
        costMargin: 1 + (deps.costMarginPercent ?? 25) / 100,
        fanout,
        cost: metrics.cost,
      }),
      upstreamReportPlugin(),
      fanoutLearningPlugin(fanout),
      ...limits.plugins,
      ApolloServerPluginLandingPageDisabled(),
      ...noStorePlugins(),
      inlineTracePlugin(deps.routerSecret),
      operationsPlugin({ metrics, ...(deps.logger && { logger: deps.logger }) }),
      ...(deps.tracing ? [tracingPlugin()] : []),
    ],
  });
  await apollo.start();

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_, reply) => {
    if (state !== 'ready') return reply.code(503).send({ status: state });
    return { status: 'ready' };
  });
  // Counts and durations only: no label holds a caller's data, so it needs no authentication.
  app.get('/metrics', async (_, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  if (deps.authenticator) {
    const obo = deps.obo;
    const authenticate = authenticationHook(
      deps.authenticator,
      obo ? (principal) => obo.forPrincipal(principal) : undefined,
    );
    app.addHook('onRequest', async (request, reply) => {
      // The matched route, not the raw URL: `/%67raphql` reaches the same handler.
      if (request.routeOptions.url === '/graphql') await authenticate(request, reply);
    });
  }

  // Subscriptions on the same path: WebSocket upgrades, and POSTs that accept an event stream (src/live/).
  const routerAdmits = deps.routerSecret === undefined ? undefined : carriesRouterSecret(deps.routerSecret);
  // One factory for every operation's context, HTTP or subscription event (graphql/operation-context.ts).
  const contexts = operationContexts({
    ...deps,
    onCut: () => metrics.cost.onCut(),
    onPlanFallback: ({ api, reason }) => {
      metrics.onPlanFallback(api, reason);
      // The code alone: never the query, an id or an upstream URL.
      deps.logger?.warn(
        { api, reason },
        'defender-graph: a level planned for advanced hunting fell back to REST',
      );
    },
    audit: (entry) => {
      metrics.onAlertWrite(entry.outcome);
      deps.logger?.info({ audit: 'alert-write', ...entry }, 'defender-graph: alert write');
    },
    afterWrite: (identity, updated, origin) => {
      responseCache?.forgetIdentity(identity);
      live.announce(identity, updated, origin);
    },
  });
  const live = startLive({
    ...deps,
    app,
    schema,
    contexts,
    fanout,
    validationRules: [...limits.validationRules, KnownOperationTypesRule],
    maxTokens: QUERY_LIMITS.maxTokens,
    maxPayloadBytes: QUERY_LIMITS.maxBodyBytes,
    hideSuggestions,
    registry: metrics.registry,
    ...(routerAdmits && { admits: (request: IncomingMessage) => routerAdmits(request.headers) }),
    callerOf: (request) => ({ principal: request.principal, caller: callerOf(request) }),
    ...(deps.live && { options: deps.live }),
  });
  const inFlight = inFlightLimit({
    max: deps.maxInFlightOperations ?? DEFAULT_MAX_INFLIGHT_OPERATIONS,
    onCount: (n) => metrics.load.onInFlight(n),
    onShed: () => metrics.load.onOperationShed(),
  });
  const apolloHandler = fastifyApolloHandler(apollo, {
    context: async (request, reply) => {
      const abort = new AbortController();
      // The client went away before its answer was written: stop its queued and in-flight upstream work.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
      });
      const fresh = /\bno-cache\b/i.test(request.headers['cache-control'] ?? '');
      return contexts({
        principal: request.principal,
        caller: callerOf(request),
        requestId: request.id,
        signal: abort.signal,
        fresh,
        ...(deps.tracing && { trace: deps.tracing.startOperation(request.headers, { fresh }) }),
      });
    },
  });
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    // A stream lasts as long as its subscription: it is capped by LIVE_MAX_SUBSCRIPTIONS, not counted in flight.
    preHandler: async (request, reply) => (wantsEventStream(request) ? undefined : inFlight(request, reply)),
    preValidation: boundedRequest(QUERY_LIMITS.maxInputDepth),
    handler: function (request, reply) {
      return wantsEventStream(request) ? live.sse(request, reply) : apolloHandler.call(this, request, reply);
    },
  });

  return {
    app,
    async listen(port, host = '0.0.0.0') {
      await app.listen({ port, host });
      if (state === 'starting') state = 'ready';
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      return `http://127.0.0.1:${actual}`;
    },
    markDraining() {
      state = 'draining';
    },
    forceCloseConnections() {
      app.server.closeAllConnections();
    },
    async close() {
      state = 'draining';
      // Every stream is completed first: an open subscription would hold app.close() to the end of the grace period.
      await live.close();
      await app.close();
      await apollo.stop();
    },
  };
}

/**
 * Who is asking, for fair shares of the upstream budget: the client's self-declared name (Apollo's
 * `apollographql-client-name` or `x-client-name`) or else its address. Fairness, not security, rests on it.
 */
function callerOf(request: FastifyRequest): string {
  const named = request.headers['apollographql-client-name'] ?? request.headers['x-client-name'];
  return typeof named === 'string' && named !== '' ? `client:${named.slice(0, 100)}` : `ip:${request.ip}`;
}
