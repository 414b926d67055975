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
      'a machine filter with one malformed id among good ones',
      `{ machines(filter: { ids: ["${'a'.repeat(40)}", "${'b'.repeat(39)}"] }) { nodes { id } } }`,
    ],
    [
      'alert filter ids that are a path and junk',
      '{ alerts(filter: { ids: ["../x", "zz"] }) { nodes { id } } }',
    ],
    [
      'an alert filter with one malformed id among good ones',
      '{ alerts(filter: { ids: ["da637472900382838869_1364969609", "da637472900382838869_13649/user"] }) { nodes { id } } }',
    ],
    [
      'an aadDeviceId that is not a GUID',
      '{ machines(filter: { aadDeviceId: "x\' or 1 eq 1" }) { nodes { id } } }',
    ],
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

  it('refuses malformed filter ids given as variables, with no upstream call', async () => {
    const alerts = await gw.query('query($ids: [ID!]) { alerts(filter: { ids: $ids }) { nodes { id } } }', {
      ids: ['../x', 'zz'],
    });
    expect(alerts.errors?.map((e) => [e.extensions?.['code'], e.message])).toEqual([
      [
        'BAD_USER_INPUT',
        '"../x" is not an alert id (like da637472900382838869_1364969609, ar…, or without a prefix).',
      ],
    ]);
    const machines = await gw.query('query($f: MachineFilter) { machines(filter: $f) { nodes { id } } }', {
      f: { ids: ['zz'] },
    });
    expect(machines.errors?.map((e) => e.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    expect(gw.sim.calls).toEqual([]);
  });

  it('accepts every alert id form Defender writes, in a filter and as alert(id:)', async () => {
    const tenant = gw.sim.tenant.alerts.slice(0, 2).map((a) => a.id);
    const others = ['ed638510306555978178_-1528645984', 'faf8edc936-85f8-a603-b800-08d8525cf099'];
    const res = await gw.query('query($ids: [ID!]) { alerts(filter: { ids: $ids }) { nodes { id } } }', {
      ids: [...tenant, ...others],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ alerts: { nodes: tenant.map((id) => ({ id })) } });
    expect(gw.sim.calls.map((c) => [c.api, c.query['$filter']])).toEqual([
      ['alerts', `id in (${[...tenant, ...others].map((id) => `'${id}'`).join(',')})`],
    ]);
    gw.sim.resetCalls();
    const one = await gw.query('{ alert(id: "faf8edc936-85f8-a603-b800-08d8525cf099") { id } }');
    expect(one).toMatchObject({ data: { alert: null } });
    expect(one.errors).toBeUndefined();
    expect(gw.sim.calls.map((c) => [c.api, c.id])).toEqual([
      ['alerts/{id}', 'faf8edc936-85f8-a603-b800-08d8525cf099'],
    ]);
  });

  it('filters by a real aadDeviceId', async () => {
    const machine = gw.sim.tenant.machines.find((m) => m.aadDeviceId !== null)!;
    const res = await gw.query(
      `{ machines(filter: { aadDeviceId: "${machine.aadDeviceId!}" }) { nodes { id } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ machines: { nodes: [{ id: machine.id }] } });
  });

  it.each([
    ['not a date at all', 'yesterday'],
    ['February 30th', '2026-02-30T00:00:00Z'],
    ['April 31st', '2026-04-31T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['month 0', '2026-00-10T00:00:00Z'],
    ['hour 25', '2026-01-01T25:00:00Z'],
    ['hour 24', '2026-01-01T24:00:00Z'],
    ['minute 60', '2026-01-01T10:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['February 29th of a common year', '2023-02-29T00:00:00Z'],
    ['February 29th of a century that is not a leap year', '1900-02-29T00:00:00Z'],
    ['an offset past 14 hours', '2026-01-01T00:00:00+15:00'],
  ])('refuses %s as BAD_USER_INPUT, as a literal and as a variable, with no call', async (_, value) => {
    const literal = await gw.query(`{ alerts(filter: { createdAfter: "${value}" }) { nodes { id } } }`);
    const variable = await gw.query(
      'query($d: DateTime) { alerts(filter: { createdAfter: $d }) { nodes { id } } }',
      {
        d: value,
      },
    );
    const inFilter = await gw.query('query($f: MachineFilter) { machines(filter: $f) { nodes { id } } }', {
      f: { lastSeenBefore: value },
    });
    const expected = {
      status: 400,
      errors: [
        {
          message: `"${value}" is not a DateTime: a real ISO-8601 date-time with seconds, such as 2026-11-01T00:00:00Z.`,
          locations: expect.any(Array),
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    };
    for (const res of [literal, variable, inFilter]) {
      expect({ status: res.status, errors: res.errors }).toEqual(expected);
      expect(res.extensions?.upstream?.calls).toBe(0);
    }
    expect(gw.sim.calls).toEqual([]);
  });

  it.each([
    ['February 29th of a leap year', '2024-02-29T00:00:00Z'],
    ['February 29th of a century that is a leap year', '2000-02-29T23:59:59Z'],
    ['the last second of a year, with 7 fractional digits', '2026-12-31T23:59:59.9999999Z'],
    ['an offset of 14 hours', '2026-01-01T00:00:00+14:00'],
  ])('accepts %s and sends it as written', async (_, value) => {
    const res = await gw.query(
      'query($d: DateTime) { alerts(filter: { createdAfter: $d }) { nodes { id } } }',
      {
        d: value,
      },
    );
    expect(res.errors).toBeUndefined();
    expect(gw.sim.calls.map((c) => c.query['$filter'])).toEqual([`alertCreationTime ge ${value}`]);
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
