import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { FormattedExecutionResult } from 'graphql';
import { GraphQLError } from 'graphql';
import { DEFENDER_APIS } from '../defender/apis.js';
import { ErrorCode, GatewayError, retryAfterOf } from '../errors.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { CostEstimate } from '../planner/estimate.js';
import { estimateCost } from '../planner/estimate.js';
import { ResponseCache } from '../cache/response-cache.js';

export interface UpstreamPluginOptions {
  /** Results of operations, reused while their upstream answers are fresh; absent disables it. */
  readonly responseCache?: ResponseCache;
  /** Longest a result built from no upstream answer at all is reused (ms). Default 60 s. */
  readonly maxResponseAgeMs?: number;
  /** Most Defender calls one operation may need; more is QUERY_TOO_EXPENSIVE before any call. */
  readonly maxOperationCalls: number;
  readonly batchSize: number;
  readonly maxPageSize: number;
}

/**
 * The upstream budget around each operation. Before execution: estimate the Defender calls it can need per
 * API (less what the cache holds) and refuse, with zero calls, an operation whose minimum exceeds the cap or
 * cannot be served by the budget before the request's deadline. After: `extensions.upstream` on every
 * response, the estimate beside what was really spent.
 */
export function upstreamPlugin(options: UpstreamPluginOptions): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, contextValue, queryHash, operation }) {
          const { scope, client, limiter } = contextValue;
          if (options.responseCache && operation?.operation === 'query') {
            const key = ResponseCache.keyFor(
              client.identityOf(scope),
              queryHash,
              operationName ?? undefined,
              request.variables,
            );
            contextValue.responseKey = key;
            const stored = scope.fresh ? undefined : options.responseCache.get(key);
            if (stored) {
              contextValue.cachedResponse = stored;
              return;
            }
          }
          const estimate = await estimateCost(document, operationName, request.variables, {
            lookup: scope.fresh
              ? async (requests) => requests.map(() => undefined)
              : (requests) => client.lookup(requests, scope),
            batchSize: options.batchSize,
            maxPageSize: options.maxPageSize,
          });
          if (!estimate) return;
          contextValue.estimate = estimate;
          if (estimate.min > options.maxOperationCalls) {
            throw refused(
              ErrorCode.QueryTooExpensive,
              `This operation needs at least ${estimate.min} Defender calls; the cap is ${options.maxOperationCalls}.`,
              estimate,
              options.maxOperationCalls,
            );
          }
          for (const api of DEFENDER_APIS) {
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

        async responseForOperation({ contextValue }) {
          const stored = contextValue.cachedResponse;
          if (!stored) return null;
          return {
            http: { headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { data: stored.data } },
          };
        },

        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          // Refused for budget as a whole (before execution, or every field): a 429 the client can wait out.
          const retryAfter = retryAfterOf(response.body.singleResult);
          if (retryAfter !== undefined) {
            response.http.status = 429;
            response.http.headers.set('retry-after', String(retryAfter));
          }
          if (!contextValue?.scope) return;
          const stored = contextValue.cachedResponse;
          if (stored) {
            response.body.singleResult.extensions = {
              ...response.body.singleResult.extensions,
              upstream: {
                calls: 0,
                cacheHits: stored.answers,
                sharedCalls: 0,
                staleHits: 0,
                limiterWaitMs: 0,
                responseCacheHit: true,
                estimate: { min: 0, max: 0 },
                byApi: {},
              },
            };
            return;
          }
          keepResult(response.body.singleResult, contextValue, options);
          const { calls, cacheHits, sharedCalls, staleHits, limiterWaitMs, byApi } = contextValue.scope.stats;
          const estimate = contextValue.estimate;
          const apis = new Set([...Object.keys(byApi), ...Object.keys(estimate?.byApi ?? {})]) as Set<
            keyof typeof byApi
          >;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            upstream: {
              calls,
              cacheHits,
              sharedCalls,
              staleHits,
              limiterWaitMs,
              ...(estimate && { estimate: { min: estimate.min, max: estimate.max } }),
              byApi: Object.fromEntries(
                [...apis].map((api) => [
                  api,
                  {
                    calls: byApi[api]?.calls ?? 0,
                    cacheHits: byApi[api]?.cacheHits ?? 0,
                    ...(estimate?.byApi[api] && { estimate: estimate.byApi[api] }),
                  },
                ]),
              ),
            },
          };
        },
      };
    },
  };
}

/** Keeps an error-free result while all it was built from is fresh, for identical operations to reuse. */
function keepResult(
  result: FormattedExecutionResult,
  context: GraphQLContext,
  options: UpstreamPluginOptions,
): void {
  const { responseCache } = options;
  const key = context.responseKey;
  if (!responseCache || key === undefined || result.errors?.length || !result.data) return;
  const now = Date.now();
  const { freshUntil, calls, cacheHits, sharedCalls, staleHits } = context.scope.stats;
  if (staleHits > 0) return;
  const validUntil = Math.min(freshUntil, now + (options.maxResponseAgeMs ?? 60_000));
  responseCache.set(key, { data: result.data, validUntil, answers: calls + cacheHits + sharedCalls }, now);
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
