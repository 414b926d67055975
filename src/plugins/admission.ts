import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { UPSTREAM_APIS } from '../defender/apis.js';
import { ErrorCode, GatewayError, retryAfterOf } from '../errors.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { CostEstimate } from '../planner/estimate.js';
import { estimateCost } from '../planner/estimate.js';
import { storedResultOf } from './response-cache.js';

export interface AdmissionPluginOptions {
  /** Most Defender calls one operation may need; more is QUERY_TOO_EXPENSIVE before any call. */
  readonly maxOperationCalls: number;
  /** Ids per batched lookup, as the loaders batch them. */
  readonly batchSize: number;
  /** Cap on `first`. */
  readonly maxPageSize: number;
}

/** Each request's estimate, kept by this plugin alone and read through {@link estimateOf}. */
const estimates = new WeakMap<GraphQLContext, CostEstimate>();

/** What the operation was estimated to cost before it ran; undefined when it was not estimated. */
export function estimateOf(context: GraphQLContext | undefined): CostEstimate | undefined {
  return context && estimates.get(context);
}

/**
 * Admission by upstream cost. Before execution: estimate the Defender calls the operation can need per API
 * (less what the cache holds) and refuse, with zero calls, an operation whose minimum exceeds the cap or cannot
 * be served by the budget before the request's deadline. A request answered from the response cache is not
 * estimated (so this plugin is listed after the response cache's). When sent, a response refused for budget as
 * a whole is a 429 with `Retry-After`.
 */
export function admissionPlugin(options: AdmissionPluginOptions): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, contextValue }) {
          if (storedResultOf(contextValue)) return;
          const { scope, client, limiter } = contextValue;
          const estimate = await estimateCost(document, operationName, request.variables, {
            lookup: scope.fresh
              ? async (requests) => requests.map(() => undefined)
              : (requests) => client.lookup(requests, scope),
            batchSize: options.batchSize,
            maxPageSize: options.maxPageSize,
            hunting: contextValue.hunting.enabled,
          });
          if (!estimate) return;
          estimates.set(contextValue, estimate);
          if (estimate.min > options.maxOperationCalls) {
            throw refused(
              ErrorCode.QueryTooExpensive,
              `This operation needs at least ${estimate.min} Defender calls; the cap is ${options.maxOperationCalls}.`,
              estimate,
              options.maxOperationCalls,
            );
          }
          for (const api of UPSTREAM_APIS) {
            const min = estimate.byApi[api]?.min ?? 0;
            const at = limiter.whenAvailable(api, min);
            if (min > 0 && at > scope.deadline) {
              throw refused(
                ErrorCode.RateLimited,
                `The ${api} budget cannot serve the ${min} calls this operation needs in time; retry later.`,
                estimate,
                options.maxOperationCalls,
                Math.ceil((at - Date.now()) / 1000),
              );
            }
          }
        },

        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          // Refused for budget as a whole (before execution, or every field): a 429 the client can wait out.
          const retryAfter = retryAfterOf(response.body.singleResult);
          if (retryAfter !== undefined) {
            response.http.status = 429;
            response.http.headers.set('retry-after', String(retryAfter));
          }
        },
      };
    },
  };
}

/** An operation refused before execution, with what it would have cost. */
function refused(
  code: typeof ErrorCode.QueryTooExpensive | typeof ErrorCode.RateLimited,
  message: string,
  estimate: CostEstimate,
  cap: number,
  retryAfterSeconds?: number,
): GraphQLError {
  const cost = { estimated: estimate.min, estimatedMax: estimate.max, max: cap, byApi: estimate.byApi };
  const error = new GatewayError(code, message, {
    cost,
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
  });
  // Thrown before execution, so the response has no data: a request error, as a validation failure is (a
  // RATE_LIMITED one becomes a 429 as it is sent).
  return new GraphQLError(message, { originalError: error, extensions: { http: { status: 400 } } });
}
