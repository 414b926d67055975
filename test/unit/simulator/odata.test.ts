import { describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto } from '../../../src/defender/types.js';
import {
  ALERT_FILTERABLE,
  DEFAULT_FILTER_LIMITS,
  MACHINE_FILTERABLE,
  ODataError,
  compareForOrder,
  evaluateFilter,
  parseFilter,
  parseOrderBy,
} from '../../../src/simulator/odata.js';
import type { FilterNode, FilterableProperties, Literal } from '../../../src/simulator/odata.js';

type MachineLike = Pick<
  MachineDto,
  | 'id'
  | 'computerDnsName'
  | 'riskScore'
  | 'healthStatus'
  | 'machineTags'
  | 'lastSeen'
  | 'rbacGroupId'
  | 'aadDeviceId'
>;
type AlertLike = Pick<
  AlertDto,
  'id' | 'incidentId' | 'assignedTo' | 'status' | 'severity' | 'alertCreationTime' | 'lastUpdateTime'
>;

const MACHINES: MachineLike[] = [
  {
    id: 'a1',
    computerDnsName: 'alpha.contoso.com',
    riskScore: 'High',
    healthStatus: 'Active',
    machineTags: ['Prod', 'Finance'],
    lastSeen: '2024-05-01T10:00:00.1234567Z',
    rbacGroupId: 9,
    aadDeviceId: null,
  },
  {
    id: 'b2',
    computerDnsName: 'BRAVO.contoso.com',
    riskScore: 'Low',
    healthStatus: 'Inactive',
    machineTags: [],
    lastSeen: '2024-05-01T10:00:00Z',
    rbacGroupId: 10,
    aadDeviceId: 'guid-b2',
  },
  {
    id: 'c3',
    computerDnsName: null,
    riskScore: null,
    healthStatus: 'Active',
    machineTags: ['prod'],
    lastSeen: '2024-05-02T00:00:00Z',
    rbacGroupId: 11,
    aadDeviceId: 'guid-c3',
  },
];

const ALERTS: AlertLike[] = [
  {
    id: 'da637472900382838869_1364969609',
    incidentId: 7,
    assignedTo: "o'brien@contoso.com",
    status: 'New',
    severity: 'High',
    alertCreationTime: '2024-01-01T00:00:00.1234567Z',
    lastUpdateTime: '2024-01-01T00:00:00.1234568Z',
  },
  {
    id: 'da637472900382838870_-880718168',
    incidentId: null,
    assignedTo: null,
    status: 'Resolved',
    severity: 'Low',
    alertCreationTime: '2024-01-01T00:00:00.5Z',
    lastUpdateTime: '2024-01-01T00:00:00.1234567Z',
  },
];

function machinesMatching(filter: string): string[] {
  const node = parseFilter(filter, MACHINE_FILTERABLE);
  return MACHINES.filter((m) => evaluateFilter(node, m)).map((m) => m.id);
}

function alertsMatching(filter: string): string[] {
  const node = parseFilter(filter, ALERT_FILTERABLE);
  return ALERTS.filter((a) => evaluateFilter(node, a)).map((a) => a.id);
}

function errorOf(run: () => unknown): ODataError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ODataError);
    return error as ODataError;
  }
  throw new Error('expected an ODataError, but nothing was thrown');
}

function filterError(filter: string, properties: FilterableProperties = MACHINE_FILTERABLE): string {
  return errorOf(() => parseFilter(filter, properties)).message;
}

const str = (value: string): Literal => ({ kind: 'string', value });
const eq = (property: string, value: string): FilterNode => ({
  type: 'compare',
  op: 'eq',
  property,
  value: str(value),
});

