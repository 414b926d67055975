import type {
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import type { DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { GraphQLError, execute, getVariableValues } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { createByteCache } from '../cache/budget.js';

export interface CompiledExecutionOptions {
  /**
   * Executions of one document by graphql-js before it is compiled (graphql-jit) and run compiled from then
   * on. Default 1: a document asked once (an adversary's distinct documents, a one-off in GraphiQL) costs no
   * compilation, and one asked again is compiled at its second execution.
   */
  readonly compileAfter?: number;
  /** Most estimated heap bytes of compiled documents kept (the least recently used go first). */
  readonly maxBytes: number;
}

/** Compiled execution, with the estimated heap bytes its compiled documents hold (a metric). */
export interface CompiledExecution extends GatewayInterface {
  readonly bytes: number;
}

/** One operation of a document, compiled, or null when graphql-jit cannot compile it. */
interface Compiled {
  readonly query: CompiledQuery | null;
  /** Its estimated heap bytes. */
  readonly bytes: number;
}

/**
 * Heap bytes of one compiled operation per lexical token of its document, and beside them. Measured with
 * `node --expose-gc` (heapUsed before and after keeping 300 compilations of one document): the bench's
 * realistic queries 157 to 269 a token (21 to 84 tokens), 15 aliased nested `alerts` 219 (589 tokens).
 */
const COMPILED_BYTES_PER_TOKEN = 320;
const COMPILED_OVERHEAD_BYTES = 2048;

/**
 * Executes operations as graphql-js does, compiled to JavaScript by graphql-jit once a document is asked more
 * than once: the same results, errors and null propagation, at a fraction of the interpretation's cost (the
 * execution path of a warm query is most of its time: `npm run bench`, section overhead).
 *
 * Apollo Server runs a custom executor only through its gateway interface, so this is a "gateway" that serves
 * one fixed schema: Apollo still parses, validates and runs every plugin hook; only `execute` is replaced.
 * Compiled operations are kept by the hash of their document's text and their name, bounded by their estimated
 * bytes (their share of CACHE_MAX_MB): a wide document compiles to about 200 bytes a token and takes
 * milliseconds to compile, so neither its memory nor its compilation is unbounded. A document graphql-jit cannot
 * compile runs on graphql-js. Subscriptions never come here (src/live/ executes their events).
 */
export function compiledExecution(
  schema: GraphQLSchema,
  options: CompiledExecutionOptions,
): CompiledExecution {
  const compileAfter = options.compileAfter ?? 1;
  /** How often each parsed document ran uncompiled (Apollo's document store returns one per text). */
  const runs = new WeakMap<DocumentNode, number>();
  const compiled = createByteCache<Compiled>({
    maxBytes: options.maxBytes,
    sizeOf: (entry, key) => entry.bytes + key.length * 2,
  });

  const compiledFor = (request: GatewayGraphQLRequestContext): CompiledQuery | null => {
    const key = `${request.queryHash}\n${request.operationName ?? ''}`;
    const known = compiled.get(key);
    if (known) return known.query;
    const ran = runs.get(request.document) ?? 0;
    if (ran < compileAfter) {
      runs.set(request.document, ran + 1);
      return null;
    }
    const result = compileQuery(schema, request.document, request.operationName ?? undefined, {
      // Errors are reported to callers by message and code, never with a stack: capturing one is wasted work.
      disablingCapturingStackErrors: true,
    });
    const query = isCompiledQuery(result) ? result : null;
    compiled.set(key, { query, bytes: compiledBytes(request.document) });
    return query;
  };

  const executor: GatewayExecutor = async (request) => {
    const variables = request.request.variables ?? {};
    // graphql-js answers what is not an execution: no operation by that name, or variables that do not coerce
    // (Apollo recognises those errors by graphql-js's own messages and nodes, to answer 400 BAD_USER_INPUT, and
    // a scalar's refusal keeps its code).
    const compiled =
      request.operation && variablesCoerce(schema, request.operation, variables) && compiledFor(request);
    if (compiled) return withGraphQLErrors(await compiled.query(undefined, request.context, variables));
    return execute({
      schema,
      document: request.document,
      contextValue: request.context,
      variableValues: variables,
      // The name the caller sent (the context's is null when no operation has it: graphql-js must say so).
      operationName: request.request.operationName ?? null,
    }) as Promise<ExecutionResult>;
  };

  return {
    get bytes() {
      return compiled.calculatedSize;
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return { schema, executor };
    },
    async stop() {},
  };
}

/** The estimated heap bytes of a document's compiled operation. */
function compiledBytes(document: DocumentNode): number {
  let tokens = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) tokens++;
  return COMPILED_OVERHEAD_BYTES + tokens * COMPILED_BYTES_PER_TOKEN;
}

/** Whether `variables` coerce to the operation's variable definitions (checked by graphql-js, as it executes). */
function variablesCoerce(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): boolean {
  const definitions = operation.variableDefinitions ?? [];
  return definitions.length === 0 || !getVariableValues(schema, definitions, variables).errors;
}

/**
 * The result with each error as graphql-js makes it. graphql-jit's own errors (a value a leaf type cannot
 * serialize, a null in a non-null field) have no `extensions` at all, where graphql-js always gives an object:
 * Apollo reads `extensions.code` of every error and, failing, answers a bare "Internal server error" without
 * the error's path.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((error) => !error.extensions)) return result;
  const errors = result.errors.map((error) => {
    if (error.extensions) return error;
    const made = new GraphQLError(error.message, {
      path: error.path,
      ...(error.originalError && { originalError: error.originalError }),
    });
    // graphql-jit knows where in the document the error is, but not the nodes graphql-js derives that from.
    return Object.assign(made, { locations: error.locations });
  });
  return { ...result, errors };
}
