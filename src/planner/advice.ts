import type { CostEstimate, FieldCost } from './tally.js';

/** The root lookup that asks one entity of a type, for "query it per entity" advice. */
const LOOKUPS: Readonly<Record<string, string>> = {
  Machine: 'machine(id: …)',
  User: 'user(id: …)',
  Alert: 'alert(id: …)',
};

/**
 * What a refused operation should ask instead, naming the field whose fan-out costs most: its response path,
 * about how many calls it fans out to, and a concrete rewrite. When its parents come from a list, the `first`
 * that list would need for the operation to fit (`budget` calls, the cap less the safety margin), assuming the
 * field's cost shrinks with its parents; and, for a relationship, asking it per entity instead.
 */
export function cheaperForm(estimate: CostEstimate, budget: number): string {
  const field = estimate.costliest;
  if (!field) return 'Split the operation into smaller ones.';
  const calls = Math.max(1, Math.round(field.expected));
  const said = `\`${field.path.join('.')}\` fans out to about ${calls} Defender call${calls === 1 ? '' : 's'}`;
  const options = [firstAdvice(field, estimate, budget), perEntityAdvice(field)].filter(
    (o): o is string => o !== undefined,
  );
  return options.length > 0
    ? `${said}; ask ${options.join(' or ')}.`
    : `${said}; split the operation into smaller ones.`;
}

/** `list(first: n)`: the list its parents come from, bounded so that the whole operation fits. */
function firstAdvice(field: FieldCost, estimate: CostEstimate, budget: number): string | undefined {
  const origin = field.origin;
  if (!origin || field.expected <= 0) return undefined;
  const room = budget - (estimate.expected - field.expected);
  const n = Math.floor(origin.perParent * (room / field.expected));
  if (n < 1 || n >= Math.ceil(origin.perParent)) return undefined;
  return `\`${origin.field}(first: ${n})\``;
}

/** `query logonUsers per machine`: a relationship asked of one entity at a time, on demand. */
function perEntityAdvice(field: FieldCost): string | undefined {
  const lookup = LOOKUPS[field.parentType];
  const name = field.path.at(-1);
  if (!field.relationship || !lookup || !name || !field.origin) return undefined;
  return `query \`${name}\` per ${field.parentType.toLowerCase()} (\`${lookup} { ${name} { … } }\`)`;
}
