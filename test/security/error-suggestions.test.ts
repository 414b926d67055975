import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * graphql-js suggests names a client got wrong ("Did you mean the enum value "NEW"?"), which spells out the schema
 * that introspection hides. With `hideSchemaSuggestions` (production) no error message carries one, whichever
 * phase found the mistake: validation, variable coercion, or a literal; without it (the embedded simulator,
 * GraphiQL) they stay, because they help.
 */

/** Mistakes graphql-js answers with a suggestion, each found in a different phase or path. */
const MISTAKES: [string, string, Record<string, unknown>?][] = [
  ['a field name (validation)', '{ machin(id: "x") { id } }'],
  ['an argument name (validation)', '{ alerts(firts: 1) { nodes { id } } }'],
  ['an enum literal (validation)', '{ alerts(filter: { status: [NEWW] }) { nodes { id } } }'],
  ['an input field literal (validation)', '{ alerts(filter: { statuss: [NEW] }) { nodes { id } } }'],
  ['a type name (validation)', 'query($f: AlertFiltr) { alerts(filter: $f) { nodes { id } } }'],
  [
    'an enum value in a variable (coercion)',
    'query($s: [AlertStatus!]) { alerts(filter: { status: $s }) { nodes { id } } }',
    { s: ['NEWW'] },
  ],
  [
    'an input field in a variable (coercion)',
    'query($f: AlertFilter) { alerts(filter: $f) { nodes { id } } }',
    { f: { statuss: ['NEW'] } },
  ],
  [
    'an enum value nested in an input variable (coercion)',
    'query($f: AlertFilter) { alerts(filter: $f) { nodes { id } } }',
    { f: { severity: ['HIHG'] } },
  ],
];

async function post(gw: TestGateway, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as { errors?: { message: string }[] } };
}

describe('with hideSchemaSuggestions (production)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ server: { introspection: false, hideSchemaSuggestions: true } });
  });
  afterAll(() => gw.close());

  it.each(MISTAKES)('suggests nothing for %s, and calls nothing', async (_, query, variables) => {
    const res = await post(gw, query, variables);
    expect(res.status).toBe(400);
    expect(res.json.errors?.length).toBeGreaterThan(0);
    expect(res.text).not.toMatch(/did you mean|suggestion hidden/i);
    expect(gw.sim.calls).toEqual([]);
  });

  it('still says what was wrong, without the suggestion', async () => {
    const enumValue = await post(gw, MISTAKES[5]![1], MISTAKES[5]![2]);
    expect(enumValue.json.errors?.map((e) => e.message)).toEqual([
      'Variable "$s" got invalid value "NEWW" at "s[0]"; Value "NEWW" does not exist in "AlertStatus" enum.',
    ]);
    const field = await post(gw, MISTAKES[6]![1], MISTAKES[6]![2]);
    expect(field.json.errors?.map((e) => e.message)).toEqual([
      'Variable "$f" got invalid value { statuss: ["NEW"] }; Field "statuss" is not defined by type "AlertFilter".',
    ]);
  });
});

describe('without hideSchemaSuggestions (development)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ server: { hideSchemaSuggestions: false } });
  });
  afterAll(() => gw.close());

  it.each(MISTAKES)('keeps the suggestion for %s', async (_, query, variables) => {
    const res = await post(gw, query, variables);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/Did you mean/);
  });

  it('suggests the enum value a variable misspelt', async () => {
    const res = await post(gw, MISTAKES[5]![1], MISTAKES[5]![2]);
    expect(res.json.errors?.map((e) => e.message)).toEqual([
      'Variable "$s" got invalid value "NEWW" at "s[0]"; Value "NEWW" does not exist in "AlertStatus" enum. Did you mean the enum value "NEW"?',
    ]);
  });
});
