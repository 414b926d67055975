import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { parse } from 'graphql';
import { badUserInput } from '../errors.js';
import type { GraphQLContext } from './context.js';
import { resolvers } from './resolvers/index.js';
import { loadTypeDefs } from './schema.js';

/**
 * The gateway as an Apollo Federation 2 subgraph: `schema/*.graphql` (which `@link`s federation and puts
 * `@key`s on Machine, Alert and User) built by `@apollo/subgraph`, which adds `_service { sdl }` and
 * `_entities`. The two guards a subgraph needs because only a router should call it live with their concerns:
 * the shared secret in auth/router-secret.ts, traces only for the router in plugins/inline-trace.ts.
 */

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
    return settled(resolve(source, args, context, info));
  };
  return schema;
}

/**
 * The entities once every lookup has ended, a failed one as its error in its place. graphql-js and graphql-jit
 * both answer an Error in a list as that item's error; but graphql-jit puts a rejected item's null at the end of
 * the list instead of at its index (graphql-jit 0.8.9, `compileListType`), so the list must not hold promises.
 */
async function settled(entities: unknown): Promise<unknown> {
  if (!Array.isArray(entities)) return entities;
  return Promise.all(
    entities.map((entity) =>
      Promise.resolve(entity).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      ),
    ),
  );
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
