import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Table } from '../../src/simulator/kql/evaluate.js';
import { runQuery } from '../../src/simulator/kql/evaluate.js';
import { KqlError } from '../../src/simulator/kql/lexer.js';
import type { Value } from '../../src/simulator/kql/values.js';
import { formatDateTime, parseDateTime, toJson } from '../../src/simulator/kql/values.js';

/**
 * The simulator's KQL on small tables: each construct of `docs/defender-api.md` §8.3 (and what a planner
 * emits), Kusto's string literals, and refusals with a position instead of a crash.
 */

const t = (s: string): bigint => parseDateTime(s)!;
const NOW = t('2026-11-01T00:00:00Z');

const LOGONS: Table = {
  columns: [
    { name: 'Timestamp', type: 'datetime' },
    { name: 'DeviceId', type: 'string' },
    { name: 'ActionType', type: 'string' },
    { name: 'LogonType', type: 'string' },
    { name: 'AccountDomain', type: 'string' },
    { name: 'AccountName', type: 'string' },
    { name: 'AccountSid', type: 'string' },
    { name: 'LogonId', type: 'long' },
    { name: 'AdditionalFields', type: 'string' },
  ],
  rows: [
    [
      t('2026-10-30T10:00:00Z'),
      'd1',
      'LogonSuccess',
      'Interactive',
      'contoso',
      'alice',
      'S-1-5-21-1-1001',
      1,
      '{"TokenHasDomainAdminSid":true}',
    ],
    [
      t('2026-10-31T09:00:00.5Z'),
      'd1',
      'LogonSuccess',
      'Network',
      'contoso',
      'Bob',
      'S-1-5-21-1-1002',
      2,
      '{}',
    ],
    [
      t('2026-10-20T08:00:00Z'),
      'd2',
      'LogonSuccess',
      'RemoteInteractive',
      'contoso',
      'alice',
      'S-1-5-21-1-1001',
      3,
      '',
    ],
    [
      t('2026-10-31T23:00:00Z'),
      'd2',
      'LogonFailed',
      'Batch',
      'contoso',
      'bob',
      '',
      4,
      '{"TokenHasDomainAdminSid":true}',
    ],
    [t('2026-09-01T00:00:00Z'), 'd3', 'LogonSuccess', 'Interactive', 'pc-3', "k.o'neil", '', 5, ''],
    [
      t('2026-10-15T00:00:00Z'),
      'd3',
      'LogonSuccess',
      'Interactive',
      'pc-3',
      'back\\slash "quoted"',
      '',
      6,
      '',
    ],
  ],
};
const INFO: Table = {
  columns: [
    { name: 'DeviceId', type: 'string' },
    { name: 'DeviceName', type: 'string' },
    { name: 'OSPlatform', type: 'string' },
  ],
  rows: [
    ['d1', 'wks-1.contoso.com', 'Windows11'],
    ['d2', 'srv-2.contoso.com', 'WindowsServer2022'],
    ['d4', 'mac-4', 'macOS'],
  ],
};
const tables = new Map([
  ['DeviceLogonEvents', LOGONS],
  ['DeviceInfo', INFO],
]);

/** Runs a query and gives its rows as JSON objects, as the route answers them. */
function rows(query: string): Record<string, unknown>[] {
  const table = runQuery(query, { tables, now: NOW });
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.map((c, i) => [c.name, toJson(row[i]!, c.type)])),
  );
}
function schema(query: string): string[] {
  return runQuery(query, { tables, now: NOW }).columns.map((c) => `${c.name}:${c.type}`);
}
function refusal(query: string): KqlError {
  try {
    runQuery(query, { tables, now: NOW });
  } catch (error) {
    if (error instanceof KqlError) return error;
    throw error;
  }
  throw new Error(`expected a refusal for ${query}`);
}

/** The one escaping rule the gateway follows (§8.3): backslash and double quote, plus line breaks and tabs. */
const literal = (s: string): string =>
  `"${s.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)}"`;

