import type { ValidationRule } from 'graphql';
import { GraphQLError } from 'graphql';

/**
 * Refuses, as a validation error before anything runs, a subscription sent as a plain HTTP request (a JSON
 * POST or a GET): it needs a stream. graphql-js would otherwise execute its root field once, as a query,
 * and fail with an internal error.
 */
export const SubscriptionsNeedAStreamRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== 'subscription') return;
    context.reportError(
      new GraphQLError(
        'Subscriptions go over WebSocket (subprotocol graphql-transport-ws) or Server-Sent Events (POST with Accept: text/event-stream) on /graphql.',
        { nodes: node },
      ),
    );
  },
});
