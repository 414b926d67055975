/**
 * Which operation of the editor's document Run runs. GraphiQL sends the document as the editor holds it, but the
 * operation name it read from the document a moment earlier: it re-reads the name 100 ms after the editor last
 * changed, so a Run right after a tab switch (or a paste) sends the previous document's name. No React and no
 * DOM here, so the rule is tested in Node.
 */
import { Kind, parse } from 'graphql';
import type { OperationTypeNode } from 'graphql';

/** The operation to run: its name as the request must carry it, and whether it is a query, mutation or subscription. */
export interface OperationToRun {
  /** Null for an anonymous operation. */
  readonly operationName: string | null;
  readonly type: OperationTypeNode;
}

/**
 * The operation of `query` that Run means, given the name GraphiQL sent: the operation of that name; when the
 * document has none of that name (or GraphiQL sent none) and holds exactly one operation, that one, which is what
 * GraphiQL itself selects once it has read the document. Undefined when the document does not parse or the
 * operation is not determined (several operations, none of the name given): the gateway then answers as for any
 * such request, and nothing here guesses which of several operations, a mutation perhaps, was meant.
 */
export function operationToRun(
  query: string,
  operationName: string | null | undefined,
): OperationToRun | undefined {
  let operations;
  try {
    operations = parse(query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  } catch {
    return undefined;
  }
  const operation =
    operations.find((o) => operationName != null && o.name?.value === operationName) ??
    (operations.length === 1 ? operations[0] : undefined);
  return operation && { operationName: operation.name?.value ?? null, type: operation.operation };
}