describe('KQL: the relationship queries a planner sends', () => {
  it('answers machine → logon users with summarize by over the successes of a dynamic id list', () => {
    expect(
      rows(
        'let ids = dynamic(["d1", "d2"]);\nDeviceLogonEvents\n| where ActionType == "LogonSuccess" and DeviceId in (ids)\n| summarize by DeviceId, AccountDomain, AccountName, AccountSid\n| order by DeviceId asc, AccountName asc',
      ),
    ).toEqual([
      { DeviceId: 'd1', AccountDomain: 'contoso', AccountName: 'Bob', AccountSid: 'S-1-5-21-1-1002' },
      { DeviceId: 'd1', AccountDomain: 'contoso', AccountName: 'alice', AccountSid: 'S-1-5-21-1-1001' },
      { DeviceId: 'd2', AccountDomain: 'contoso', AccountName: 'alice', AccountSid: 'S-1-5-21-1-1001' },
    ]);
  });

  it('answers user → machines with in~, ignoring case and the failed logons', () => {
    expect(
      rows(
        'let names = dynamic(["BOB"]); DeviceLogonEvents | where ActionType == "LogonSuccess" and AccountName in~ (names) | distinct DeviceId, AccountName',
      ),
    ).toEqual([{ DeviceId: 'd1', AccountName: 'Bob' }]);
  });

  it('derives user properties with max, make_set, dcount, countif over parse_json and arg_max', () => {
    const query = `DeviceLogonEvents
      | where ActionType == "LogonSuccess" and Timestamp > ago(30d)
      | summarize lastSeen = max(Timestamp), logonTypes = make_set(LogonType),
          logonTypesText = strcat_array(array_sort_asc(make_set(LogonType)), ", "),
          logOnMachinesCount = dcount(DeviceId),
          domainAdminLogons = countif(tobool(parse_json(AdditionalFields).TokenHasDomainAdminSid)),
          accountSid = take_any(AccountSid)
        by AccountDomain, AccountName
      | extend isDomainAdmin = domainAdminLogons > 0, isOnlyNetworkUser = logonTypesText == "Network"
      | where AccountName =~ "alice"`;
    expect(rows(query)).toEqual([
      {
        AccountDomain: 'contoso',
        AccountName: 'alice',
        lastSeen: '2026-10-30T10:00:00.0000000Z',
        logonTypes: ['Interactive', 'RemoteInteractive'],
        logonTypesText: 'Interactive, RemoteInteractive',
        logOnMachinesCount: 2,
        domainAdminLogons: 1,
        accountSid: 'S-1-5-21-1-1001',
        isDomainAdmin: true,
        isOnlyNetworkUser: false,
      },
    ]);
    expect(schema(query)).toEqual([
      'AccountDomain:string',
      'AccountName:string',
      'lastSeen:datetime',
      'logonTypes:dynamic',
      'logonTypesText:string',
      'logOnMachinesCount:long',
      'domainAdminLogons:long',
      'accountSid:string',
      'isDomainAdmin:bool',
      'isOnlyNetworkUser:bool',
    ]);
  });

  it('keeps the latest row per group with arg_max(col, *) and arg_max(col, a, b)', () => {
    expect(
      rows(
        'DeviceLogonEvents | summarize arg_max(Timestamp, LogonType, LogonId) by DeviceId | order by DeviceId asc',
      ),
    ).toEqual([
      { DeviceId: 'd1', Timestamp: '2026-10-31T09:00:00.5000000Z', LogonType: 'Network', LogonId: 2 },
      { DeviceId: 'd2', Timestamp: '2026-10-31T23:00:00.0000000Z', LogonType: 'Batch', LogonId: 4 },
      { DeviceId: 'd3', Timestamp: '2026-10-15T00:00:00.0000000Z', LogonType: 'Interactive', LogonId: 6 },
    ]);
    expect(schema('DeviceLogonEvents | summarize arg_max(Timestamp, *) by DeviceId')).toEqual([
      'DeviceId:string',
      'Timestamp:datetime',
      ...LOGONS.columns.slice(2).map((c) => `${c.name}:${c.type}`),
    ]);
  });

  it('joins kind=inner on a shared column and on $left.a == $right.b, suffixing clashing names', () => {
    const inner = rows(
      'DeviceLogonEvents | where ActionType == "LogonSuccess" | distinct DeviceId | join kind=inner (DeviceInfo | project DeviceId, DeviceName) on DeviceId | order by DeviceId asc',
    );
    expect(inner).toEqual([
      { DeviceId: 'd1', DeviceId1: 'd1', DeviceName: 'wks-1.contoso.com' },
      { DeviceId: 'd2', DeviceId1: 'd2', DeviceName: 'srv-2.contoso.com' },
    ]);
    expect(
      rows(
        'DeviceInfo | project Id = DeviceId | join kind=leftanti (DeviceLogonEvents) on $left.Id == $right.DeviceId',
      ),
    ).toEqual([{ Id: 'd4' }]);
    // Kusto's default join (innerunique) keeps one left row per key.
    expect(
      rows('DeviceLogonEvents | project DeviceId | join (DeviceInfo | project DeviceId) on DeviceId | count'),
    ).toEqual([{ Count: 2 }]);
  });
});

