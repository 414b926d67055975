import fc from 'fast-check';
import { Lexer, Source, TokenKind } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { DefenderApi } from '../../src/defender/apis.js';
import type { FilterNode } from '../../src/simulator/odata.js';
import { ALERT_FILTERABLE, MACHINE_FILTERABLE, parseFilter } from '../../src/simulator/odata.js';
import type { TrapServer } from '../helpers/canary.js';
import { startTrapServer } from '../helpers/canary.js';
import type { GraphQLResponse, TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * Upstream safety as properties (reliability notes §8, items 9–11): over arbitrary ids, filter values and paging
 * arguments, sent as GraphQL variables, the gateway either refuses with BAD_USER_INPUT and makes no upstream
 * call, or makes exactly the call the input names: the same route with the input as exactly one path segment,
 * or the intended `$filter` predicate and no other query parameter. Nothing reaches another host.
 *
 * One gateway for the file, with a budget no run can exhaust and no cache, so that every accepted input costs
 * exactly its own calls.
 */

const RUNS = 150;
const BAD_USER_INPUT = ['BAD_USER_INPUT'];

let gw: TestGateway;
let trap: TrapServer;

beforeAll(async () => {
  const rateLimits = parseRateLimits('100000/60s');
  trap = await startTrapServer();
  gw = await startTestGateway({ rateLimits, simulator: { rateLimits, latencyMs: 0 }, cacheTtlMs: 0 });
});
beforeEach(() => gw.sim.resetCalls());
afterAll(async () => {
  await gw?.close();
  await trap?.close();
});

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.['code']);

/** One property run: a fresh call log, the query, and the log of what it cost. */
async function run(query: string, variables: Record<string, unknown>) {
  gw.sim.resetCalls();
  const res = await gw.query(query, variables);
  return { res, calls: gw.sim.calls };
}

function expectRefused(res: GraphQLResponse, calls: readonly unknown[]): void {
  expect(codes(res)).toEqual(BAD_USER_INPUT);
  expect(calls).toEqual([]);
}

/** A path segment as RFC 3986 allows it (`pchar`): nothing in it can end the segment, the path or the query. */
const PCHARS = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-F]{2})+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Asserts that the log holds exactly one call, to `api`, whose raw path is `prefix` + one segment + `suffix`,
 * that segment decoding to `id`, with no query string.
 */
function expectOneSegmentCall(
  calls: typeof gw.sim.calls,
  api: DefenderApi,
  [prefix, suffix]: readonly [string, string],
  id: string,
): void {
  expect(calls.map((c) => c.api)).toEqual([api]);
  const [call] = calls;
  expect(call!.path.startsWith(prefix) && call!.path.endsWith(suffix)).toBe(true);
  const segment = call!.path.slice(prefix.length, call!.path.length - suffix.length);
  expect(segment).toMatch(PCHARS);
  expect(segment).not.toMatch(/^(?:\.|%2e){1,2}$/i);
  expect(decodeURIComponent(segment)).toBe(id);
  expect(call!.id).toBe(id);
  expect(call!.search).toBe('');
}

/** Pieces that have changed a route, a host or a filter somewhere, to glue around and between valid ids. */
function dangerousPieces(trapHost: string): fc.Arbitrary<string> {
  return fc.constantFrom(
    '/',
    '\\',
    '..',
    '.',
    '../',
    '/..',
    '%2F',
    '%2f',
    '%5C',
    '%2e%2e',
    '%2E%2E%2F',
    '%252F',
    '%00',
    '?',
    '#',
    '&',
    '=',
    ';',
    ',',
    '+',
    '%',
    "'",
    "''",
    '"',
    '(',
    ')',
    ' or ',
    ' and ',
    " or id ne '",
    "') or (rbacGroupId ne 0",
    ' or rbacGroupId ne 0',
    '$filter=',
    '&$filter=id ne null',
    '?$top=10000',
    '$count',
    'findbytag',
    "findbyip(ip='10.0.0.1')",
    '/logonusers',
    '/alerts',
    '/user',
    '\u0000',
    '\n',
    '\r\n',
    '\t',
    ' ',
    '\u00a0',
    '\u2028',
    '\ufeff',
    '\u0085',
    '@',
    ':',
    '／',
    '．．',
    '\ud800',
    '\udfff',
    trapHost,
    `@${trapHost}`,
    `//${trapHost}/`,
    `http://${trapHost}/x`,
    `\\\\${trapHost}\\x`,
  );
}

