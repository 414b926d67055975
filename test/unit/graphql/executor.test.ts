import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLFieldConfigMap } from 'graphql';
import {
  GraphQLInt,
  GraphQLList,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  getOperationAST,
  parse,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { compiledExecution } from '../../../src/graphql/executor.js';

/**
 * The executor in memory: when a document is compiled, that compiled documents are held within their byte
 * budget, and that what runs compiled answers what graphql-js answers.
 */

const Item: GraphQLObjectType = new GraphQLObjectType({
  name: 'Item',
  fields: (): GraphQLFieldConfigMap<number, unknown> => ({
    n: { type: GraphQLInt, resolve: (n) => n },
    label: {
      type: GraphQLString,
      resolve: (n) => {
        if (n === 3) throw new Error('no label for 3');
        return `item ${n}`;
      },
    },
  }),
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      items: {
        type: new GraphQLList(Item),
        args: { first: { type: GraphQLInt } },
        resolve: (_, { first }: { first?: number }) => {
          return Promise.resolve(Array.from({ length: first ?? 5 }, (_, i) => i));
        },
      },
    },
  }),
});

/** The request context Apollo gives a gateway's executor, for `text`. */
function requestFor(text: string, variables: Record<string, unknown> = {}): GatewayGraphQLRequestContext {
  const document = parse(text);
  const operation = getOperationAST(document)!;
  return {
    document,
    operation,
    operationName: operation.name?.value ?? null,
    // Apollo's is the SHA-256 of the text: the text itself is as unique.
    queryHash: text,
    request: { query: text, variables },
    context: {},
  } as unknown as GatewayGraphQLRequestContext;
}

async function run(execution: ReturnType<typeof compiledExecution>, request: GatewayGraphQLRequestContext) {
  const { executor } = await execution.load({ apollo: {} as never });
  return executor!(request);
}

describe('compiled execution', () => {
  it('compiles a document at its second execution and answers as graphql-js did, errors at their paths', async () => {
    const execution = compiledExecution(schema, { maxBytes: 1_000_000 });
    const request = requestFor('query Q($f: Int) { items(first: $f) { n label } }', { f: 4 });
    const first = await run(execution, request);
    expect(execution.bytes).toBe(0);
    const second = await run(execution, request);
    expect(execution.bytes).toBeGreaterThan(0);
    expect(second).toEqual(first);
    expect(first.errors?.map((e) => [e.message, e.path])).toEqual([
      ['no label for 3', ['items', 3, 'label']],
    ]);
  });

  it('holds compiled documents within its byte budget, the least recently used going first', async () => {
    const maxBytes = 30_000;
    const execution = compiledExecution(schema, { maxBytes, compileAfter: 0 });
    for (let i = 1; i <= 40; i++) {
      const request = requestFor(
        `{ ${Array.from({ length: i }, (_, k) => `a${k}: items(first: 2) { n }`).join(' ')} }`,
      );
      const answer = await run(execution, request);
      expect(Object.keys(answer.data ?? {})).toHaveLength(i);
      expect(execution.bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(execution.bytes).toBeGreaterThan(0);
  });
});
