// The $orderby query option: parsing it against the property tables and the comparator that applies it.
import type { Fail, FilterableProperties } from './odata-model.js';
import { DEFAULT_FILTER_LIMITS, ENTITY_TYPE_NAMES, ODataError } from './odata-model.js';
import { compareInstants, compareText, toInstant, valueOf } from './odata-values.js';

export interface OrderKey {
  property: string;
  descending: boolean;
}

/** Parses `$orderby` (`prop [asc|desc]`, comma-separated) against the same property lists. Throws `ODataError`. */
export function parseOrderBy(text: string, properties: FilterableProperties): OrderKey[] {
  const fail: Fail = (detail) => {
    throw new ODataError(`Invalid orderby clause: ${detail}`);
  };
  if (text.length > DEFAULT_FILTER_LIMITS.maxChars) fail('The orderby is too long.');
  if (text.trim() === '') fail('The orderby is empty.');
  const typeName = ENTITY_TYPE_NAMES.get(properties) ?? 'the entity';
  const canonical = new Map(Object.keys(properties).map((name) => [name.toLowerCase(), name]));
  const keys: OrderKey[] = [];
  for (const item of text.split(',')) {
    const [written = '', direction = 'asc', ...rest] = item.trim().split(/\s+/);
    if (written === '') fail(`Expected a property name in '${text}'.`);
    const property = canonical.get(written.toLowerCase());
    if (property === undefined) fail(`Could not find a property named '${written}' on type '${typeName}'.`);
    if (properties[property] === 'stringCollection') fail(`Cannot order by the collection '${property}'.`);
    const dir = direction.toLowerCase();
    if ((dir !== 'asc' && dir !== 'desc') || rest.length > 0) {
      fail(
        `Expected 'asc', 'desc', ',' or the end after '${written}' but found '${[direction, ...rest].join(' ')}'.`,
      );
    }
    if (keys.some((k) => k.property === property)) fail(`Duplicate property '${property}' in orderby.`);
    keys.push({ property, descending: dir === 'desc' });
  }
  return keys;
}

/** Sorts nulls first; two datetime strings compare as instants (fraction lengths vary), other strings case-insensitively. */
function compareValues(a: unknown, b: unknown): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'string' && typeof b === 'string') {
    const x = toInstant(a);
    const y = toInstant(b);
    return x && y ? compareInstants(x, y) : compareText(a, b);
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareText(typeof a, typeof b); // mixed kinds: any fixed order keeps the sort consistent
}

/** Comparator for `Array.prototype.sort` (which is stable): ties on every key keep the input order. */
export function compareForOrder(a: object, b: object, order: readonly OrderKey[]): number {
  for (const { property, descending } of order) {
    const c = compareValues(valueOf(a, property), valueOf(b, property));
    if (c !== 0) return descending ? -c : c;
  }
  return 0;
}
