import { Kind, getOperationAST } from 'graphql';
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import type { CostEstimate, EstimateOptions } from '../planner/estimate.js';
import { estimateCost } from '../planner/estimate.js';

/** Any well-formed alert id: the planner only needs one to walk `Query.alert`, and never calls with it. */
const SOME_ALERT_ID = 'da638180599315648136_1';

/**
 * The alert of a typical change, as the planner sees it: on a machine, naming a user. Its relationships are then
 * planned as what they are for most alerts rather than as "maybe none" (an alert without a machine or a user
 * costs less, never more).
 */
const TYPICAL_ALERT = {
  id: SOME_ALERT_ID,
  machineId: '0000000000000000000000000000000000000000',
  computerDnsName: 'host.contoso.com',
  relatedUser: { userName: 'user', domainName: 'contoso' },
  loggedOnUsers: [],
  evidence: [],
  comments: [],
  mitreTechniques: [],
  domains: [],
};

/**
 * What one event of an `alertChanges` subscription can cost Defender, by the planner that admits queries: the
 * selections under `alert` are planned as `{ alert(id:) { … } }` on a typical alert found in the cache, as a
 * change's alert is (the poll brought it). Undefined when the operation is not such a subscription (validation
 * has refused anything else) or its variables do not coerce.
 */
export async function eventCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  options: EstimateOptions,
): Promise<CostEstimate | undefined> {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return undefined;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const alerts = operation.selectionSet.selections
    .filter((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'alertChanges')
    .flatMap((field) => (field.selectionSet ? alertFields(field.selectionSet, fragments, new Set()) : []));
  if (alerts.length === 0) return { min: 0, max: 0, expected: 0, byApi: {} };
  const query: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: 'query' as OperationDefinitionNode['operation'],
    variableDefinitions: operation.variableDefinitions ?? [],
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: alerts.map((field, i) => ({
        ...field,
        alias: { kind: Kind.NAME, value: `a${i}` },
        arguments: [
          {
            kind: Kind.ARGUMENT,
            name: { kind: Kind.NAME, value: 'id' },
            value: { kind: Kind.STRING, value: SOME_ALERT_ID },
          },
        ],
      })),
    },
  };
  return estimateCost(
    { kind: Kind.DOCUMENT, definitions: [query, ...fragments.values()] },
    undefined,
    variables,
    {
      ...options,
      // The alert is at hand (the poll brought it and cached it); everything below it is planned as uncached.
      lookup: async (requests) =>
        requests.map((r) => (r.api === 'alerts/{id}' ? { status: 200, body: TYPICAL_ALERT } : undefined)),
    },
  );
}

/** The `alert` fields selected on an `AlertChange`, through inline fragments and named ones. */
function alertFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visited: Set<string>,
): FieldNode[] {
  return selectionSet.selections.flatMap((selection): FieldNode[] => {
    switch (selection.kind) {
      case Kind.FIELD:
        return selection.name.value === 'alert' && selection.selectionSet ? [selection] : [];
      case Kind.INLINE_FRAGMENT:
        return alertFields(selection.selectionSet, fragments, visited);
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visited.has(name)) return [];
        visited.add(name);
        return alertFields(fragment.selectionSet, fragments, visited);
      }
    }
  });
}
