import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { DEFENDER_APIS } from '../defender/apis.js';
import type { DefenderApi } from '../defender/apis.js';
import { ErrorCode, GatewayError, retryAfterOf } from '../errors.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { CostObserver } from '../ops/metrics.js';
import { cheaperForm } from '../planner/advice.js';
import type { CostEstimate } from '../planner/estimate.js';
import { estimateCost } from '../planner/estimate.js';
import type { FanoutView } from '../planner/fanout.js';
import { isDryRun } from './dry-run.js';
import { storedResultOf } from './response-cache.js';

export interface AdmissionPluginOptions {
  /** Most Defender calls one operation may need; more is QUERY_TOO_EXPENSIVE before any call. */
  readonly maxOperationCalls: number;
  /** Ids per batched lookup, as the loaders batch them. */
  readonly batchSize: number;
  /** Cap on `first`. */
  readonly maxPageSize: number;
  /**
   * The expected calls are multiplied by this before they are held to the cap and to the budget
   * (COST_SAFETY_MARGIN): how far above its estimate an operation may turn out. Default 1.25.
   */
  readonly costMargin?: number;
  /** The fan-out learnt from earlier answers. Default: none, the source table's priors alone. */
  readonly fanout?: FanoutView;
  /** Told of refusals and of calls wasted by operations that end with QUERY_TOO_EXPENSIVE. */
  readonly cost?: CostObserver;
}

/** Each request's estimate, kept by this plugin alone and read through {@link estimateOf}. */
const estimates = new WeakMap<GraphQLContext, CostEstimate>();
/** Requests that asked for a dry run, read through {@link isDryRunOf}. */
const dryRuns = new WeakSet<GraphQLContext>();

/** What the operation was estimated to cost before it ran; undefined when it was not estimated. */
export function estimateOf(context: GraphQLContext | undefined): CostEstimate | undefined {
  return context && estimates.get(context);
}

/** Whether the request was a dry run (answered with its estimate, never executed). */
export function isDryRunOf(context: GraphQLContext | undefined): boolean {
  return context !== undefined && dryRuns.has(context);
}

/**
 * Admission by upstream cost. Before execution: estimate the Defender calls the operation needs per API (less
 * what the cache holds; fewest, most and expected) and refuse it, with zero calls, when its minimum or its
 * expected cost times the safety margin exceeds the cap (QUERY_TOO_EXPENSIVE, naming the field that fans out
 * most and a cheaper form), or when the budget cannot serve its expected calls before the request's deadline
 * (RATE_LIMITED, a 429 with `Retry-After`). A dry run (`x-dry-run: true`) goes through the same steps and is
 * then answered with its estimate, without executing. A request answered from the response cache is not
 * estimated (so this plugin is listed after the response cache's).
 */
export function admissionPlugin(options: AdmissionPluginOptions): ApolloServerPlugin<GraphQLContext> {
  const cap = options.maxOperationCalls;
  const margin = options.costMargin ?? 1.25;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, contextValue }) {
          if (isDryRun(request)) dryRuns.add(contextValue);
          if (storedResultOf(contextValue)) return;
          const { scope, client, limiter } = contextValue;
          const estimate = await estimateCost(document, operationName, request.variables, {
            lookup: scope.fresh
              ? async (requests) => requests.map(() => undefined)
              : (requests) => client.lookup(requests, scope),
            batchSize: options.batchSize,
            maxPageSize: options.maxPageSize,
            ...(options.fanout && { fanout: options.fanout }),
            hunting: contextValue.hunting.enabled,
            inTime: (api, calls) => limiter.whenAvailable(api, calls) <= scope.deadline,
          });
          if (!estimate) return;
          estimates.set(contextValue, estimate);
          const refuse = (error: GraphQLError, code: string): never => {
            // A dry run asks what would happen (GraphiQL's cost pane, as the query is typed): not a refusal.
            if (!isDryRunOf(contextValue)) options.cost?.onRefused(code);
            throw error;
          };
          if (estimate.min > cap || estimate.expected * margin > cap) {
            const needs =
              estimate.min > cap
                ? `This operation needs at least ${estimate.min} Defender calls; the cap is ${cap}.`
                : `This operation is expected to need about ${Math.round(estimate.expected)} Defender calls ` +
                  `(${Math.ceil(estimate.expected * margin)} with the safety margin); the cap is ${cap}.`;
            const message = `${needs} ${cheaperForm(estimate, Math.floor(cap / margin))}`;
            refuse(
              refused(ErrorCode.QueryTooExpensive, message, costOf(estimate, cap)),
              ErrorCode.QueryTooExpensive,
            );
          }
          // REST routes only: a level short of hunting's budget is answered by REST, never refused for it.
          for (const api of DEFENDER_APIS) {
            const calls = budgeted(estimate, api, margin);
            const at = limiter.whenAvailable(api, calls);
            if (calls > 0 && at > scope.deadline) {
              refuse(
                refused(
                  ErrorCode.RateLimited,
                  `The ${api} budget cannot serve the ${calls} calls this operation is expected to need in time; retry later.`,
                  costOf(estimate, cap),
                  Math.ceil((at - Date.now()) / 1000),
                ),
                ErrorCode.RateLimited,
              );
            }
          }
        },

        // A dry run is answered here, before execution: no resolver runs, so no call is made.
        async responseForOperation({ contextValue }) {
          if (!isDryRunOf(contextValue)) return null;
          return { http: { headers: new HeaderMap() }, body: { kind: 'single', singleResult: {} } };
        },

        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const estimate = estimateOf(contextValue);
          if (isDryRunOf(contextValue) && estimate && !result.errors?.length) {
            result.extensions = { ...result.extensions, cost: costOf(estimate, cap) };
          }
          const calls = contextValue?.scope?.stats.calls ?? 0;
          if (calls > 0 && result.errors?.some((e) => e.extensions?.['code'] === ErrorCode.QueryTooExpensive))
            options.cost?.onWasted(calls);
          // Refused for budget as a whole (before execution, or every field): a 429 the client can wait out.
          const retryAfter = retryAfterOf(result);
          if (retryAfter !== undefined) {
            response.http.status = 429;
            response.http.headers.set('retry-after', String(retryAfter));
          }
        },
      };
    },
  };
}

/** The calls of one API held to the budget: the expected ones with the margin, within what is possible. */
function budgeted(estimate: CostEstimate, api: DefenderApi, margin: number): number {
  const range = estimate.byApi[api];
  if (!range) return 0;
  return Math.min(range.max, Math.max(range.min, Math.ceil(range.expected * margin)));
}

/** `extensions.cost`: fewest, most and expected calls, the cap, the costliest field's path, per API. */
export function costOf(estimate: CostEstimate, cap: number): Record<string, unknown> {
  return {
    estimated: estimate.min,
    estimatedMax: estimate.max,
    expected: estimate.expected,
    max: cap,
    ...(estimate.costliest && { costliestPath: estimate.costliest.path }),
    byApi: estimate.byApi,
    ...(estimate.plans && { plans: estimate.plans }),
  };
}

/** An operation refused before execution, with what it would have cost. */
function refused(
  code: typeof ErrorCode.QueryTooExpensive | typeof ErrorCode.RateLimited,
  message: string,
  cost: Record<string, unknown>,
  retryAfterSeconds?: number,
): GraphQLError {
  const error = new GatewayError(code, message, {
    cost,
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  });
  // Thrown before execution, so the response has no data: a request error, as a validation failure is (a
  // RATE_LIMITED one becomes a 429 as it is sent).
  return new GraphQLError(message, { originalError: error, extensions: { http: { status: 400 } } });
}
