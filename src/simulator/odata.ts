/**
 * Defender's OData dialect for `$filter` and `$orderby` on `/machines` and `/alerts` (`docs/defender-api.md` §3).
 *
 * Input is the URL-decoded query option value: the caller has already turned `+` into a space, so an offset
 * such as `+02:00` must arrive percent-encoded (`%2B02:00`). The AST is plain data with canonical property
 * names, so tests can assert exactly which structure a filter parses to.
 *
 * Literals: `'…'` with `''` for a quote, `"…"` with `""` for a quote (STAT sends double-quoted ids), integers,
 * `null`, `true`/`false`, and bare datetimes (`2019-11-22T00:00:00.1234567Z`, `2018-08-01Z`, `2018-08-01`,
 * offsets `±hh:mm`; no offset means UTC). Keywords and property names are case-insensitive.
 */

export type { CompareOp, FilterNode, Literal } from './odata-model.js';
export type { FilterLimits, FilterableProperties, PropertyKind } from './odata-model.js';
export { ALERT_FILTERABLE, DEFAULT_FILTER_LIMITS, MACHINE_FILTERABLE, ODataError } from './odata-model.js';
export { parseFilter } from './odata-filter.js';
export { evaluateFilter } from './odata-evaluate.js';
export type { OrderKey } from './odata-order.js';
export { compareForOrder, parseOrderBy } from './odata-order.js';
