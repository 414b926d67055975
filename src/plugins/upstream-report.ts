import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import { estimateOf } from './admission.js';
import { storedResultOf } from './response-cache.js';

/**
 * `extensions.upstream` on every response: what the operation really spent upstream (calls, cache hits,
 * shared calls, stale hits, limiter wait), per API, beside the admission's estimate; for a result served from
 * the response cache, zero calls and the answers it was built from as cache hits.
 */
export function upstreamReportPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || !contextValue?.scope) return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, upstream: report(contextValue) };
        },
      };
    },
  };
}

function report(context: GraphQLContext): Record<string, unknown> {
  const stored = storedResultOf(context);
  if (stored) {
    return {
      calls: 0,
      cacheHits: stored.answers,
      sharedCalls: 0,
      staleHits: 0,
      limiterWaitMs: 0,
      responseCacheHit: true,
      estimate: { min: 0, max: 0 },
      byApi: {},
    };
  }
  const { calls, cacheHits, sharedCalls, staleHits, limiterWaitMs, byApi } = context.scope.stats;
  const estimate = estimateOf(context);
  const apis = new Set([...Object.keys(byApi), ...Object.keys(estimate?.byApi ?? {})]) as Set<
    keyof typeof byApi
  >;
  return {
    calls,
    cacheHits,
    sharedCalls,
    staleHits,
    limiterWaitMs,
    ...(estimate && { estimate: { min: estimate.min, max: estimate.max } }),
    ...(context.hunting?.levels.length && { plans: context.hunting.levels }),
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
  };
}
