import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DefenderClient } from './defender/client.js';
import type { CallScope } from './defender/client.js';
import { newStats } from './defender/client.js';
import type { UpstreamLimiter } from './defender/limiter.js';
import { formatError } from './errors.js';
import type { GraphQLContext } from './graphql/context.js';
import { createLoaders } from './graphql/loaders.js';
import { resolvers } from './graphql/resolvers/index.js';
import { loadTypeDefs } from './graphql/schema.js';
import { upstreamPlugin } from './graphql/upstream-plugin.js';

export interface ServerDeps {
  readonly client: DefenderClient;
  readonly limiter: UpstreamLimiter;
  /** How long one operation's calls may wait for the rate limiter (ms). */
  readonly requestDeadlineMs: number;
  readonly machineBatchSize: number;
  readonly maxPageSize: number;
  /** Most Defender calls one operation may need. */
  readonly maxOperationCalls: number;
}

export interface GatewayServer {
  readonly app: FastifyInstance;
  /** Listens on `port` (0 for any) on `host`; resolves to the base URL. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The composition root: the GraphQL server over HTTP with its per-request context, from injected
 * dependencies, so tests build exactly what `npm start` runs.
 */
export async function createServer(deps: ServerDeps): Promise<GatewayServer> {
  const app = Fastify({ logger: false, bodyLimit: 100_000 });
  let ready = false;

  const apollo = new ApolloServer<GraphQLContext>({
    typeDefs: loadTypeDefs(),
    resolvers,
    formatError,
    includeStacktraceInErrorResponses: false,
    // index.ts owns shutdown: it stops the limiter, the server and the embedded simulator, then exits 0.
    stopOnTerminationSignals: false,
    plugins: [
      fastifyApolloDrainPlugin(app),
      upstreamPlugin({
        maxOperationCalls: deps.maxOperationCalls,
        batchSize: deps.machineBatchSize,
        maxPageSize: deps.maxPageSize,
      }),
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_, reply) => {
    if (!ready) return reply.code(503).send({ status: 'starting' });
    return { status: 'ready' };
  });

  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: fastifyApolloHandler(apollo, {
      context: async (request, reply) => {
        const abort = new AbortController();
        // The client went away before its answer was written: stop its queued and in-flight upstream work.
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
        });
        const scope: CallScope = {
          stats: newStats(),
          deadline: Date.now() + deps.requestDeadlineMs,
          signal: abort.signal,
          caller: callerOf(request),
          fresh: /\bno-cache\b/i.test(request.headers['cache-control'] ?? ''),
          maxCalls: deps.maxOperationCalls,
        };
        return {
          scope,
          client: deps.client,
          limiter: deps.limiter,
          maxPageSize: deps.maxPageSize,
          loaders: createLoaders(deps.client, scope, deps.machineBatchSize),
        };
      },
    }),
  });

  return {
    app,
    async listen(port, host = '0.0.0.0') {
      await app.listen({ port, host });
      ready = true;
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      return `http://127.0.0.1:${actual}`;
    },
    async close() {
      ready = false;
      await app.close();
      await apollo.stop();
    },
  };
}

/**
 * Who is asking, for fair shares of the upstream budget: the client's self-declared name (Apollo's
 * `apollographql-client-name` or `x-client-name`) or else its address. Fairness, not security, rests on it.
 */
function callerOf(request: FastifyRequest): string {
  const named = request.headers['apollographql-client-name'] ?? request.headers['x-client-name'];
  return typeof named === 'string' && named !== '' ? `client:${named.slice(0, 100)}` : `ip:${request.ip}`;
}