const hexId = fc.stringMatching(/^[0-9a-f]{40}$/);
const computerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}(?:\.[a-z0-9-]{1,10}){0,3}$/);
/** Both forms Defender writes: ticks and a signed number (`da`, `ar`, `ed`, none), or a prefixed GUID (`fa`). */
const alertIdArb = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('da', 'ar', 'ed', ''),
      fc.stringMatching(/^\d{18}$/),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    )
    .map(([prefix, ticks, n]) => `${prefix}${ticks}_${n}`),
  fc.tuple(fc.constantFrom('fa', 'ca'), fc.uuid()).map(([prefix, guid]) => `${prefix}${guid}`),
);
/** Any two lower-case letters as the prefix: Defender's prefixes are an open set. */
const WELL_FORMED_ALERT_ID =
  /^(?:(?:[a-z]{2})?\d{18}_-?\d{1,10}|[a-z]{2}[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$/;
const accountName = fc.stringMatching(/^[a-z][a-z0-9._ -]{0,19}$/);
const userKey = fc.oneof(
  accountName,
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/), accountName).map(([d, n]) => `${d}\\${n}`),
  fc.tuple(accountName, computerName).map(([n, d]) => `${n}@${d}`),
);
/** A lone surrogate: valid JSON (`"\ud800"`), not encodable in a URL. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Valid ids, arbitrary strings, and valid ids with dangerous pieces glued around and inside them. */
function hostile(valid: fc.Arbitrary<string>, trapHost: string): fc.Arbitrary<string> {
  const piece = dangerousPieces(trapHost);
  const glued = fc
    .array(fc.oneof(piece, valid, fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join(''));
  const wrapped = fc
    .tuple(fc.option(piece, { nil: '' }), valid, fc.option(piece, { nil: '' }))
    .map(([a, v, b]) => `${a}${v}${b}`);
  const spliced = fc
    .tuple(valid, piece, fc.nat())
    .map(([v, p, at]) => `${v.slice(0, at % (v.length + 1))}${p}${v.slice(at % (v.length + 1))}`);
  return fc.oneof(
    { arbitrary: valid, weight: 2 },
    { arbitrary: valid.map((v) => ` \t${v.toUpperCase()}\n `), weight: 1 },
    { arbitrary: fc.string(), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
    { arbitrary: loneSurrogate, weight: 1 },
    { arbitrary: glued, weight: 3 },
    { arbitrary: wrapped, weight: 3 },
    { arbitrary: spliced, weight: 3 },
  );
}

/**
 * Inputs each property always tries first, whatever the seed: ones known to change a route, reach another API
 * or break the gateway somewhere, so that such a bug fails every run rather than one in a few.
 */
const HEX = 'a'.repeat(40);
const MACHINE_EXAMPLES = [
  'findbytag', // a computer name that is also a route: /api/machines/findbytag
  'FindByTag',
  "findbyip(ip='10.0.0.1',timestamp=2026-01-01T00:00:00Z)",
  '$count',
  '.',
  '..',
  '%2e%2e',
  `${HEX}/alerts`,
  `${HEX}?$filter=id ne null`,
  `${HEX}#x`,
  `../${HEX}`,
  `desktop-1\ud800`, // a lone surrogate: valid JSON, not encodable in a URL
];
const ALERT_EXAMPLES = [
  'da637472900382838869_1364969609/user',
  'da637472900382838869_1364969609?x=1',
  '..',
  'da637472900382838869_1364969609\ud800',
];
const USER_EXAMPLES = [
  '.',
  '..',
  'contoso\\..',
  '..@contoso.com',
  'a/b',
  'contoso\\a/../b',
  "chris phillips#%2F&x'",
  'name@',
  'user1\udc00',
];
const FILTER_EXAMPLES: [string | null, string][] = [
  ["x' or id ne 'y", 'Linux'],
  ["') or (rbacGroupId ne 0", "'"],
  ['%26$top=1', '+'],
  ['a'.repeat(257), 'b'],
  ['x\u0000', 'y'],
  [null, '\ud800'],
];
const PAGING_EXAMPLES: [unknown, string | null | undefined][] = [
  [501, undefined],
  [-1, undefined],
  [10, 'bm9wZQ'],
  [10, `${Buffer.from('offset:5').toString('base64url')}=`],
  [0, Buffer.from('offset:1&$filter=id ne null').toString('base64url')],
];

/** Counts accepted and refused runs, so that a property cannot pass by refusing (or accepting) everything. */
function tally() {
  const seen = { accepted: 0, refused: 0 };
  return {
    seen,
    // Both sides are exercised (a property cannot pass by refusing everything). Random inputs: a CI run of 150
    // gave exactly RUNS / 10 well-formed alert ids, so the floor is RUNS / 20, not a share the generator only
    // usually reaches.
    expectBoth() {
      expect(seen.accepted).toBeGreaterThan(RUNS / 20);
      expect(seen.refused).toBeGreaterThan(RUNS / 20);
    },
  };
}

describe('ids: validated, and always exactly one path segment on their own route', () => {
  it(`machine(id:) is refused with no call, or calls machines/{id} with the normalised id, or filters by name (${RUNS} runs)`, async () => {
    const count = tally();
    await fc.assert(
      fc.asyncProperty(hostile(fc.oneof(hexId, computerName), trap.host), async (input) => {
        const { res, calls } = await run('query($id: ID!) { machine(id: $id) { id } }', { id: input });
        const trimmed = input.trim();
        const mustRefuse = trimmed === '' || /[/\\?#%&'"()@: ]/.test(trimmed) || CONTROL.test(trimmed);
        const mustAccept = /^[0-9a-f]{40}$/i.test(trimmed) || /^[a-z][a-z0-9-]{0,14}$/i.test(trimmed);
        if (codes(res) !== undefined) {
          count.seen.refused++;
          expectRefused(res, calls);
          expect(mustAccept, 'a well-formed id was refused').toBe(false);
          return;
        }
        count.seen.accepted++;
        expect(mustRefuse, 'a malformed id was accepted').toBe(false);
        if (/^[0-9a-f]{40}$/i.test(trimmed)) {
          expectOneSegmentCall(calls, 'machines/{id}', ['/api/machines/', ''], trimmed.toLowerCase());
          return;
        }
        // A computer name never goes into the path (`findbytag` is a route of its own): it is one escaped
        // literal of a `computerDnsName` filter on the list route.
        expect(trimmed).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(calls.map((c) => [c.api, c.path, c.id])).toEqual([['machines', '/api/machines', undefined]]);
        expect(Object.keys(calls[0]!.query).sort()).toEqual(['$filter', '$top']);
        expect(parseFilter(calls[0]!.query['$filter']!, MACHINE_FILTERABLE)).toEqual({
          type: 'compare',
          op: 'eq',
          property: 'computerDnsName',
          value: { kind: 'string', value: trimmed.toLowerCase() },
        });
      }),
      { numRuns: RUNS, examples: MACHINE_EXAMPLES.map((id) => [id]) },
    );
    count.expectBoth();
    expect(trap.requests).toEqual([]);
  });

  it(`alert(id:) is refused with no call, or calls alerts/{id} with the trimmed id (${RUNS} runs)`, async () => {
    const count = tally();
    await fc.assert(
      fc.asyncProperty(hostile(alertIdArb, trap.host), async (input) => {
        const { res, calls } = await run('query($id: ID!) { alert(id: $id) { id } }', { id: input });
        const trimmed = input.trim();
        const mustAccept = WELL_FORMED_ALERT_ID.test(trimmed);
        if (codes(res) !== undefined) {
          count.seen.refused++;
          expectRefused(res, calls);
          expect(mustAccept, 'a well-formed id was refused').toBe(false);
          return;
        }
        count.seen.accepted++;
        expect(trimmed).toMatch(/^[A-Za-z0-9_-]+$/);
        expectOneSegmentCall(calls, 'alerts/{id}', ['/api/alerts/', ''], trimmed);
      }),
      { numRuns: RUNS, examples: ALERT_EXAMPLES.map((id) => [id]) },
    );
    count.expectBoth();
    expect(trap.requests).toEqual([]);
  });

  it(`user(id:) is refused with no call, or calls users/{name}/machines with the account name (${RUNS} runs)`, async () => {
    const count = tally();
    await fc.assert(
      fc.asyncProperty(hostile(userKey, trap.host), async (input) => {
        const { res, calls } = await run('query($id: ID!) { user(id: $id) { machines { id } } }', {
          id: input,
        });
        const trimmed = input.trim();
        const name = accountNameOf(trimmed);
        const mustRefuse =
          name === '' || /^\.{1,2}$/.test(name) || /[/]/.test(trimmed) || CONTROL.test(trimmed);
        if (codes(res) !== undefined) {
          count.seen.refused++;
          expectRefused(res, calls);
          return;
        }
        count.seen.accepted++;
        expect(mustRefuse, 'a malformed id was accepted').toBe(false);
        expect(name).not.toMatch(/[/\\]/);
        expectOneSegmentCall(calls, 'users/{id}/machines', ['/api/users/', '/machines'], name);
      }),
      { numRuns: RUNS, examples: USER_EXAMPLES.map((id) => [id]) },
    );
    count.expectBoth();
    expect(trap.requests).toEqual([]);
  });

  it('accepts every well-formed key of each kind (so the properties above cannot pass by refusing all)', async () => {
    await fc.assert(
      fc.asyncProperty(hexId, alertIdArb, userKey, async (machineId, alertId, user) => {
        const { res, calls } = await run(
          'query($m: ID!, $a: ID!, $u: ID!) { machine(id: $m) { id } alert(id: $a) { id } user(id: $u) { id } }',
          { m: machineId.toUpperCase(), a: alertId, u: user },
        );
        expect(res.errors).toBeUndefined();
        expect(calls.map((c) => [c.api, c.id]).sort()).toEqual(
          [
            ['alerts/{id}', alertId],
            ['machines/{id}', machineId],
          ].sort(),
        );
      }),
      { numRuns: 50 },
    );
  });
});

/** `domain\name` → `name`; `name@domain` → `name`; a bare name as it is. */
function accountNameOf(trimmed: string): string {
  const backslash = trimmed.indexOf('\\');
  if (backslash !== -1) return trimmed.slice(backslash + 1);
  const at = trimmed.lastIndexOf('@');
  return at !== -1 ? trimmed.slice(0, at) : trimmed;
}

/** The clauses of a filter joined by `and` (and nothing else), in order. */
function conjuncts(node: FilterNode): FilterNode[] {
  return node.type === 'and' ? [...conjuncts(node.left), ...conjuncts(node.right)] : [node];
}

const eqString = (property: string, value: string): FilterNode => ({
  type: 'compare',
  op: 'eq',
  property,
  value: { kind: 'string', value },
});

/** Filter values: arbitrary text, OData syntax, and strings built from dangerous pieces. */
function filterValue(trapHost: string): fc.Arbitrary<string> {
  return hostile(
    fc.oneof(computerName, fc.constantFrom('Windows11', 'Linux', 'Malware', "O'Brien")),
    trapHost,
  );
}

describe('filters: every value is one escaped literal of the intended predicate', () => {
  const cases = [
    {
      name: 'machines',
      api: 'machines' as const,
      query:
        'query($v: String, $w: String!) { machines(filter: { computerDnsName: $v, osPlatform: [$w] }) { nodes { id } } }',
      properties: MACHINE_FILTERABLE,
      single: 'computerDnsName',
      list: 'osPlatform',
      params: { $top: '51' },
    },
    {
      name: 'alerts',
      api: 'alerts' as const,
      query:
        'query($v: String, $w: String!) { alerts(filter: { assignedTo: $v, category: [$w] }) { nodes { id } } }',
      properties: ALERT_FILTERABLE,
      single: 'assignedTo',
      list: 'category',
      params: { $top: '51', $expand: 'evidence' },
    },
  ];

  for (const c of cases) {
    it(`${c.name}(filter:) is refused with no call, or sends exactly the intended $filter (${RUNS} runs)`, async () => {
      const count = tally();
      const value = filterValue(trap.host);
      await fc.assert(
        fc.asyncProperty(fc.option(value, { nil: null }), value, async (v, w) => {
          const { res, calls } = await run(c.query, { v, w });
          const plain = (s: string | null) => s === null || /^[\x20-\x7e]{0,100}$/.test(s);
          if (codes(res) !== undefined) {
            count.seen.refused++;
            expectRefused(res, calls);
            expect(plain(v) && plain(w), 'plain printable values were refused').toBe(false);
            return;
          }
          count.seen.accepted++;
          expect(calls.map((call) => [call.api, call.path])).toEqual([[c.api, `/api/${c.api}`]]);
          const [call] = calls;
          // Nothing in a value escaped into another parameter: the raw query string has exactly these.
          const rawNames = call!.search.split('&').map((p) => p.slice(0, p.indexOf('=')));
          expect(rawNames.sort()).toEqual(['$filter', ...Object.keys(c.params)].sort());
          const { $filter, ...rest } = call!.query;
          expect(rest).toEqual(c.params);
          const expected = [...(v === null ? [] : [eqString(c.single, v)]), eqString(c.list, w)];
          const byProperty = (n: FilterNode) => ('property' in n ? n.property : '');
          const clauses = conjuncts(parseFilter($filter!, c.properties));
          expect(clauses.sort((a, b) => byProperty(a).localeCompare(byProperty(b)))).toEqual(
            expected.sort((a, b) => byProperty(a).localeCompare(byProperty(b))),
          );
        }),
        { numRuns: RUNS, examples: FILTER_EXAMPLES },
      );
      count.expectBoth();
      expect(trap.requests).toEqual([]);
    });
  }
});

describe('filter ids: checked like root arguments, then one escaped id predicate', () => {
  const cases = [
    {
      name: 'alerts',
      api: 'alerts' as const,
      query: 'query($ids: [ID!]) { alerts(filter: { ids: $ids }) { nodes { id } } }',
      properties: ALERT_FILTERABLE,
      valid: alertIdArb,
      /** The id as it must be sent, or undefined when it must be refused. */
      normalised: (id: string) => (WELL_FORMED_ALERT_ID.test(id.trim()) ? id.trim() : undefined),
      examples: [['../x', 'zz'], ['da637472900382838869_1364969609', '..'], ALERT_EXAMPLES],
    },
    {
      name: 'machines',
      api: 'machines' as const,
      query: 'query($ids: [ID!]) { machines(filter: { ids: $ids }) { nodes { id } } }',
      properties: MACHINE_FILTERABLE,
      valid: hexId,
      normalised: (id: string) => (/^[0-9a-f]{40}$/i.test(id.trim()) ? id.trim().toLowerCase() : undefined),
      examples: [[HEX, 'zz'], MACHINE_EXAMPLES.slice(0, 3)],
    },
  ];

  for (const c of cases) {
    it(`${c.name}(filter: { ids }) is refused with no call unless every id is well-formed, else filters by exactly those ids (${RUNS} runs)`, async () => {
      const count = tally();
      const id = fc.oneof(
        { arbitrary: c.valid, weight: 3 },
        { arbitrary: hostile(c.valid, trap.host), weight: 1 },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(id, { minLength: 1, maxLength: 3 }), async (ids) => {
          const { res, calls } = await run(c.query, { ids });
          const sent = ids.map(c.normalised);
          if (codes(res) !== undefined) {
            count.seen.refused++;
            expectRefused(res, calls);
            expect(sent.includes(undefined), 'well-formed ids were refused').toBe(true);
            return;
          }
          count.seen.accepted++;
          expect(sent.includes(undefined), 'a malformed id was accepted').toBe(false);
          expect(calls.map((call) => [call.api, call.path])).toEqual([[c.api, `/api/${c.api}`]]);
          const literals = sent.map((value) => ({ kind: 'string', value: value! }));
          expect(parseFilter(calls[0]!.query['$filter']!, c.properties)).toEqual(
            literals.length === 1
              ? { type: 'compare', op: 'eq', property: 'id', value: literals[0] }
              : { type: 'in', property: 'id', values: literals },
          );
        }),
        { numRuns: RUNS, examples: c.examples.map((ids) => [ids]) },
      );
      count.expectBoth();
      expect(trap.requests).toEqual([]);
    });
  }
});

describe('dates: only instants that exist reach Defender', () => {
  /** A component mostly in its valid range, sometimes just past either end. */
  const part = (min: number, max: number) =>
    fc.oneof(
      { arbitrary: fc.integer({ min, max }), weight: 8 },
      { arbitrary: fc.integer({ min: Math.max(0, min - 1), max: max + 2 }), weight: 2 },
    );
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const dateTime = fc.record({
    year: fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.constantFrom(0, 1900, 2000, 2023, 2024, 2100)),
    month: part(1, 12),
    day: fc.oneof(part(1, 28), fc.integer({ min: 28, max: 32 })),
    hour: part(0, 23),
    minute: part(0, 59),
    second: part(0, 59),
    fraction: fc.option(fc.stringMatching(/^\d{1,7}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constant('Z'),
      fc.tuple(fc.constantFrom('+', '-'), part(0, 14), part(0, 59)).map(([sign, h, m]) => ({ sign, h, m })),
    ),
  });

  /** The oracle: JavaScript's own calendar, which rolls a day that does not exist over into the next month. */
  type DateParts = typeof dateTime extends fc.Arbitrary<infer T> ? T : never;
  function exists(d: DateParts): boolean {
    const date = new Date(0);
    date.setUTCFullYear(d.year, d.month - 1, d.day);
    const offset = d.zone === 'Z' ? 0 : d.zone.h * 60 + d.zone.m;
    return (
      d.year >= 1 &&
      date.getUTCFullYear() === d.year &&
      date.getUTCMonth() === d.month - 1 &&
      date.getUTCDate() === d.day &&
      d.hour <= 23 &&
      d.minute <= 59 &&
      d.second <= 59 &&
      (d.zone === 'Z' || d.zone.m <= 59) &&
      offset <= 14 * 60
    );
  }

  it(`a DateTime, as a literal or a variable, is refused with no call unless it exists, then sent as written (${RUNS} runs)`, async () => {
    const count = tally();
    await fc.assert(
      fc.asyncProperty(dateTime, fc.boolean(), async (d, asLiteral) => {
        const zone = d.zone === 'Z' ? 'Z' : `${d.zone.sign}${pad(d.zone.h)}:${pad(d.zone.m)}`;
        const value =
          `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}T${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}` +
          `${d.fraction === undefined ? '' : `.${d.fraction}`}${zone}`;
        const { res, calls } = asLiteral
          ? await run(`{ alerts(first: 1, filter: { createdAfter: "${value}" }) { nodes { id } } }`, {})
          : await run(
              'query($d: DateTime) { alerts(first: 1, filter: { createdAfter: $d }) { nodes { id } } }',
              {
                d: value,
              },
            );
        if (codes(res) !== undefined) {
          count.seen.refused++;
          expectRefused(res, calls);
          expect(exists(d), `${value} exists but was refused`).toBe(false);
          return;
        }
        count.seen.accepted++;
        expect(exists(d), `${value} does not exist but was accepted`).toBe(true);
        expect(calls.map((c) => [c.api, c.query['$filter']])).toEqual([
          ['alerts', `alertCreationTime ge ${value}`],
        ]);
      }),
      {
        numRuns: RUNS,
        examples: [
          [
            { year: 2026, month: 2, day: 30, hour: 0, minute: 0, second: 0, fraction: undefined, zone: 'Z' },
            true,
          ],
          [
            { year: 2023, month: 2, day: 29, hour: 0, minute: 0, second: 0, fraction: undefined, zone: 'Z' },
            false,
          ],
          [
            { year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0, fraction: undefined, zone: 'Z' },
            true,
          ],
          [
            { year: 2026, month: 13, day: 1, hour: 0, minute: 0, second: 0, fraction: undefined, zone: 'Z' },
            false,
          ],
          [
            { year: 2026, month: 1, day: 1, hour: 25, minute: 0, second: 0, fraction: undefined, zone: 'Z' },
            true,
          ],
        ],
      },
    );
    count.expectBoth();
  });
});

describe('paging: first and after only ever set $top and $skip', () => {
  const canonicalCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
  const offsetArb = fc.oneof(fc.constant(0), fc.nat({ max: 1000 }), fc.nat({ max: 999_999_999 }));
  const firstArb = fc.oneof(
    fc.integer({ min: -5, max: 505 }),
    fc.integer(),
    fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constant(null),
    fc.constant(undefined),
    fc.string({ maxLength: 5 }),
  );
  const cursorArb = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: offsetArb.map(canonicalCursor), weight: 4 },
    { arbitrary: fc.string(), weight: 2 },
    {
      arbitrary: fc
        .tuple(
          offsetArb,
          fc.constantFrom('=', '==', '.', '!', '%3D', ' ', '+/', '&$filter=x', '\n', '\u0000'),
          fc.boolean(),
        )
        .map(([o, junk, before]) => (before ? junk + canonicalCursor(o) : canonicalCursor(o) + junk)),
      weight: 2,
    },
    {
      arbitrary: fc
        .constantFrom(
          'offset:-1',
          'offset:1234567890',
          'offset:1 ',
          'offset:1&$filter=id ne null',
          'offset:1/../alerts',
          'offset:',
          'offset:1e3',
          'offset:0x10',
        )
        .map((text) => Buffer.from(text).toString('base64url')),
      weight: 2,
    },
  );

  it(`machines(first:, after:) is refused with no call unless both are valid, and then sets only $top/$skip (${RUNS} runs)`, async () => {
    const count = tally();
    await fc.assert(
      fc.asyncProperty(firstArb, cursorArb, async (n, cursor) => {
        const variables = { ...(n !== undefined && { n }), ...(cursor !== undefined && { c: cursor }) };
        const { res, calls } = await run(
          'query($n: Int, $c: String) { machines(first: $n, after: $c) { nodes { id } } }',
          variables,
        );
        const first = n === undefined ? 50 : n;
        const firstValid = typeof first === 'number' && Number.isInteger(first) && first >= 0 && first <= 500;
        const spelled = cursor == null ? 0 : decodedOffset(cursor);
        const returned = spelled !== undefined && (cursor == null || canonicalCursor(spelled) === cursor);
        if (codes(res) !== undefined) {
          count.seen.refused++;
          expectRefused(res, calls);
          expect(firstValid && returned, 'a valid first and a returned cursor were refused').toBe(false);
          return;
        }
        count.seen.accepted++;
        expect(firstValid, 'an invalid first was accepted').toBe(true);
        // A cursor the API did not return may still be accepted only as the position it spells.
        const offset = cursor == null ? 0 : decodedOffset(cursor);
        expect(offset).toBeDefined();
        expect(calls.map((call) => [call.api, call.path])).toEqual([['machines', '/api/machines']]);
        expect(calls[0]!.query).toEqual({
          $top: String((first as number) + 1),
          ...(offset! > 0 && { $skip: String(offset) }),
        });
        expect(calls[0]!.search.split('&')).toHaveLength(offset! > 0 ? 2 : 1);
      }),
      { numRuns: RUNS, examples: PAGING_EXAMPLES },
    );
    count.expectBoth();
  });
});

