// Runs a parsed $filter against one entity as sent on the wire.
import type { CompareOp, FilterNode, Literal } from './odata-model.js';
import { compareInstants, compareText, toInstant, valueOf } from './odata-values.js';

function unreachable(value: never): never {
  throw new Error(`Unexpected filter node ${JSON.stringify(value)}`);
}

/** Orders an entity value against a literal; undefined when they are of different kinds (never equal). */
function compareToLiteral(actual: unknown, literal: Exclude<Literal, { kind: 'null' }>): number | undefined {
  switch (literal.kind) {
    case 'string':
      return typeof actual === 'string' ? compareText(actual, literal.value) : undefined;
    case 'number':
      return typeof actual === 'number' ? Math.sign(actual - literal.value) : undefined;
    case 'boolean':
      return typeof actual === 'boolean' ? Number(actual) - Number(literal.value) : undefined;
    case 'datetime': {
      const instant = typeof actual === 'string' ? toInstant(actual) : undefined;
      const expected = toInstant(literal.value);
      return instant && expected && compareInstants(instant, expected);
    }
  }
}

function matches(actual: unknown, op: CompareOp, literal: Literal): boolean {
  // null equals only null, and an ordering against null is false, as in SQL-backed OData services.
  if (literal.kind === 'null' || actual === null) {
    const bothNull = literal.kind === 'null' && actual === null;
    return op === 'eq' ? bothNull : op === 'ne' ? !bothNull : false;
  }
  const order = compareToLiteral(actual, literal);
  if (order === undefined) return op === 'ne';
  const outcomes: Record<CompareOp, boolean> = {
    eq: order === 0,
    ne: order !== 0,
    gt: order > 0,
    ge: order >= 0,
    lt: order < 0,
    le: order <= 0,
  };
  return outcomes[op];
}

/** Whether an entity (a MachineDto or AlertDto as sent on the wire) passes the filter. */
export function evaluateFilter(node: FilterNode, entity: object): boolean {
  switch (node.type) {
    case 'and':
      return evaluateFilter(node.left, entity) && evaluateFilter(node.right, entity);
    case 'or':
      return evaluateFilter(node.left, entity) || evaluateFilter(node.right, entity);
    case 'not':
      return !evaluateFilter(node.operand, entity);
    case 'compare':
      return matches(valueOf(entity, node.property), node.op, node.value);
    case 'in': {
      const actual = valueOf(entity, node.property);
      return node.values.some((value) => matches(actual, 'eq', value));
    }
    case 'startswith': {
      const actual = valueOf(entity, node.property);
      return typeof actual === 'string' && actual.toLowerCase().startsWith(node.value.toLowerCase());
    }
    case 'any': {
      const actual = valueOf(entity, node.property);
      return (
        Array.isArray(actual) && actual.some((e) => typeof e === 'string' && compareText(e, node.value) === 0)
      );
    }
    default:
      return unreachable(node);
  }
}