describe('comparison operators', () => {
  it.each([
    ['eq', "riskScore eq 'High'", ['a1']],
    ['ne', "healthStatus ne 'Active'", ['b2']],
    ['gt', 'rbacGroupId gt 9', ['b2', 'c3']],
    ['ge', 'rbacGroupId ge 10', ['b2', 'c3']],
    ['lt', 'rbacGroupId lt 10', ['a1']],
    ['le', 'rbacGroupId le 10', ['a1', 'b2']],
  ])('%s parses to a compare node and selects the right machines', (op, filter, ids) => {
    expect(parseFilter(filter, MACHINE_FILTERABLE)).toMatchObject({ type: 'compare', op });
    expect(machinesMatching(filter)).toEqual(ids);
  });

  it('parses a documented example to the exact tree', () => {
    expect(parseFilter("riskScore eq 'High'", MACHINE_FILTERABLE)).toEqual(eq('riskScore', 'High'));
  });

  it('compares strings case-insensitively, ordering by lower-cased text', () => {
    expect(machinesMatching("healthStatus eq 'ACTIVE'")).toEqual(['a1', 'c3']);
    expect(machinesMatching("computerDnsName gt 'b'")).toEqual(['b2']);
    // '_' sits between upper- and lower-case letters: only a lower-cased comparison puts BRAVO after it.
    expect(machinesMatching("computerDnsName gt '_'")).toEqual(['a1', 'b2']);
  });

  it('compares numbers numerically, not as text', () => {
    expect(machinesMatching('rbacGroupId gt 9')).toEqual(['b2', 'c3']);
    expect(machinesMatching('rbacGroupId eq -1')).toEqual([]);
    expect(parseFilter('rbacGroupId eq -1', MACHINE_FILTERABLE)).toMatchObject({
      value: { kind: 'number', value: -1 },
    });
  });

  it('lets null equal only null, and treats a missing key as null', () => {
    expect(machinesMatching('aadDeviceId eq null')).toEqual(['a1']);
    expect(machinesMatching('aadDeviceId ne null')).toEqual(['b2', 'c3']);
    expect(machinesMatching("computerDnsName ne 'alpha.contoso.com'")).toEqual(['b2', 'c3']);
    expect(machinesMatching("computerDnsName lt 'zzz'")).toEqual(['a1', 'b2']);
    expect(alertsMatching('incidentId eq null')).toEqual([ALERTS[1]!.id]);
    expect(evaluateFilter(parseFilter('aadDeviceId eq null', MACHINE_FILTERABLE), { id: 'x' })).toBe(true);
  });

  it('never equates a value of another kind with the literal, so only ne holds', () => {
    const garbled = { id: 'x', lastSeen: 'yesterday', rbacGroupId: '9' };
    const holds = (filter: string): boolean =>
      evaluateFilter(parseFilter(filter, MACHINE_FILTERABLE), garbled);
    expect(holds('lastSeen ne 2024-01-01Z')).toBe(true);
    expect(holds('lastSeen lt 2024-01-01Z') || holds('lastSeen ge 2024-01-01Z')).toBe(false);
    expect(holds('rbacGroupId ne 9')).toBe(true);
    expect(holds('rbacGroupId eq 9')).toBe(false);
  });
});

describe('and, or, not and parentheses', () => {
  it('binds and tighter than or', () => {
    expect(parseFilter("id eq 'a' or id eq 'b' and id eq 'c'", MACHINE_FILTERABLE)).toEqual({
      type: 'or',
      left: eq('id', 'a'),
      right: { type: 'and', left: eq('id', 'b'), right: eq('id', 'c') },
    });
    expect(machinesMatching("id eq 'a1' or id eq 'b2' and riskScore eq 'High'")).toEqual(['a1']);
  });

  it('lets parentheses override precedence', () => {
    expect(parseFilter("(id eq 'a' or id eq 'b') and id eq 'c'", MACHINE_FILTERABLE)).toEqual({
      type: 'and',
      left: { type: 'or', left: eq('id', 'a'), right: eq('id', 'b') },
      right: eq('id', 'c'),
    });
    expect(machinesMatching("(id eq 'a1' or id eq 'b2') and riskScore eq 'Low'")).toEqual(['b2']);
  });

  it('associates chains to the left, as XSOAR-style or chains need', () => {
    expect(parseFilter("id eq 'a' or id eq 'b' or id eq 'c'", MACHINE_FILTERABLE)).toEqual({
      type: 'or',
      left: { type: 'or', left: eq('id', 'a'), right: eq('id', 'b') },
      right: eq('id', 'c'),
    });
  });

  it('negates a parenthesised expression or a function call with not', () => {
    expect(parseFilter("not (id eq 'a')", MACHINE_FILTERABLE)).toEqual({
      type: 'not',
      operand: eq('id', 'a'),
    });
    expect(machinesMatching("not (healthStatus eq 'Active')")).toEqual(['b2']);
    expect(machinesMatching("not startswith(computerDnsName,'alpha')")).toEqual(['b2', 'c3']);
    expect(machinesMatching("not machineTags/any(t: t eq 'prod')")).toEqual(['b2']);
  });

  it('rejects not before a bare comparison, whose OData precedence would surprise', () => {
    expect(filterError("not id eq 'a'")).toMatch(
      /'not' at position 0 must be followed by '\(' or a function call/,
    );
  });

  it('accepts keywords in any case and arbitrary whitespace', () => {
    const filter =
      "\tRiskScore  EQ 'High'\nAND healthStatus Ne 'x' OR NOT StartsWith( computerDnsName , 'b' )";
    expect(parseFilter(filter, MACHINE_FILTERABLE)).toEqual({
      type: 'or',
      left: {
        type: 'and',
        left: eq('riskScore', 'High'),
        right: { type: 'compare', op: 'ne', property: 'healthStatus', value: str('x') },
      },
      right: { type: 'not', operand: { type: 'startswith', property: 'computerDnsName', value: 'b' } },
    });
    expect(parseFilter("(id eq 'a')and(id eq 'b')", MACHINE_FILTERABLE)).toMatchObject({ type: 'and' });
  });
});

