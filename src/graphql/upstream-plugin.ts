import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from './context.js';

/**
 * Adds `extensions.upstream` to every response: what the operation cost Defender (`calls`), what the cache
 * saved (`cacheHits`), identical calls it shared with concurrent operations, time queued for the rate limiter,
 * and the same per API.
 */
export function upstreamExtensionsPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || !contextValue?.scope) return;
          const { calls, cacheHits, sharedCalls, limiterWaitMs, byApi } = contextValue.scope.stats;
          const result = response.body.singleResult;
          result.extensions = {
            ...result.extensions,
            upstream: { calls, cacheHits, sharedCalls, limiterWaitMs, byApi },
          };
        },
      };
    },
  };
}
