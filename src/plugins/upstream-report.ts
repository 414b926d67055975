import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import type { CostEstimate } from '../planner/estimate.js';
import { estimateOf, isDryRunOf } from './admission.js';
import { storedResultOf } from './response-cache.js';

/**
 * `extensions.upstream` on every response: what the operation really spent upstream (calls, cache hits,
 * shared calls, stale hits, limiter wait), per API, beside the admission's estimate (fewest, most and expected
 * calls, in all and per API); for a result served from the response cache, zero calls and the answers it was
 * built from as cache hits; for a dry run, zero calls, `dryRun: true` and the estimate.
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
      estimate: { min: 0, max: 0, expected: 0, byApi: {} },
      byApi: {},
    };
  }
  if (isDryRunOf(context)) {
    const estimate = estimateOf(context);
    return { calls: 0, cacheHits: 0, dryRun: true, ...(estimate && { estimate: reported(estimate) }) };
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
    ...(estimate && { estimate: reported(estimate) }),
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

/** The estimate as reported: fewest, most and expected calls, in all and per API. */
function reported(estimate: CostEstimate): Record<string, unknown> {
  const { min, max, expected, byApi, plans } = estimate;
  return { min, max, expected, byApi, ...(plans && { plans }) };
}
