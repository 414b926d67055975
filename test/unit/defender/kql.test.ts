import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAccountName, isMachineId } from '../../../src/defender/ids.js';
import {
  chunks,
  kqlString,
  logonUsersQuery,
  userMachinesQuery,
  userPropertiesQuery,
} from '../../../src/defender/kql.js';
import type { Table } from '../../../src/simulator/kql/evaluate.js';
import { runQuery } from '../../../src/simulator/kql/evaluate.js';
import { parseDateTime } from '../../../src/simulator/kql/values.js';

/**
 * Every value reaches a hunting query as a string literal made by `kqlString`, and the simulator's real KQL
 * parser reads it back as exactly that value: whatever an id or account name holds, the query's meaning stays
 * the same (the value only ever matches itself), and ids that are not valid never reach KQL at all.
 */

const NOW = parseDateTime('2026-11-01T00:00:00Z')!;

/** DeviceLogonEvents with one success per name, each on its own device. */
function logons(names: readonly string[]): Table {
  return {
    columns: [
      { name: 'Timestamp', type: 'datetime' },
      { name: 'DeviceId', type: 'string' },
      { name: 'DeviceName', type: 'string' },
      { name: 'ActionType', type: 'string' },
      { name: 'LogonType', type: 'string' },
      { name: 'AccountDomain', type: 'string' },
      { name: 'AccountName', type: 'string' },
      { name: 'AccountSid', type: 'string' },
      { name: 'AdditionalFields', type: 'string' },
    ],
    rows: names.map((name, i) => [
      NOW - 10_000_000n * 3600n,
      i.toString(16).padStart(40, '0'),
      `host-${i}.contoso.com`,
      'LogonSuccess',
      'Interactive',
      'contoso',
      name,
      `S-1-5-21-${i}`,
      '{}',
    ]),
  };
}

const run = (query: string, table: Table) =>
  runQuery(query, { tables: new Map([['DeviceLogonEvents', table]]), now: NOW });

/** Strings that try to end the literal, the statement or the line, and other awkward text. */
const hostile = fc.oneof(
  fc.constantFrom(
    '"; DeviceInfo | take 1; //',
    '\\"',
    '\\',
    "k.o'neil",
    'first last',
    'line\nbreak',
    'cr\rtab\t',
    'Ünïcødé ☃ 𝄞',
    '") or true or ("',
    '*/ | take 1 /*',
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => s.isWellFormed()),
);

describe('kqlString', () => {
  it('makes a literal the parser reads back as exactly the value, whatever it holds', () => {
    fc.assert(
      fc.property(hostile, fc.array(hostile, { maxLength: 4 }), (value, others) => {
        const table = logons([value, ...others.filter((o) => o !== value)]);
        const result = run(
          `let v = dynamic([${kqlString(value)}]);\nDeviceLogonEvents\n| where AccountName in (v)\n| project AccountName`,
          table,
        );
        expect(result.columns.map((c) => c.name)).toEqual(['AccountName']);
        expect(result.rows).toEqual([[value]]);
      }),
      { numRuns: 300 },
    );
  });

  it('escapes backslash, quote, LF, CR and tab, and nothing else', () => {
    expect(kqlString('a\\b"c\nd\re\tf')).toBe('"a\\\\b\\"c\\nd\\re\\tf"');
    expect(kqlString("k.o'neil ☃")).toBe('"k.o\'neil ☃"');
  });

  it('refuses a lone surrogate, which cannot be sent as UTF-8', () => {
    expect(() => kqlString('\uD800')).toThrow();
  });
});

describe('the hunting queries', () => {
  const accountName = fc.oneof(
    fc.constantFrom("k.o'neil", 'first last', 'Ünïcødé ☃', '-- x', 'x | take 1', '#$%&()!~'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  );

  it('match each account name only to itself (case-insensitively), with the same columns, whatever the names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(accountName, { minLength: 1, maxLength: 5 }), (names) => {
        fc.pre(names.every(isAccountName));
        const decoys = names
          .map((n) => `${n}x`)
          .filter((d) => !names.some((n) => n.toLowerCase() === d.toLowerCase()));
        const result = run(userMachinesQuery(names), logons([...names, ...decoys]));
        expect(result.columns.map((c) => c.name)).toEqual(['AccountName', 'DeviceId', 'DeviceName']);
        const matched = result.rows.map((r) => r[0]).sort();
        const expected = names.map((n) => n.toLowerCase());
        expect(matched).toEqual([...expected].sort());
      }),
      { numRuns: 200 },
    );
  });

  it('never build a query from an id or name the REST routes would refuse', () => {
    expect(() => logonUsersQuery(['"; DeviceInfo | take 1; //'])).toThrow();
    expect(() => logonUsersQuery(['A'.repeat(40)])).toThrow();
    expect(() => userMachinesQuery(['a"b'])).toThrow();
    expect(() => userMachinesQuery(['a\\b'])).toThrow();
    expect(() => userMachinesQuery(['line\nbreak'])).toThrow();
    expect(() => userPropertiesQuery([])).toThrow();
  });

  it('take as machine ids exactly 40 lower-case hex digits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 42 }), (text) => {
        expect(isMachineId(text)).toBe(/^[0-9a-f]{40}$/.test(text));
      }),
    );
    // A machine id, and the same with one character just outside the digits' and letters' ranges.
    const id = fc.stringMatching(/^[0-9a-f]{40}$/);
    fc.assert(
      fc.property(id, (text) => {
        expect(isMachineId(text)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(id, fc.nat(39), fc.constantFrom('/', ':', '`', 'g', 'A', 'F', ' '), (text, at, char) => {
        expect(isMachineId(text.slice(0, at) + char + text.slice(at + 1))).toBe(false);
      }),
    );
    expect(isMachineId('0123456789abcdef0123456789abcdef01234567')).toBe(true);
  });

  it('are the verified shapes, with the ids as literals', () => {
    const id = 'ab'.repeat(20);
    expect(logonUsersQuery([id])).toBe(
      `let ids = dynamic(["${id}"]);\nDeviceLogonEvents\n| where ActionType == "LogonSuccess" and DeviceId in (ids)\n| summarize by DeviceId, AccountDomain, AccountName, AccountSid`,
    );
  });

  it('chunk id lists', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks(Array.from({ length: 401 }, (_, i) => i)).map((c) => c.length)).toEqual([200, 200, 1]);
  });
});
