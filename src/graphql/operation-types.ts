import type { ValidationRule } from 'graphql';
import { GraphQLError } from 'graphql';

/**
 * Refuses, as a validation error, an operation whose root type the schema lacks (`mutation { … }` against a
 * schema without `Mutation`). graphql-js 16 lets such a document through validation and throws "Schema is not
 * configured to execute mutation operation" only when executing it, which surfaces as an execution error,
 * INTERNAL_SERVER_ERROR; graphql-js 17 makes it the validation rule this is.
 */
export const KnownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (context.getSchema().getRootType(node.operation)) return;
    context.reportError(new GraphQLError(`This API has no ${node.operation} operations.`, { nodes: node }));
  },
});