describe('KQL: operators and functions', () => {
  it('filters with ==, !=, =~, !~, in, !in, has, contains, startswith, not(), isnotempty() and comparisons', () => {
    const ids = (where: string) =>
      rows(`DeviceLogonEvents | where ${where} | project LogonId`).map((r) => r['LogonId']);
    expect(ids('AccountName == "alice"')).toEqual([1, 3]);
    expect(ids('AccountName != "alice" and AccountDomain == "contoso"')).toEqual([2, 4]);
    expect(ids('AccountName =~ "BOB"')).toEqual([2, 4]);
    expect(ids('AccountName !~ "BOB" and AccountDomain =~ "CONTOSO"')).toEqual([1, 3]);
    expect(ids('LogonId in (1, 5)')).toEqual([1, 5]);
    expect(ids('DeviceId !in ("d1", "d2")')).toEqual([5, 6]);
    expect(ids('AccountSid has "1002"')).toEqual([2]);
    expect(ids('AccountSid has "100"')).toEqual([]);
    expect(ids('AccountSid contains "100"')).toEqual([1, 2, 3]);
    expect(ids('AccountName startswith "B"')).toEqual([2, 4, 6]);
    expect(ids('not(ActionType == "LogonSuccess")')).toEqual([4]);
    expect(ids('isnotempty(AccountSid) or LogonId >= 6')).toEqual([1, 2, 3, 6]);
    expect(
      ids('Timestamp >= datetime(2026-10-30) and Timestamp < datetime("2026-10-31T09:00:00.5Z")'),
    ).toEqual([1]);
    expect(ids('Timestamp <= ago(30d)')).toEqual([5]);
    expect(ids('tolower(AccountName) == "bob" and LogonId > 2')).toEqual([4]);
  });

  it('projects with renames and expressions, extends, project-away, project-rename, take, top, count', () => {
    expect(
      rows(
        'DeviceInfo | project Name = tolower(DeviceName), DeviceId, Column = strcat(DeviceId, "/", OSPlatform) | take 1',
      ),
    ).toEqual([{ Name: 'wks-1.contoso.com', DeviceId: 'd1', Column: 'd1/Windows11' }]);
    expect(
      schema('DeviceInfo | extend Upper = toupper(OSPlatform), DeviceName = "x" | project-away DeviceId'),
    ).toEqual(['DeviceName:string', 'OSPlatform:string', 'Upper:string']);
    expect(rows('DeviceInfo | project-rename Id = DeviceId | project Id | limit 2')).toEqual([
      { Id: 'd1' },
      { Id: 'd2' },
    ]);
    expect(rows('DeviceLogonEvents | top 2 by LogonId asc | project LogonId')).toEqual([
      { LogonId: 1 },
      { LogonId: 2 },
    ]);
    expect(rows('DeviceLogonEvents | sort by Timestamp desc | take 1 | project LogonId')).toEqual([
      { LogonId: 4 },
    ]);
    expect(rows('DeviceLogonEvents | where LogonId > 100 | count')).toEqual([{ Count: 0 }]);
    expect(rows('DeviceLogonEvents | summarize count(), min(Timestamp), n = dcount(AccountName)')).toEqual([
      { count_: 6, min_Timestamp: '2026-09-01T00:00:00.0000000Z', n: 5 },
    ]);
  });

  it('collects with make_set_if and reads dynamic arrays and objects from let', () => {
    expect(
      rows(
        'let conf = dynamic({"types": ["Network"], "max": 3}); DeviceLogonEvents | summarize s = make_set_if(AccountName, LogonType in (conf.types)), n = take_any(toint(conf["max"]))',
      ),
    ).toEqual([{ s: ['Bob'], n: 3 }]);
  });

  it('binds scalar and tabular lets, and a let of a let', () => {
    expect(
      rows(
        'let since = ago(1d); let cutoff = since; let recent = DeviceLogonEvents | where Timestamp > cutoff; recent | project LogonId',
      ),
    ).toEqual([{ LogonId: 2 }, { LogonId: 4 }]);
  });
});

