import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import type { OperationSummary } from '../ops/tracing.js';
import { estimateOf, isDryRunOf } from './admission.js';
import { storedResultOf } from './response-cache.js';

/**
 * Names each operation's span once the operation is known and ends it when the response is sent, with what the
 * operation cost (estimate, calls, cache hits, plans) and its error codes. The span itself is started with the
 * context (`server.ts`), before any call, and reaches the calls through the scope. Never the query text, its
 * variables or a header.
 */
export function tracingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue }) {
          if (operation) contextValue.trace?.named(operation.operation, operationName);
        },
        async willSendResponse({ response, contextValue }) {
          contextValue?.trace?.end(summaryOf(contextValue, response));
        },
      };
    },
  };
}

function summaryOf(context: GraphQLContext, response: GraphQLResponse): OperationSummary {
  const { stats } = context.scope;
  const estimate = estimateOf(context);
  const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
  return {
    ...(estimate && { estimate: { min: estimate.min, expected: estimate.expected, max: estimate.max } }),
    calls: stats.calls,
    cacheHits: stats.cacheHits,
    sharedCalls: stats.sharedCalls,
    staleHits: stats.staleHits,
    limiterWaitMs: stats.limiterWaitMs,
    byApi: stats.byApi,
    plans: context.hunting?.levels ?? [],
    errorCodes: [...new Set((errors ?? []).map((e) => String(e.extensions?.['code'] ?? 'UNKNOWN')))],
    httpStatus: response.http.status ?? 200,
    responseCacheHit: storedResultOf(context) !== undefined,
    dryRun: isDryRunOf(context),
  };
}
