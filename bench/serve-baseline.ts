import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify from 'fastify';
import type { GraphQLResolveInfo } from 'graphql';
import { parse } from 'graphql';
import { loadTypeDefs } from '../src/graphql/schema.js';
import { serveInChild } from './serve-protocol.js';

/** What the parent gives the baseline child: the answer's data, by root response key. */
export interface BaselineChildConfig {
  readonly answers: Record<string, unknown>;
}

/**
 * The baseline: a bare Apollo Server on the same HTTP stack as the gateway (fastify 5 with
 * `@as-integrations/fastify`) and the same schema, whose root resolvers return the precomputed answer from an
 * in-memory map; every other field uses the default resolver. No Defender client, cache, limiter or plugin.
 */
serveInChild<BaselineChildConfig>(async ({ answers }) => {
  const store = new Map(Object.entries(answers));
  const fromStore = (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) =>
    store.get(String(info.path.key));
  const resolvers = {
    Query: Object.fromEntries(
      ['machine', 'machines', 'alert', 'alerts', 'user', 'rateLimit'].map((f) => [f, fromStore]),
    ),
  };
  const typeDefs = loadTypeDefs();
  const app = Fastify({ logger: false, bodyLimit: 100_000 });
  // Inline tracing only runs for a router that asks for it (none does here); disabled to keep it quiet.
  const plugins = [
    fastifyApolloDrainPlugin(app),
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginInlineTraceDisabled(),
  ];
  // A schema that links Apollo Federation is a subgraph schema: built as a subgraph, like the gateway's.
  const apollo = /@link\s*\(/.test(typeDefs)
    ? new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers }]), plugins })
    : new ApolloServer({ typeDefs, resolvers, plugins });
  await apollo.start();
  app.route({ url: '/graphql', method: ['GET', 'POST', 'OPTIONS'], handler: fastifyApolloHandler(apollo) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
