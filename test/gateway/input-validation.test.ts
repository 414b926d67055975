import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
beforeEach(() => gw.sim.resetCalls());
afterAll(() => gw.close());

describe('bad input', () => {
  it.each([
    ['a machine id that is neither an id nor a computer name', '{ machine(id: "../alerts") { id } }'],
    ['a machine id with a query string', '{ machine(id: "abc?x=1") { id } }'],
    ['a 41-character hex id', `{ machine(id: "${'a'.repeat(41)}") { id } }`],
    ['an alert id of the wrong form', '{ alert(id: "da123_456") { id } }'],
    ['an alert id with a path', '{ alert(id: "da637472900382838869_1364969609/user") { id } }'],
    ['a user id with a slash', '{ user(id: "contoso\\\\a/b") { machines { id } } }'],
    ['a user id that is a path step', '{ user(id: "..") { machines { id } } }'],
    ['an empty user id', '{ user(id: "") { machines { id } } }'],
    ['first over the cap', '{ machines(first: 501) { nodes { id } } }'],
    ['a negative first', '{ alerts(first: -1) { nodes { id } } }'],
    ['a cursor this API did not return', '{ machines(after: "bm9wZQ") { nodes { id } } }'],
    ['a filter id that is not a machine id', '{ machines(filter: { ids: ["x"] }) { nodes { id } } }'],
    [
      'a filter list over 100 values',
      `{ machines(filter: { osPlatform: [${Array.from({ length: 101 }, (_, i) => `"p${i}"`).join(',')}] }) { nodes { id } } }`,
    ],
    [
      'a filter value with a control character',
      '{ machines(filter: { computerDnsName: "a\\u0000b" }) { nodes { id } } }',
    ],
  ])('answers BAD_USER_INPUT with no upstream call for %s', async (_, query) => {
    const res = await gw.query(query);
    expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(gw.sim.calls).toEqual([]);
  });

  it('answers a malformed literal in the document as a validation failure, and in a variable as bad input', async () => {
    const literal = await gw.query('{ machines(filter: { lastSeenAfter: "yesterday" }) { nodes { id } } }');
    expect(literal.errors?.map((e) => e.extensions?.['code'])).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const variable = await gw.query('query($f: MachineFilter) { machines(filter: $f) { nodes { id } } }', {
      f: { lastSeenAfter: 'yesterday' },
    });
    expect(variable.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(gw.sim.calls).toEqual([]);
  });

  it('keeps a quote in a filter value inside one OData string literal', async () => {
    const res = await gw.query(
      `{ machines(filter: { computerDnsName: "x' or id ne 'y" }) { nodes { id } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ machines: { nodes: [] } });
    expect(gw.sim.calls.map((c) => c.query['$filter'])).toEqual(["computerDnsName eq 'x'' or id ne ''y'"]);
  });

  it('percent-encodes a user name into exactly one path segment', async () => {
    const name = "chris phillips#%2F&x'";
    const res = await gw.query(`query($id: ID!) { user(id: $id) { machines { id } } }`, {
      id: `desktop-1\\${name}`,
    });
    expect(res.errors).toBeUndefined();
    expect(gw.sim.calls.map((c) => [c.api, c.id, c.path])).toEqual([
      ['users/{id}/machines', name, `/api/users/${encodeURIComponent(name)}/machines`],
    ]);
  });
});
