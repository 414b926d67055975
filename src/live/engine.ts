import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { LRUCache } from 'lru-cache';
import type * as GraphQL from 'graphql';
import type {
  DocumentNode,
  ExecutionArgs,
  ExecutionResult,
  GraphQLFormattedError,
  GraphQLSchema,
  ValidationRule,
} from 'graphql';
import type { Principal } from '../auth/jwt.js';
import type { UpstreamStats } from '../defender/client.js';
import { newStats } from '../defender/client.js';
import { ErrorCode, GatewayError, errorFormatter } from '../errors.js';
import type { GraphQLContext, LiveSubscribe } from '../graphql/context.js';
import type { OperationContextDeps, OperationRequest } from '../graphql/operation-context.js';
import type { SubscriptionTrace } from '../ops/live-tracing.js';
import type { TraceOrigin } from '../ops/spans.js';
import type { OperationSummary, OperationTrace, Tracing } from '../ops/tracing.js';
import type { FanoutStats } from '../planner/fanout.js';
import { eventCost } from './cost.js';
import { alertMatcher } from './filter-match.js';
import type { LiveAlerts } from './hub.js';
import type { LiveObserver, LiveTransport } from './metrics.js';
import type { AlertChangePayload } from './subscriber.js';

export interface LiveEngineOptions extends Pick<
  OperationContextDeps,
  'client' | 'obo' | 'machineBatchSize' | 'maxPageSize' | 'maxOperationCalls'
> {
  readonly schema: GraphQLSchema;
  readonly hub: LiveAlerts;
  /** Each event's context, made as a query's is (operation-context.ts). */
  readonly contexts: (request: OperationRequest) => GraphQLContext;
  /** Learns the fan-out from what each event's relationships held, as queries teach it. Default: none. */
  readonly fanout?: FanoutStats;
  /** The query limits' rules (depth, aliases, directives) and the others HTTP operations are validated with. */
  readonly validationRules: readonly ValidationRule[];
  /** Most tokens a document may have (graphql-js `parse`'s `maxTokens`). */
  readonly maxTokens: number;
  /** Hide "Did you mean …?" from error messages, as for queries. */
  readonly hideSuggestions: boolean;
  readonly observer?: LiveObserver;
  /** Traces each subscription's start and each event's execution. Default: off (no span is made). */
  readonly tracing?: Pick<Tracing, 'startSubscription' | 'startEvent'>;
}

/** The request of one subscription, as either transport received it. */
export interface LiveRequest {
  readonly query: string;
  readonly operationName?: string | null | undefined;
  readonly variables?: Record<string, unknown> | null | undefined;
}

/** Who subscribes: the authenticated caller (AUTH_MODE=jwt), and a name for fair shares of the budget. */
export interface LiveCaller {
  readonly principal?: Principal | undefined;
  readonly caller: string;
}

/** What a prepared subscription carries to `subscribe` as its `contextValue`. */
interface LiveOperation {
  /** The context of the source stream (the `alertChanges` subscribe resolver), made once and not kept. */
  readonly sourceContext: () => GraphQLContext;
  /** A fresh context for each event: loaders, scope and deadline of its own, as a query gets. */
  readonly contextForEvent: (trace: OperationTrace | undefined) => GraphQLContext;
  /** Abandons the calls of an event still resolving: the subscription ended. */
  readonly end: () => void;
  readonly transport: LiveTransport;
  /** The operation's name (undefined when anonymous), which names each event's span. */
  readonly operationName: string | undefined;
  /** The span of the subscription's start, until {@link LiveEngine.subscribe} ends it; then only its origin. */
  starting: SubscriptionTrace | undefined;
  readonly origin: TraceOrigin | undefined;
}

/**
 * graphql-js as `@apollo/subgraph` (which builds the schema) and the transports load it: through `require`, so
 * that schema, errors and execution belong to one module instance. Under Node both `import` and `require` of
 * `graphql` give its CommonJS build; a bundler (vitest) would otherwise give this file the ESM build, whose
 * `validate` refuses a schema from the other one and whose errors the transports do not recognize.
 */
