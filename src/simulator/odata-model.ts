// The shapes and property tables that the OData $filter parser, its evaluator and $orderby share.

export type PropertyKind = 'string' | 'number' | 'datetime' | 'stringCollection';
/** Canonical (camelCase) property name → kind. */
export type FilterableProperties = Readonly<Record<string, PropertyKind>>;

export const MACHINE_FILTERABLE: FilterableProperties = Object.freeze({
  computerDnsName: 'string',
  id: 'string',
  version: 'string',
  deviceValue: 'string',
  aadDeviceId: 'string',
  machineTags: 'stringCollection',
  lastSeen: 'datetime',
  exposureLevel: 'string',
  onboardingStatus: 'string',
  lastIpAddress: 'string',
  healthStatus: 'string',
  osPlatform: 'string',
  riskScore: 'string',
  rbacGroupId: 'number',
});

export const ALERT_FILTERABLE: FilterableProperties = Object.freeze({
  alertCreationTime: 'datetime',
  lastUpdateTime: 'datetime',
  lastEventTime: 'datetime',
  incidentId: 'number',
  investigationId: 'number',
  id: 'string',
  assignedTo: 'string',
  detectionSource: 'string',
  status: 'string',
  severity: 'string',
  category: 'string',
});

// Error messages name the entity type as Defender does; tables built elsewhere fall back to a generic name.
export const ENTITY_TYPE_NAMES = new Map<FilterableProperties, string>([
  [MACHINE_FILTERABLE, 'Machine'],
  [ALERT_FILTERABLE, 'Alert'],
]);

/** An invalid `$filter` or `$orderby`; `message` is what Defender's error body carries (code `ODataError`). */
export class ODataError extends Error {
  override readonly name = 'ODataError';
  readonly code = 'ODataError';
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  /** `value` is the text as written; `epochMs` truncates digits below the millisecond. */
  | { kind: 'datetime'; value: string; epochMs: number }
  | { kind: 'null' }
  | { kind: 'boolean'; value: boolean };

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterNode =
  | { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { type: 'not'; operand: FilterNode }
  | { type: 'compare'; op: CompareOp; property: string; value: Literal }
  | { type: 'in'; property: string; values: Literal[] }
  | { type: 'startswith'; property: string; value: string }
  | { type: 'any'; property: string; variable: string; op: 'eq'; value: string };

/**
 * The simulator's own safety bounds. Defender documents no limit on `or`/`in` terms (§3.2), so these only
 * keep a hostile query from costing the simulator time or stack; pass others to `parseFilter` to test limits.
 */
export interface FilterLimits {
  /** Longest `$filter`, in characters. Default 10,000. */
  maxChars: number;
  /** Most literals in one `in (…)` list. Default 200. */
  maxInValues: number;
  /** Most nodes in the tree, counting each `in` literal as one. Default 1,000. */
  maxNodes: number;
  /** Deepest nesting of parentheses. Default 32. */
  maxDepth: number;
}

export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = Object.freeze({
  maxChars: 10_000,
  maxInValues: 200,
  maxNodes: 1_000,
  maxDepth: 32,
});

/** How a parser reports a refusal: it throws an `ODataError` carrying `detail`. */
export type Fail = (detail: string) => never;