describe('in, startswith and any', () => {
  it('parses in with single- or double-quoted strings (STAT sends double quotes)', () => {
    const expected = { type: 'in', property: 'id', values: [str('a1'), str('c3')] };
    expect(parseFilter("id in ('a1','c3')", MACHINE_FILTERABLE)).toEqual(expected);
    expect(parseFilter('id in ("a1", "c3")', MACHINE_FILTERABLE)).toEqual(expected);
    expect(machinesMatching('id IN ("a1","c3")')).toEqual(['a1', 'c3']);
    expect(machinesMatching("id in ('A1')")).toEqual(['a1']);
  });

  it('parses in with numbers', () => {
    expect(parseFilter('rbacGroupId in (9, 11)', MACHINE_FILTERABLE)).toEqual({
      type: 'in',
      property: 'rbacGroupId',
      values: [
        { kind: 'number', value: 9 },
        { kind: 'number', value: 11 },
      ],
    });
    expect(machinesMatching('rbacGroupId in (9, 11)')).toEqual(['a1', 'c3']);
  });

  it('matches startswith case-insensitively and never on null', () => {
    expect(parseFilter("startswith(computerDnsName,'mymachine')", MACHINE_FILTERABLE)).toEqual({
      type: 'startswith',
      property: 'computerDnsName',
      value: 'mymachine',
    });
    expect(machinesMatching("startswith(computerDnsName,'bravo')")).toEqual(['b2']);
    expect(machinesMatching("startswith(computerDnsName,'')")).toEqual(['a1', 'b2']);
    expect(machinesMatching("startswith(healthStatus,'in')")).toEqual(['b2']);
  });

  it('matches machineTags/any case-insensitively, with any range variable name', () => {
    expect(parseFilter("machineTags/any(tag: tag eq 'ExampleTag')", MACHINE_FILTERABLE)).toEqual({
      type: 'any',
      property: 'machineTags',
      variable: 'tag',
      op: 'eq',
      value: 'ExampleTag',
    });
    expect(machinesMatching("MachineTags/ANY(x:x eq 'PROD')")).toEqual(['a1', 'c3']);
    expect(machinesMatching("machineTags/any(t: t eq 'finance')")).toEqual(['a1']);
  });

  it('rejects any() on a non-collection, other lambdas, and a foreign range variable', () => {
    expect(filterError("computerDnsName/any(t: t eq 'x')")).toMatch(/any\(\) needs a collection property/);
    expect(filterError("machineTags/all(t: t eq 'x')")).toMatch(/Only any\(\) may follow 'machineTags\/'/);
    expect(filterError("machineTags/any(t: u eq 'x')")).toMatch(
      /Expected the range variable 't' but found 'u'/,
    );
    expect(filterError("machineTags/any(t: t ne 'x')")).toMatch(/Only 't eq <string>' is supported/);
  });
});