/** The offset a cursor spells when its base64url text decodes to `offset:<digits>`; undefined otherwise. */
function decodedOffset(cursor: string): number | undefined {
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/**
 * Structural limits (reliability notes §8, items 1–3): documents too deep, too aliased, too long or too big
 * are refused before execution, so they cost no upstream call. Each document below would otherwise be valid
 * and cost at least one call, so a pass cannot come from some other refusal.
 */
describe('structural limits: refused before execution, with no upstream call', () => {
  const unknownMachine = 'f'.repeat(40);
  /** `levels` × `alerts { machine { … } } }` under `machine(id:)`: depth 2·levels + 2 with the leaf. */
  const deep = (levels: number, leaf: string) =>
    Array.from({ length: levels }).reduce<string>((inner) => `{ alerts { machine ${inner} } }`, leaf);
  const fragments = (levels: number, first: string) =>
    Array.from(
      { length: levels },
      (_, i) =>
        `fragment ${i === 0 ? first : `F${i}`} on Machine { alerts { machine ${i === levels - 1 ? '{ id }' : `{ ...F${i + 1} }`} } }`,
    ).join(' ');

  it.each([
    ['in one selection', `query($id: ID!) { machine(id: $id) ${deep(5, '{ id }')} }`],
    ['in named fragments', `query($id: ID!) { machine(id: $id) { ...F0 } } ${fragments(5, 'F0')}`],
    [
      'in a fragment named __schema',
      `query($id: ID!) { machine(id: $id) { ...__schema } } ${fragments(5, '__schema')}`,
    ],
    ['in an operation named __schema', `query __schema($id: ID!) { machine(id: $id) ${deep(5, '{ id }')} }`],
  ])('refuses a query 12 levels deep %s', async (_, query) => {
    const { res, calls } = await run(query, { id: unknownMachine });
    expect(res.status).toBe(400);
    expect(new Set(codes(res))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(res.errors!.some((e) => /depth/i.test(e.message))).toBe(true);
    expect(calls).toEqual([]);
  });

  it('refuses 16 aliases of machine(id:)', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => i.toString(16).repeat(40));
    const fields = ids.map((_, i) => `m${i}: machine(id: $id${i}) { id }`).join(' ');
    const params = ids.map((_, i) => `$id${i}: ID!`).join(', ');
    const variables = Object.fromEntries(ids.map((id, i) => [`id${i}`, id]));
    const { res, calls } = await run(`query(${params}) { ${fields} }`, variables);
    expect([res.status, codes(res)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(calls).toEqual([]);
  });

  it('answers a document of 1,000 tokens, and refuses one of 1,001 with GRAPHQL_VALIDATION_FAILED', async () => {
    const atLimit = await run(documentOfTokens(1_000), {});
    expect(atLimit.res.errors).toBeUndefined();
    expect(atLimit.calls.map((c) => c.api).sort()).toEqual(['alerts', 'machines']);
    const over = await run(documentOfTokens(1_001), {});
    expect([over.res.status, codes(over.res)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(over.calls).toEqual([]);
  });

  it('refuses a 150 kB body with 413', async () => {
    const { res, calls } = await run(
      `# ${'x'.repeat(150_000)}\nquery($id: ID!) { machine(id: $id) { id } }`,
      {
        id: unknownMachine,
      },
    );
    expect(res.status).toBe(413);
    expect(calls).toEqual([]);
  });
});

/**
 * A valid, cheap query of exactly `total` tokens: long filter lists (which no depth, alias or cost rule counts)
 * on `machines` and `alerts`, so only a token limit can refuse it. (The `$filter` each list becomes stays under
 * the simulator's 10,000 characters.)
 */
function documentOfTokens(total: number): string {
  const list = (value: string, n: number) => `[${Array.from({ length: n }, () => value).join(' ')}]`;
  const machineFilter = [
    `ids: ${list(`"${'a'.repeat(40)}"`, 20)}`,
    `osPlatform: ${list('"Linux"', 100)}`,
    `version: ${list('"21H2"', 100)}`,
    `healthStatus: ${list('ACTIVE', 100)}`,
    `riskScore: ${list('HIGH', 100)}`,
    `exposureLevel: ${list('HIGH', 100)}`,
    `onboardingStatus: ${list('ONBOARDED', 100)}`,
    `deviceValue: ${list('HIGH', 100)}`,
    `rbacGroupId: ${list('1', 100)}`,
  ].join(' ');
  const build = (categories: number) =>
    `{ machines(first: 1, filter: { ${machineFilter} }) { nodes { id } } ` +
    `alerts(first: 1, filter: { severity: ${list('HIGH', 100)} category: ${list('"Malware"', categories)} }) ` +
    '{ nodes { id } } }';
  const categories = total - tokenCount(build(0));
  if (categories < 1 || categories > 100) throw new Error(`cannot build a document of ${total} tokens`);
  const document = build(categories);
  expect(tokenCount(document)).toBe(total);
  return document;
}

/** Tokens as graphql-js counts them against `maxTokens` (every token but the end of the document). */
function tokenCount(document: string): number {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}
