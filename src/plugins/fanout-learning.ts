import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext } from '../graphql/context.js';
import type { FanoutStats } from '../planner/fanout.js';

/**
 * Learns each relationship's fan-out from every operation that ran: when its response is sent, what its
 * relationship answers held (told by the resolvers to the operation's recorder) is added to the stats the
 * planner reads for expected costs.
 */
export function fanoutLearningPlugin(stats: FanoutStats): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          if (contextValue?.fanout) stats.record(contextValue.fanout.seen());
        },
      };
    },
  };
}