describe('literals', () => {
  it('reads \'\' inside single quotes and "" inside double quotes as one quote', () => {
    expect(parseFilter("assignedTo eq 'o''brien@contoso.com'", ALERT_FILTERABLE)).toMatchObject({
      value: str("o'brien@contoso.com"),
    });
    expect(parseFilter('id eq "say ""hi"""', MACHINE_FILTERABLE)).toEqual(eq('id', 'say "hi"'));
    expect(parseFilter(`id in ("it's", 'say "hi"')`, MACHINE_FILTERABLE)).toMatchObject({
      values: [str("it's"), str('say "hi"')],
    });
    expect(alertsMatching("assignedTo eq 'O''Brien@contoso.com'")).toEqual([ALERTS[0]!.id]);
  });

  it('keeps an injection-looking value as ONE string literal', () => {
    const node = parseFilter("id eq 'x'' or id ne ''y'", MACHINE_FILTERABLE);
    expect(node).toEqual(eq('id', "x' or id ne 'y"));
    expect(MACHINES.filter((m) => evaluateFilter(node, m))).toEqual([]);
    expect(parseFilter('id in ("a"") or (id ne ""b")', MACHINE_FILTERABLE)).toEqual({
      type: 'in',
      property: 'id',
      values: [str('a") or (id ne "b')],
    });
  });

  it.each([
    ['2019-11-22T00:00:00Z', Date.UTC(2019, 10, 22)],
    ['2019-11-22T00:00:00.1234567Z', Date.UTC(2019, 10, 22, 0, 0, 0, 123)],
    ['2018-08-01Z', Date.UTC(2018, 7, 1)],
    ['2018-08-01', Date.UTC(2018, 7, 1)],
    ['2019-11-22T10:30', Date.UTC(2019, 10, 22, 10, 30)],
    ['2019-11-22T02:00:00+02:00', Date.UTC(2019, 10, 22)],
    ['2019-11-21T19:00:00-05:00', Date.UTC(2019, 10, 22)],
  ])('reads the bare datetime %s as written and as an instant', (written, epochMs) => {
    expect(parseFilter(`lastSeen ge ${written}`, MACHINE_FILTERABLE)).toEqual({
      type: 'compare',
      op: 'ge',
      property: 'lastSeen',
      value: { kind: 'datetime', value: written, epochMs },
    });
  });

  it('compares datetimes as instants, down to the 100 ns tick', () => {
    expect(alertsMatching('lastUpdateTime gt 2024-01-01T00:00:00.1234567Z')).toEqual([ALERTS[0]!.id]);
    expect(alertsMatching('alertCreationTime eq 2024-01-01T00:00:00.50Z')).toEqual([ALERTS[1]!.id]);
    expect(machinesMatching('lastSeen le 2024-05-01T12:00:00+02:00')).toEqual(['b2']);
    expect(machinesMatching('lastSeen gt 2024-05-01T10:00:00Z and lastSeen lt 2024-05-02')).toEqual(['a1']);
  });

  it('rejects impossible dates and over-long numbers', () => {
    expect(filterError('lastSeen gt 2019-02-30')).toMatch(/'2019-02-30' is not a valid datetime/);
    expect(filterError('lastSeen gt 2019-13-01T00:00:00Z')).toMatch(/not a valid datetime/);
    expect(filterError('lastSeen gt 2019-01-01T24:00:00Z')).toMatch(/not a valid datetime/);
    expect(filterError('rbacGroupId eq 99999999999999999999')).toMatch(/out of range/);
  });

  it('parses true and false, which no filterable property accepts', () => {
    expect(filterError('riskScore eq true')).toMatch(
      /the property is Edm\.String, the literal is Edm\.Boolean/,
    );
    expect(filterError('rbacGroupId ne FALSE')).toMatch(/the literal is Edm\.Boolean/);
  });
});

