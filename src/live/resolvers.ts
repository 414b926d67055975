import type { SubscriptionResolvers } from '../generated/resolvers.js';
import { badUserInput } from '../errors.js';

/** `Subscription`: each root field subscribes to the live source the transport put in the context. */
export const Subscription: SubscriptionResolvers = {
  alertChanges: {
    subscribe: (_, { filter }, { live }) => {
      // Over plain HTTP a subscription is refused by validation (http-rule.ts); this is the backstop.
      if (!live) throw badUserInput('Subscriptions go over WebSocket or Server-Sent Events.');
      return live.alertChanges(filter);
    },
  },
};
