import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { onRequestHookHandler } from 'fastify';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { parse } from 'graphql';
import { ErrorCode, badUserInput, httpRefusal } from '../errors.js';
import { sendRefusal } from '../http/refusals.js';
import type { GraphQLContext } from './context.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';

/**
 * The gateway as an Apollo Federation 2 subgraph: `schema/*.graphql` (which `@link`s federation and puts
 * `@key`s on Machine, Alert and User) built by `@apollo/subgraph`, which adds `_service { sdl }` and
 * `_entities`; and the two guards a subgraph needs because only a router should call it (shared secret,
 * traces only for the router).
 */

/** The header the router sends the shared secret in. */
export const ROUTER_SECRET_HEADER = 'x-router-secret';

export interface SubgraphOptions {
  /**
   * Most representations one `_entities` field takes; more is BAD_USER_INPUT before any lookup. Each one can
   * cost a share of a batched call or a call of its own, so it is sized from the operation's call cap.
   */
  readonly maxRepresentations: number;
}

/** The executable subgraph schema: the SDL of `schema/`, the resolvers, `_service` and a bounded `_entities`. */
export function subgraphSchema(options: SubgraphOptions): GraphQLSchema {
  const schema = buildSubgraphSchema({ typeDefs: parse(loadTypeDefs()), resolvers });
  const entities = schema.getQueryType()?.getFields()['_entities'];
  // Duck-typed, not `isUnionType`: the schema is built by the `graphql` that `@apollo/subgraph` loads, which
  // under a bundler (vitest) can be another module instance than this file's.
  const entityType = schema.getType('_Entity');
  if (!entities?.resolve || !entityType || !('getTypes' in entityType)) {
    throw new Error('the schema declares no federation entity (@key), so it has no _entities field');
  }
  const entityNames = new Set(entityType.getTypes().map((type) => type.name));
  const resolve: GraphQLFieldResolver<unknown, GraphQLContext, { representations: unknown[] }> =
    entities.resolve;
  entities.resolve = (source, args: { representations: unknown[] }, context, info) => {
    checkRepresentations(args.representations, entityNames, options.maxRepresentations);
    return resolve(source, args, context, info);
  };
  return schema;
}

/**
 * Refuses, before any lookup, what `@apollo/subgraph` would otherwise fail on one by one or with an internal
 * error: too many representations, or one that is not an object naming an entity type.
 */
function checkRepresentations(representations: unknown[], entityNames: Set<string>, max: number): void {
  if (representations.length > max) {
    throw badUserInput(`_entities takes at most ${max} representations, got ${representations.length}.`);
  }
  for (const [i, representation] of representations.entries()) {
    const typename = (representation as { __typename?: unknown } | null)?.__typename;
    if (typeof representation !== 'object' || typeof typename !== 'string' || !entityNames.has(typename)) {
      throw badUserInput(
        `Representation ${i} must be an object whose __typename is one of ${[...entityNames].join(', ')}.`,
      );
    }
  }
}

/**
 * Router-only access: a fastify `onRequest` hook that answers 401, before any GraphQL work, a `/graphql`
 * request (any method; `_service` and `_entities` included) that does not carry the shared secret in
 * {@link ROUTER_SECRET_HEADER}. Both sides are hashed first, so the comparison takes the same time whatever
 * the length or the content of the guess.
 */
export function routerOnly(secret: string): onRequestHookHandler {
  const expected = digest(secret);
  return async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const given = request.headers[ROUTER_SECRET_HEADER];
    if (typeof given === 'string' && timingSafeEqual(digest(given), expected)) return;
    return sendRefusal(reply, UNAUTHORIZED);
  };
}

const UNAUTHORIZED = httpRefusal(
  401,
  ErrorCode.Unauthenticated,
  `Only the federation router may call this subgraph: the ${ROUTER_SECRET_HEADER} header is missing or wrong.`,
);

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

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
