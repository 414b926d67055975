import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import type { GraphQLContext } from '../graphql/context.js';

/**
 * Apollo Server answers `apollo-federation-include-trace: ftv1` with per-field timings to whoever asks, once
 * the schema is a subgraph. Only a caller known to be the router gets them: with a router secret they are on
 * (errors masked, Apollo's default), without one they are off.
 */
export function inlineTracePlugin(routerSecret: string | undefined): ApolloServerPlugin<GraphQLContext> {
  return routerSecret === undefined
    ? ApolloServerPluginInlineTraceDisabled()
    : ApolloServerPluginInlineTrace();
}
