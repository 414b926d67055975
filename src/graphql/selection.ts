import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { GraphQLIncludeDirective, GraphQLSkipDirective, Kind, getDirectiveValues } from 'graphql';

/**
 * The fields a selection set asks for, through inline and named fragments, honouring @skip and @include: what
 * the cost planner and the resolvers both need to know to decide whether a partial entity's record is needed.
 * (Validation has refused fragment cycles before either runs.)
 */
export function selectedFields(
  selectionSet: SelectionSetNode | undefined,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
  into: FieldNode[] = [],
): FieldNode[] {
  for (const selection of selectionSet?.selections ?? []) {
    if (getDirectiveValues(GraphQLSkipDirective, selection, variables)?.['if'] === true) continue;
    if (getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.['if'] === false) continue;
    if (selection.kind === Kind.FIELD) into.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT)
      selectedFields(selection.selectionSet, fragments, variables, into);
    else {
      const fragment = fragments[selection.name.value];
      if (fragment) selectedFields(fragment.selectionSet, fragments, variables, into);
    }
  }
  return into;
}

/** Whether the field being resolved asks its value for any field that is not free. */
export function asksBeyond(info: GraphQLResolveInfo, isFree: (field: string) => boolean): boolean {
  return namesAsked(info).some((name) => !isFree(name));
}

/**
 * The names of the fields asked of the resolved field's value, worked out once per field of the operation:
 * graphql-js hands every item of a list the same `fieldNodes` array, and the answer depends only on it, the
 * document's fragments and the operation's variables.
 */
const asked = new WeakMap<readonly FieldNode[], { variables: object; names: readonly string[] }>();

function namesAsked(info: GraphQLResolveInfo): readonly string[] {
  const memo = asked.get(info.fieldNodes);
  if (memo && memo.variables === info.variableValues) return memo.names;
  const names = info.fieldNodes.flatMap((node) =>
    selectedFields(node.selectionSet, info.fragments, info.variableValues).map((field) => field.name.value),
  );
  asked.set(info.fieldNodes, { variables: info.variableValues, names });
  return names;
}
