import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import type { DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { GraphQLError, execute, getVariableValues } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { compileQuery, isCompiledQuery } from 'graphql-jit';

export interface CompiledExecutionOptions {
  /**
   * Executions of one document by graphql-js before it is compiled (graphql-jit) and run compiled from then
   * on. Default 1: a document asked once (an adversary's distinct documents, a one-off in GraphiQL) costs no
   * compilation, and one asked again is compiled at its second execution.
   */
  readonly compileAfter?: number;
}

/** What is known of one parsed document: how often it ran, and its operations compiled (null: not compilable). */
interface DocumentRuns {
  runs: number;
  readonly compiled: Map<string, CompiledQuery | null>;
}

/**
 * Executes operations as graphql-js does, compiled to JavaScript by graphql-jit once a document is asked more
 * than once: the same results, errors and null propagation, at a fraction of the interpretation's cost (the
 * execution path of a warm query is most of its time: `npm run bench`, section overhead).
 *
 * Apollo Server runs a custom executor only through its gateway interface, so this is a "gateway" that serves
 * one fixed schema: Apollo still parses, validates and runs every plugin hook; only `execute` is replaced. A
 * compiled query is kept per parsed document (a WeakMap over Apollo's document store, which is byte-bounded and
 * returns the same document for the same text), so it goes when the document does. A document graphql-jit
 * cannot compile runs on graphql-js. Subscriptions never come here (src/live/ executes their events).
 */
export function compiledExecution(
  schema: GraphQLSchema,
  options: CompiledExecutionOptions = {},
): GatewayInterface {
  const compileAfter = options.compileAfter ?? 1;
  const documents = new WeakMap<DocumentNode, DocumentRuns>();

  const compiledFor = (document: DocumentNode, operationName: string | null): CompiledQuery | null => {
    let runs = documents.get(document);
    if (!runs) documents.set(document, (runs = { runs: 0, compiled: new Map() }));
    const key = operationName ?? '';
    const known = runs.compiled.get(key);
    if (known !== undefined) return known;
    if (runs.runs++ < compileAfter) return null;
    const compiled = compileQuery(schema, document, operationName ?? undefined, {
      // Errors are reported to callers by message and code, never with a stack: capturing one is wasted work.
      disablingCapturingStackErrors: true,
    });
    const query = isCompiledQuery(compiled) ? compiled : null;
    runs.compiled.set(key, query);
    return query;
  };

  const executor: GatewayExecutor = async (request) => {
    const variables = request.request.variables ?? {};
    // graphql-js answers what is not an execution: no operation by that name, or variables that do not coerce
    // (Apollo recognises those errors by graphql-js's own messages and nodes, to answer 400 BAD_USER_INPUT, and
    // a scalar's refusal keeps its code).
    const compiled =
      request.operation &&
      variablesCoerce(schema, request.operation, variables) &&
      compiledFor(request.document, request.operationName);
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