describe('KQL: string literals', () => {
  it('reads double, single and verbatim quotes with backslash escapes as Kusto does', () => {
    const names = (where: string) =>
      rows(`DeviceLogonEvents | where ${where} | project AccountName`).map((r) => r['AccountName']);
    expect(names(`AccountName == 'k.o\\'neil'`)).toEqual(["k.o'neil"]);
    expect(names(`AccountName == "k.o'neil"`)).toEqual(["k.o'neil"]);
    expect(names(`AccountName == @"back\\slash ""quoted"""`)).toEqual(['back\\slash "quoted"']);
    expect(names(`AccountName == "back\\\\slash \\"quoted\\""`)).toEqual(['back\\slash "quoted"']);
    expect(names(`AccountName == "k.o" "'neil" // adjacent literals join; this is a comment`)).toEqual([
      "k.o'neil",
    ]);
  });

  it('keeps hostile text inside an escaped literal as data, never as query', () => {
    for (const hostile of [
      '"; DeviceInfo | take 1; //',
      "k.o'neil",
      'back\\slash "quoted"',
      '\\"); DeviceInfo | count //',
      'line\nbreak | take 1',
      'ünïcødé 名前 \u{1F600}',
      '\\',
    ]) {
      const result = runQuery(
        `DeviceLogonEvents | where AccountName == ${literal(hostile)} | project AccountName`,
        {
          tables,
          now: NOW,
        },
      );
      const expected = LOGONS.rows.filter((r) => r[5] === hostile).map((r) => ({ AccountName: r[5] }));
      expect(result.columns.map((c) => c.name)).toEqual(['AccountName']);
      expect(result.rows.map((r) => ({ AccountName: r[0] }))).toEqual(expected);
    }
  });

  it('refuses an unknown escape and an unterminated or line-broken literal instead of guessing', () => {
    expect(refusal('DeviceInfo | where DeviceName == "a\\d"').message).toMatch(
      /Invalid escape sequence '\\d'/,
    );
    expect(refusal('DeviceInfo | where DeviceName == "abc').message).toMatch(/Unterminated string literal/);
    expect(refusal('DeviceInfo | where DeviceName == "a\nb"').message).toMatch(/Unterminated string literal/);
  });
});