const { GraphQLError, createSourceEventStream, execute, getOperationAST, parse, specifiedRules, validate } =
  createRequire(import.meta.url)('graphql') as typeof GraphQL;
type GraphQLError = GraphQL.GraphQLError;

const operations = new WeakMap<object, LiveOperation>();

/**
 * Subscriptions over the streaming transports, executed like queries: the same schema, the same validation
 * (the query limits included) and error masking, the planner's estimate of what one event can cost checked
 * at subscribe time against `MAX_OPERATION_CALLS`, and each event resolved by graphql-js `execute` with a
 * context of its own built as the HTTP one is, so relationship fields go through loaders, cache and limiter.
 * The transports (websocket.ts, sse.ts) only carry requests and results.
 */
export class LiveEngine {
  readonly #options: LiveEngineOptions;
  readonly #rules: readonly ValidationRule[];
  /** Parsed and validated documents by text: 1,000 subscribers of one dashboard hold one document. */
  readonly #documents = new LRUCache<string, DocumentNode | readonly GraphQLError[]>({ max: 500 });
  readonly #format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly #open: Record<LiveTransport, number> = { websocket: 0, sse: 0 };

  constructor(options: LiveEngineOptions) {
    this.#options = options;
    this.#rules = [...specifiedRules, ...options.validationRules];
    this.#format = errorFormatter({ hideSuggestions: options.hideSuggestions });
  }

  /** Subscriptions running now, by transport. */
  subscriptions(): Readonly<Record<LiveTransport, number>> {
    return { ...this.#open };
  }

  /**
   * Parses, validates and admits one subscription; the execution arguments for {@link subscribe}, or the
   * errors (formatted, safe to send) that refuse it. `headers` are the subscribing request's (SSE: the POST's;
   * WebSocket: the upgrade request's): with tracing, the subscription's start is a span in their trace context.
   */
  async prepare(
    request: LiveRequest,
    who: LiveCaller,
    transport: LiveTransport,
    headers: IncomingHttpHeaders = {},
  ): Promise<ExecutionArgs | GraphQLError[]> {
    const trace = this.#options.tracing?.startSubscription(headers);
    const prepared = await this.#prepare(request, who, transport, trace);
    if (Array.isArray(prepared)) trace?.end(codesOf(prepared));
    return prepared;
  }

  async #prepare(
    request: LiveRequest,
    who: LiveCaller,
    transport: LiveTransport,
    trace: SubscriptionTrace | undefined,
  ): Promise<ExecutionArgs | GraphQLError[]> {
    const document = this.#document(request.query);
    if (!isDocument(document)) return [...document];
    const operation = getOperationAST(document, request.operationName);
    if (!operation) {
      return this.refusal(
        new GatewayError(ErrorCode.BadUserInput, 'The document names no operation to run, or several.'),
      );
    }
    if (operation.operation !== 'subscription') {
      return this.refusal(
        new GatewayError(
          ErrorCode.BadUserInput,
          `Only subscriptions go over WebSocket and Server-Sent Events; send a ${operation.operation} as a POST to /graphql.`,
        ),
      );
    }
    const variables = request.variables ?? undefined;
    try {
      const cost = await eventCost(document, request.operationName, variables, {
        lookup: async (requests) => requests.map(() => undefined),
        batchSize: this.#options.machineBatchSize,
        maxPageSize: this.#options.maxPageSize,
      });
      const max = this.#options.maxOperationCalls;
      if (cost && cost.min > max) {
        throw new GatewayError(
          ErrorCode.QueryTooExpensive,
          `Each change would need at least ${cost.min} Defender calls; the cap is ${max}.`,
          { cost: { estimated: cost.min, estimatedMax: cost.max, max, byApi: cost.byApi } },
        );
      }
    } catch (error) {
      return this.refusal(error);
    }
    trace?.named(operation.name?.value);
    const live = this.#operation(who, transport, operation.name?.value, trace);
    const contextValue = {};
    operations.set(contextValue, live);
    return {
      schema: this.#options.schema,
      document,
      operationName: request.operationName ?? null,
      variableValues: variables ?? null,
      contextValue,
    };
  }