describe('property names', () => {
  it.each([
    ['LastSeen gt 2018-08-01Z', MACHINE_FILTERABLE, 'lastSeen'],
    ["RiskScore eq 'High'", MACHINE_FILTERABLE, 'riskScore'],
    ['InvestigationId eq 5', ALERT_FILTERABLE, 'investigationId'],
    ["COMPUTERDNSNAME eq 'x'", MACHINE_FILTERABLE, 'computerDnsName'],
  ])('maps %s to the canonical name', (filter, properties, canonical) => {
    expect(parseFilter(filter, properties)).toMatchObject({ property: canonical });
  });

  it.each([
    ['firstSeen gt 2018-08-01Z', MACHINE_FILTERABLE, "'firstSeen' on type 'Machine'"],
    ["rbacGroupName eq 'x'", MACHINE_FILTERABLE, "'rbacGroupName' on type 'Machine'"],
    ["machineId eq 'x'", ALERT_FILTERABLE, "'machineId' on type 'Alert'"],
    ["computerDnsName eq 'x'", ALERT_FILTERABLE, "'computerDnsName' on type 'Alert'"],
  ])('rejects the non-filterable %s', (filter, properties, where) => {
    expect(filterError(filter, properties)).toBe(
      `Invalid filter clause: Could not find a property named ${where}.`,
    );
  });
});

describe('errors', () => {
  it('are ODataErrors carrying the Defender error code', () => {
    const error = errorOf(() => parseFilter('', MACHINE_FILTERABLE));
    expect(error.code).toBe('ODataError');
    expect(error.message).toBe('Invalid filter clause: The filter is empty.');
    expect(filterError(' \t ')).toBe('Invalid filter clause: The filter is empty.');
  });

  it.each([
    [
      "lastSeen gt '2019-11-22T00:00:00Z'",
      /is Edm\.DateTimeOffset, the literal is Edm\.String\. Write datetimes unquoted/,
    ],
    ['riskScore eq 5', /'riskScore eq': the property is Edm\.String, the literal is Edm\.Int64/],
    ["rbacGroupId eq '5'", /the property is Edm\.Int64, the literal is Edm\.String/],
    ['computerDnsName eq 2019-01-01Z', /the literal is Edm\.DateTimeOffset/],
    ["machineTags eq 'x'", /Collection\(Edm\.String\).*Use machineTags\/any/],
    ['machineTags eq null', /Collection\(Edm\.String\)/],
    ["rbacGroupId in (1, '2')", /'rbacGroupId in'.*Edm\.String/],
    ['startswith(rbacGroupId,1)', /startswith needs a string property/],
    ['startswith(computerDnsName,null)', /startswith needs a string literal/],
  ])('reject a literal of the wrong kind: %s', (filter, message) => {
    expect(filterError(filter)).toMatch(message);
  });

  it.each([
    ["id eq 'abc", /Unterminated string literal starting at position 6/],
    ['id in ("a","b)', /Unterminated string literal starting at position 11/],
    ["id eq 'a' 'b'", /Expected 'and', 'or' or the end of the filter but found ''b'' at position 10/],
    ["id eq 'a')", /but found '\)' at position 9/],
    ["id eq 'a' foo", /but found 'foo'/],
    ["(id eq 'a'", /Expected '\)' to close the '\(' at position 0 but found the end of the filter/],
    ["id 'a'", /Expected eq, ne, gt, ge, lt, le or in after 'id'/],
    ['id eq', /Expected a literal after 'eq' but found the end of the filter/],
    ['id in ()', /Expected a literal after '\('/],
    ["'a' eq id", /Expected a property, '\(', 'not' or a function but found ''a''/],
    ["id eq 'a' and", /Expected a property/],
    ["contains(computerDnsName,'x')", /Unknown function 'contains' at position 0/],
    ["endswith(computerDnsName,'x')", /Unknown function 'endswith'/],
    ["id eq 'a' & id eq 'b'", /Unexpected character '&' at position 10/],
    ['rbacGroupId eq 1.5', /Unexpected character '\.'/],
  ])('reject malformed syntax: %s', (filter, message) => {
    expect(filterError(filter)).toMatch(message);
  });

  it('bound the length, in-list size, term count and nesting depth', () => {
    const long = `id eq '${'x'.repeat(DEFAULT_FILTER_LIMITS.maxChars)}'`;
    expect(filterError(long)).toMatch(/characters long; at most 10000 are allowed/);
    const ids = (n: number): string => Array.from({ length: n }, (_, i) => `'${i}'`).join(',');
    expect(parseFilter(`id in (${ids(200)})`, MACHINE_FILTERABLE)).toMatchObject({ type: 'in' });
    expect(filterError(`id in (${ids(201)})`)).toMatch(/more than 200 values/);
    const chain = Array.from({ length: 600 }, (_, i) => `id eq '${i}'`).join(' or ');
    expect(filterError(chain)).toMatch(/more than 1000 terms/);
    const nested = (depth: number): string => `${'('.repeat(depth)}id eq 'a'${')'.repeat(depth)}`;
    expect(parseFilter(nested(32), MACHINE_FILTERABLE)).toEqual(eq('id', 'a'));
    expect(filterError(nested(33))).toMatch(/nested more than 32 deep/);
  });

  it('take other limits when a caller passes them', () => {
    const limits = { ...DEFAULT_FILTER_LIMITS, maxInValues: 2 };
    expect(errorOf(() => parseFilter("id in ('a','b','c')", MACHINE_FILTERABLE, limits)).message).toMatch(
      /more than 2 values/,
    );
  });
});