describe('KQL: refusals', () => {
  it('names the unknown table, column or function and points at it', () => {
    expect(refusal('DeviceEvents | take 1')).toMatchObject({
      message: "Failed to resolve table or column expression named 'DeviceEvents'",
      offset: 0,
    });
    expect(refusal('DeviceInfo | where Nope == 1')).toMatchObject({
      message: "'where' operator: Failed to resolve scalar expression named 'Nope'",
      offset: 19,
    });
    expect(refusal('DeviceInfo | extend x = frobnicate(DeviceId)').message).toBe(
      "'extend' operator: Unknown function: 'frobnicate'",
    );
  });

  it('refuses syntax errors, unsupported operators, type mismatches and a second result set', () => {
    expect(refusal('DeviceInfo | wher DeviceId == "d1"')).toMatchObject({
      message: "Query could not be parsed at 'wher': expected a query operator after |",
      offset: 13,
    });
    expect(refusal('DeviceInfo | mv-expand x').message).toBe(
      "The operator 'mv-expand' is not supported by this simulator",
    );
    expect(refusal('DeviceLogonEvents | where LogonId == "1"').message).toMatch(
      /Cannot apply '==' to values of types long and string/,
    );
    expect(refusal('DeviceInfo | where DeviceId').message).toMatch(
      /predicate must be of type bool, not string/,
    );
    expect(refusal('DeviceInfo; DeviceInfo').message).toMatch(/only one tabular expression statement/);
    expect(refusal('let x = 1;').message).toMatch(/no tabular expression statement/);
    expect(refusal('DeviceInfo | summarize DeviceId').message).toMatch(/outside an aggregation/);
    expect(refusal('DeviceInfo | where count() > 1').message).toMatch(/aggregation function/);
    expect(refusal(`DeviceInfo | where ${'('.repeat(200)}true${')'.repeat(200)}`).message).toMatch(
      /nested too deeply/,
    );
  });

  it('runs a long or-chain a planner might send, and refuses one too deep to evaluate safely', () => {
    const chain = (n: number) =>
      `DeviceLogonEvents | where ${Array.from({ length: n }, (_, i) => `LogonId == ${i}`).join(' or ')} | count`;
    expect(rows(chain(600))).toEqual([{ Count: 6 }]);
    expect(refusal(chain(5000)).message).toBe('The expression is nested too deeply');
    expect(refusal(`DeviceInfo | extend x = parse_json("{}")${'.a'.repeat(5000)}`).message).toBe(
      'The expression is nested too deeply',
    );
  });

  it('compares dynamic values with datetimes and numbers without failing', () => {
    expect(
      rows('DeviceLogonEvents | where parse_json("[1]") == Timestamp or parse_json("2") < Timestamp | count'),
    ).toEqual([{ Count: 0 }]);
    expect(rows('DeviceLogonEvents | where LogonId in (dynamic([1, [2], {"a": 3}]), 2) | count')).toEqual([
      { Count: 2 },
    ]);
  });

  it('refuses a runaway join past its row budget', () => {
    const big: Table = {
      columns: [{ name: 'k', type: 'long' }],
      rows: Array.from({ length: 200 }, () => [1] as Value[]),
    };
    const error = (() => {
      try {
        runQuery('T | join kind=inner (T) on k', {
          tables: new Map([['T', big]]),
          now: NOW,
          maxIntermediateRows: 10_000,
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KqlError);
    expect((error as KqlError).message).toMatch(/more than 10000 rows/);
  });

  it('never throws anything but a KqlError, whatever the text (property)', () => {
    const fragments = fc.constantFrom(
      'DeviceLogonEvents',
      'DeviceInfo',
      '|',
      'where',
      'summarize',
      'by',
      'project',
      'extend',
      'join',
      'kind=inner',
      'on',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ';',
      '=',
      '==',
      '=~',
      '!in~',
      'in',
      'has',
      'and',
      'or',
      'not(',
      'let',
      'x',
      'dynamic([',
      '"a"',
      "'b'",
      '@"c"',
      '"\\',
      '1',
      '30d',
      'ago(',
      'datetime(2026-10-01)',
      'arg_max(',
      '*',
      'count()',
      'make_set(',
      'DeviceId',
      'Timestamp',
      '$left.',
      '.',
      '//',
      '\n',
      'take',
      'order by',
      'desc',
      '-',
    );
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fragments, { maxLength: 25 }).map((parts) => parts.join(' ')),
      fc.array(fragments, { maxLength: 25 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (query) => {
        try {
          const result = runQuery(query, { tables, now: NOW });
          expect(Array.isArray(result.rows)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(KqlError);
          expect((error as KqlError).offset).toBeGreaterThanOrEqual(0);
          expect((error as KqlError).offset).toBeLessThanOrEqual(query.length);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('KQL: values', () => {
  it('prints datetimes with seven fractional digits and reads the date forms Kusto accepts', () => {
    expect(formatDateTime(t('2026-10-03T11:22:33.1234567Z'))).toBe('2026-10-03T11:22:33.1234567Z');
    expect(formatDateTime(t('2026-10-03'))).toBe('2026-10-03T00:00:00.0000000Z');
    expect(formatDateTime(t('2026-10-03 11:22'))).toBe('2026-10-03T11:22:00.0000000Z');
    expect(parseDateTime('2026-02-30')).toBeNull();
    expect(parseDateTime('yesterday')).toBeNull();
  });
});