  /**
   * Runs a prepared subscription: the source stream (`alertChanges` subscribes to the hub), each event executed
   * in a context of its own. A subscription refused by its resolver (a bad filter, the subscription cap) is one
   * result with its errors.
   */
  async subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const live = operations.get(args.contextValue as object);
    if (!live) throw new Error('subscribe() needs the arguments prepare() made');
    const source = await createSourceEventStream({ ...args, contextValue: live.sourceContext() });
    if (!isAsyncIterable(source)) {
      const refused = this.format(source);
      started(live, refused.errors);
      return refused;
    }
    started(live, undefined);
    const iterator = source[Symbol.asyncIterator]() as AsyncIterator<AlertChangePayload>;
    const { observer, tracing } = this.#options;
    const resolveEvent = async (payload: AlertChangePayload): Promise<ExecutionResult> => {
      const change = payload.alertChanges;
      const trace = tracing?.startEvent({
        operationName: live.operationName,
        changeKind: change.kind,
        change: change.origin,
        subscription: live.origin,
      });
      const context = live.contextForEvent(trace);
      let result: ExecutionResult;
      try {
        result = await execute({ ...args, rootValue: payload, contextValue: context });
      } catch (error) {
        trace?.end(eventSummary(context, [ErrorCode.InternalServerError]));
        throw error;
      }
      this.#options.fanout?.record(context.fanout.seen());
      const lastUpdate = Date.parse(change.alert.lastUpdateTime ?? '');
      if (!Number.isNaN(lastUpdate)) observer?.onDelivered(live.transport, Date.now() - lastUpdate);
      const formatted = this.format({
        ...result,
        extensions: { ...result.extensions, upstream: report(context.scope.stats) },
      });
      trace?.end(eventSummary(context, codesOf(formatted.errors ?? [])));
      return formatted;
    };
    this.#open[live.transport]++;
    return mapEvents(iterator, resolveEvent, () => {
      this.#open[live.transport]--;
      live.end();
    });
  }

  /** A result as a client may see it: every error through the one formatter (errors.ts), as for queries. */
  format(result: ExecutionResult): ExecutionResult {
    if (!result.errors) return result;
    // GraphQLErrors again, since the transports serialize errors with `toJSON()`: locations and path kept.
    const errors = result.errors.map((error) => {
      const { message, extensions } = this.#format(error.toJSON(), error);
      return new GraphQLError(message, {
        ...(error.nodes && { nodes: error.nodes }),
        ...(error.path && { path: error.path }),
        ...(extensions && { extensions }),
      });
    });
    return { ...result, errors };
  }

  #document(query: string): DocumentNode | readonly GraphQLError[] {
    const known = this.#documents.get(query);
    if (known) return known;
    let parsed: DocumentNode | readonly GraphQLError[];
    try {
      const document = parse(query, { maxTokens: this.#options.maxTokens });
      const errors = validate(this.#options.schema, document, this.#rules);
      parsed = errors.length > 0 ? errors.map((e) => this.#requestError(e)) : document;
    } catch (error) {
      parsed = [this.#requestError(error as GraphQLError)];
    }
    this.#documents.set(query, parsed);
    return parsed;
  }

  /** A parse or validation error, coded as Apollo codes it for queries, then formatted. */
  #requestError(error: GraphQLError): GraphQLError {
    const coded = new GraphQLError(error.message, {
      ...(error.nodes && { nodes: error.nodes }),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    return toGraphQLError(this.#format(coded.toJSON(), coded));
  }

  /** Errors refusing a subscription before it runs, formatted (safe to send). */
  refusal(error: unknown): GraphQLError[] {
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new GraphQLError(message, { originalError: error as Error });
    return [toGraphQLError(this.#format(wrapped.toJSON(), wrapped))];
  }

  /** The contexts of one subscription: who it runs as, and a fresh per-event context like a query's. */
  #operation(
    who: LiveCaller,
    transport: LiveTransport,
    operationName: string | undefined,
    starting: SubscriptionTrace | undefined,
  ): LiveOperation {
    const o = this.#options;
    const tokens = o.obo && who.principal ? o.obo.forPrincipal(who.principal) : undefined;
    // Made with the first event: an idle subscriber holds as little as it can (docs: under 20 KiB each).
    let abort: AbortController | undefined;
    const request = (): OperationRequest => ({
      principal: who.principal,
      caller: who.caller,
      requestId: 'live',
      readOnly: true,
      signal: (abort ??= new AbortController()).signal,
    });
    const identity = o.client.identityOf({ stats: newStats(), deadline: 0, ...(tokens && { tokens }) });
    const live: LiveSubscribe = {
      alertChanges: (filter) =>
        o.hub.subscribe({ identity, ...(tokens && { tokens }), matches: alertMatcher(filter) }),
    };
    return {
      // Subscribing calls nothing upstream: its scope needs no signal and no time.
      sourceContext: () =>
        o.contexts({
          principal: who.principal,
          caller: who.caller,
          requestId: 'live',
          deadline: Date.now(),
          live,
        }),
      contextForEvent: (trace) => o.contexts({ ...request(), ...(trace && { trace }) }),
      end: () => abort?.abort(new Error('the subscription ended')),
      transport,
      operationName,
      starting,
      origin: starting?.origin,
    };
  }
}

/** `extensions.upstream` of one event, as a query's response carries it. */
function report(stats: UpstreamStats): Omit<UpstreamStats, 'freshUntil'> {
  const { calls, cacheHits, sharedCalls, staleHits, limiterWaitMs, byApi } = stats;
  return { calls, cacheHits, sharedCalls, staleHits, limiterWaitMs, byApi };
}

/** What one event's execution did, for its span: as a query's, without HTTP, response cache or dry run. */
function eventSummary(context: GraphQLContext, errorCodes: readonly string[]): OperationSummary {
  return {
    ...report(context.scope.stats),
    plans: context.hunting?.levels ?? [],
    errorCodes,
  };
}

/**
 * Ends the span of a subscription's start: it runs, or its resolver refused it (a bad filter, the cap). The
 * span is let go: an idle subscriber keeps only its origin.
 */
function started(live: LiveOperation, errors: readonly GraphQLError[] | undefined): void {
  live.starting?.end(codesOf(errors ?? []));
  live.starting = undefined;
}

/** The codes of formatted errors, each once. */
function codesOf(errors: readonly GraphQLError[]): string[] {
  return [...new Set(errors.map((e) => String(e.extensions['code'] ?? ErrorCode.InternalServerError)))];
}

/**
 * Each event of `source` through `map`, one at a time. Unlike an async generator, `return()` reaches the
 * source at once even while the next event is awaited, so an idle subscriber that unsubscribes leaves the hub
 * at once (graphql-js maps its own streams the same way).
 */
function mapEvents<T, U>(
  source: AsyncIterator<T>,
  map: (value: T) => Promise<U>,
  onEnd: () => void,
): AsyncIterableIterator<U> {
  let ended = false;
  const end = async (): Promise<IteratorReturnResult<undefined>> => {
    if (!ended) {
      ended = true;
      onEnd();
      await source.return?.();
    }
    return { value: undefined, done: true };
  };
  return {
    async next() {
      const next = await source.next();
      if (next.done) {
        await end();
        return { value: undefined, done: true };
      }
      return { value: await map(next.value), done: false };
    },
    return: end,
    async throw(error: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function isDocument(value: DocumentNode | readonly GraphQLError[]): value is DocumentNode {
  return !Array.isArray(value);
}

/** A formatted error as a GraphQLError the transports serialize back to the same JSON. */
function toGraphQLError(formatted: GraphQLFormattedError): GraphQLError {
  return new GraphQLError(formatted.message, {
    ...(formatted.extensions && { extensions: formatted.extensions }),
  });
}