describe('$orderby', () => {
  it('parses comma-separated keys with optional, case-insensitive directions', () => {
    expect(parseOrderBy('alertCreationTime desc', ALERT_FILTERABLE)).toEqual([
      { property: 'alertCreationTime', descending: true },
    ]);
    expect(parseOrderBy(' LastSeen DESC ,computerDnsName,  rbacGroupId Asc', MACHINE_FILTERABLE)).toEqual([
      { property: 'lastSeen', descending: true },
      { property: 'computerDnsName', descending: false },
      { property: 'rbacGroupId', descending: false },
    ]);
  });

  it.each([
    ['', /The orderby is empty/],
    ['firstSeen asc', /Could not find a property named 'firstSeen' on type 'Machine'/],
    ['lastSeen up', /Expected 'asc', 'desc', ',' or the end after 'lastSeen' but found 'up'/],
    ['lastSeen asc desc', /but found 'asc desc'/],
    ['lastSeen,', /Expected a property name/],
    ['machineTags', /Cannot order by the collection 'machineTags'/],
    ['lastSeen, LASTSEEN desc', /Duplicate property 'lastSeen'/],
  ])('rejects %j', (text, message) => {
    const error = errorOf(() => parseOrderBy(text, MACHINE_FILTERABLE));
    expect(error.message).toMatch(/^Invalid orderby clause: /);
    expect(error.message).toMatch(message);
  });

  const sortIds = (
    text: string,
    rows: readonly { id: string }[],
    properties = MACHINE_FILTERABLE,
  ): string[] => {
    const order = parseOrderBy(text, properties);
    return [...rows].sort((a, b) => compareForOrder(a, b, order)).map((r) => r.id);
  };

  it('puts nulls first ascending and last descending', () => {
    expect(sortIds('computerDnsName', MACHINES)).toEqual(['c3', 'a1', 'b2']);
    expect(sortIds('computerDnsName desc', MACHINES)).toEqual(['b2', 'a1', 'c3']);
    expect(sortIds('incidentId', ALERTS, ALERT_FILTERABLE)).toEqual([ALERTS[1]!.id, ALERTS[0]!.id]);
  });

  it('orders numbers numerically and datetimes as instants whatever their fraction length', () => {
    const rows = [
      { id: 'ten', rbacGroupId: 10, lastSeen: '2024-01-01T00:00:00.1Z' },
      { id: 'nine', rbacGroupId: 9, lastSeen: '2024-01-01T00:00:00Z' },
      { id: 'eleven', rbacGroupId: 11, lastSeen: '2024-01-01T00:00:00.0000001Z' },
    ];
    expect(sortIds('rbacGroupId', rows)).toEqual(['nine', 'ten', 'eleven']);
    // As text, '…00Z' would sort after '…00.1Z'.
    expect(sortIds('lastSeen', rows)).toEqual(['nine', 'eleven', 'ten']);
  });

  it('orders strings case-insensitively and keeps ties in input order', () => {
    const rows = [
      { id: '1', riskScore: 'low', healthStatus: 'Active' },
      { id: '2', riskScore: 'High', healthStatus: 'Inactive' },
      { id: '3', riskScore: 'Low', healthStatus: 'Active' },
      { id: '4', riskScore: 'high', healthStatus: 'Active' },
    ];
    expect(sortIds('riskScore', rows)).toEqual(['2', '4', '1', '3']);
    expect(sortIds('riskScore desc', rows)).toEqual(['1', '3', '2', '4']);
    expect(sortIds('healthStatus desc, riskScore', rows)).toEqual(['2', '4', '1', '3']);
  });
});
