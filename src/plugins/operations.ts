import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import type { Logger } from '../ops/logger.js';
import type { GatewayMetrics } from '../ops/metrics.js';
import { storedResultOf } from './response-cache.js';

export interface OperationsPluginOptions {
  readonly metrics: GatewayMetrics;
  /** Absent, nothing is logged. */
  readonly logger?: Logger;
}

/**
 * One log line and one duration sample per GraphQL operation, when its response is sent. The line carries
 * the request id, the operation's name, its duration, what it cost upstream and its error codes — never the
 * query text, its variables or any header.
 */
export function operationsPlugin(options: OperationsPluginOptions): ApolloServerPlugin<GraphQLContext> {
  const { metrics, logger } = options;
  return {
    async requestDidStart({ request }) {
      const started = performance.now();
      // server.ts sets the header to fastify's request id before Apollo reads the request.
      const requestId = request.http?.headers.get('x-request-id') ?? undefined;
      return {
        async willSendResponse({ response, operationName, contextValue }) {
          const seconds = (performance.now() - started) / 1000;
          metrics.observeOperation(operationName, seconds);
          if (!logger) return;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.['code'] ?? 'UNKNOWN')))];
          const stats = contextValue?.scope?.stats;
          logger.info(
            {
              requestId,
              operation: operationName ?? 'anonymous',
              durationMs: Math.round(seconds * 1000),
              status: response.http.status ?? 200,
              upstreamCalls: stats?.calls ?? 0,
              cacheHits: stats?.cacheHits ?? 0,
              limiterWaitMs: stats?.limiterWaitMs ?? 0,
              responseCacheHit: storedResultOf(contextValue) !== undefined,
              ...(codes.length > 0 && { errorCodes: codes }),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
