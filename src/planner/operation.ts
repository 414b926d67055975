import {
  Kind,
  buildSchema,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isEnumType,
  isInputObjectType,
  isListType,
  isObjectType,
} from 'graphql';
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLInputType,
  GraphQLNamedType,
  GraphQLSchema,
  SelectionSetNode,
} from 'graphql';
import { ENUM_VALUES } from '../graphql/enums.js';
import { loadTypeDefs } from '../graphql/schema.js';
import { selectedFields } from '../graphql/selection.js';

/**
 * What graphql-js tells of an operation before it runs, in the shape the planner walks: each field with the
 * type it is on, the named type of its value, its arguments as its resolver receives them, and the fields asked
 * of its value (through fragments, honouring @skip and @include). Fields are kept one per selection, aliases
 * apart, as the planner has always counted them.
 */
export interface PlannedField {
  readonly name: string;
  /** The named type of the field's value (`Machine` for `[Machine!]!`); undefined for `__typename`. */
  readonly type: string | undefined;
  readonly args: Readonly<Record<string, unknown>>;
  readonly selections: readonly PlannedField[];
}

let ownSchema: GraphQLSchema | undefined;
/**
 * The schema built by this module's own `graphql`, so argument coercion never crosses module instances. The SDL
 * is a federation subgraph's: `assumeValidSDL` lets the `@link` and `@key` directives through undeclared (the
 * server's schema, from `@apollo/subgraph`, validates them); only the types and arguments are needed here.
 */
function schema(): GraphQLSchema {
  return (ownSchema ??= buildSchema(loadTypeDefs(), { assumeValidSDL: true }));
}

/**
 * The root fields of a query or mutation operation; undefined for a subscription, an operation the document
 * does not name unambiguously, or variables that do not coerce (execution reports those, with no call made).
 */
export function plannedQuery(
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Readonly<Record<string, unknown>> | undefined,
): readonly PlannedField[] | undefined {
  // Apollo's document store hands every request of one query text the same parsed document: its plan, which
  // depends on nothing else but the operation's name and variables, is worked out once (the estimate over it
  // still reads the cache each time).
  let plans = planned.get(document);
  if (!plans) planned.set(document, (plans = new Map()));
  const key = JSON.stringify([operationName ?? null, rawVariables ?? {}]);
  if (plans.has(key)) return plans.get(key);
  const plan = planQuery(document, operationName, rawVariables);
  // Variables that change with every request (ids) would grow the memo: it starts again past a few dozen.
  if (plans.size >= MAX_PLANS_PER_DOCUMENT) plans.clear();
  plans.set(key, plan);
  return plan;
}

/** Plans kept per document, by operation name and variables (each a small tree of the fields asked). */
const MAX_PLANS_PER_DOCUMENT = 32;
const planned = new WeakMap<DocumentNode, Map<string, readonly PlannedField[] | undefined>>();

function planQuery(
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Readonly<Record<string, unknown>> | undefined,
): readonly PlannedField[] | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation === 'subscription') return undefined;
  const coerced = getVariableValues(schema(), operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) return undefined;
  const fragments = Object.fromEntries(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const root = operation.operation === 'query' ? schema().getQueryType() : schema().getMutationType();
  return plannedFields(root ?? undefined, operation.selectionSet, {
    fragments,
    variables: coerced.coerced,
  });
}

interface Walk {
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  readonly variables: Readonly<Record<string, unknown>>;
}

function plannedFields(
  parent: GraphQLNamedType | undefined,
  selectionSet: SelectionSetNode | undefined,
  walk: Walk,
): PlannedField[] {
  return selectedFields(selectionSet, walk.fragments, walk.variables).map((node) => {
    const def = isObjectType(parent) ? parent.getFields()[node.name.value] : undefined;
    const type = def && getNamedType(def.type);
    return {
      name: node.name.value,
      type: type?.name,
      args: def ? argumentsOf(def, node, walk.variables) : {},
      selections: plannedFields(type, node.selectionSet, walk),
    };
  });
}

/** A field's arguments as its resolver receives them: coerced, with enum names as Defender's wire strings. */
function argumentsOf(
  def: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const values = getArgumentValues(def, node, variables);
  return Object.fromEntries(
    def.args.filter((arg) => arg.name in values).map((arg) => [arg.name, toWire(arg.type, values[arg.name])]),
  );
}

/**
 * Input values as resolvers receive them: the server's schema maps GraphQL enum names to Defender's wire
 * strings (enums.ts); this module's schema, built from the SDL alone, leaves the names.
 */
function toWire(type: GraphQLInputType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const nullable = getNullableType(type);
  if (isListType(nullable)) return (value as unknown[]).map((v) => toWire(nullable.ofType, v));
  if (isEnumType(nullable)) {
    const values = ENUM_VALUES[nullable.name as keyof typeof ENUM_VALUES] as
      Record<string, string> | undefined;
    return values?.[value as string] ?? value;
  }
  if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        fields[k] ? toWire(fields[k].type, v) : v,
      ]),
    );
  }
  return value;
}
