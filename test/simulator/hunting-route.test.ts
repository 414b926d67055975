import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MachineDto, UserDto } from '../../src/defender/types.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import { readSimulatorEnv } from '../../src/simulator/config.js';
import type { Simulator } from '../../src/simulator/server.js';
import type { HttpAnswer } from '../helpers/http.js';
import { values } from '../helpers/http.js';
import { TOKEN, call, testSimulator } from '../helpers/simulator.js';

/**
 * Advanced hunting on the simulator (`docs/defender-api.md` §8): the queries a planner sends give exactly the
 * relationships and derivable user properties the REST routes give (§8.2), literals stay data, and the route
 * behaves like Graph's: its shape, errors, throttle, visibility, faults and call log.
 */

const LIMITED = 'limited-token';
const OTHER = 'other-app-token';

interface HuntingResult {
  '@odata.context': string;
  schema: { name: string; type: string }[];
  results: Record<string, unknown>[];
}

async function hunt(
  sim: Simulator,
  body: unknown,
  options: { token?: string | null; path?: string; contentType?: string; method?: string } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/json' };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  const res = await fetch(`${sim.url}${options.path ?? '/v1.0/security/runHuntingQuery'}`, {
    method: options.method ?? 'POST',
    headers,
    ...(options.method === 'GET' ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function results(sim: Simulator, query: string, token = TOKEN): Promise<Record<string, unknown>[]> {
  const answer = await hunt(sim, { Query: query }, { token });
  expect(answer.status, answer.text).toBe(200);
  return (answer.json as HuntingResult).results;
}

/** The planner's escaping (§8.3): backslash and double quote, line breaks and tabs, inside double quotes. */
const literal = (s: string): string =>
  `"${s.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)}"`;
const list = (items: readonly string[]): string => `dynamic([${items.map(literal).join(', ')}])`;

/** Every `step`-th item, so a sample spreads over the whole tenant. */
const spread = <T>(items: readonly T[], count: number): T[] =>
  items.filter((_, i) => i % Math.max(1, Math.floor(items.length / count)) === 0).slice(0, count);

const userKey = (domain: unknown, name: unknown): string =>
  `${String(domain)}\\${String(name)}`.toLowerCase();

let sim: Simulator;
let groups: Set<number>;
beforeAll(async () => {
  sim = await testSimulator({
    tokens: [{ token: TOKEN }, { token: OTHER }, { token: LIMITED, rbacGroupIds: [] }],
  });
  const ids = sim.tenant.deviceGroups.map((g) => g.id).filter((id) => id !== 0);
  groups = new Set(ids.slice(0, 2));
  await sim.close();
  sim = await testSimulator({
    tokens: [{ token: TOKEN }, { token: OTHER }, { token: LIMITED, rbacGroupIds: [...groups] }],
  });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.clearFaults();
  sim.resetThrottle();
  sim.resetCalls();
});

describe('advanced hunting agrees with the REST routes (§8.2)', () => {
  it('gives each machine the logon users of machines/{id}/logonusers', async () => {
    const withUsers = sim.tenant.machines.filter((m) => sim.tenant.logonUsers(m.id).length > 0);
    const without = sim.tenant.machines.filter((m) => sim.tenant.logonUsers(m.id).length === 0);
    const sample = [...spread(withUsers, 40), ...without.slice(0, 3)];
    const rows = await results(
      sim,
      `let ids = ${list(sample.map((m) => m.id))};
DeviceLogonEvents
| where ActionType == "LogonSuccess" and DeviceId in (ids)
| summarize by DeviceId, AccountDomain, AccountName, AccountSid`,
    );
    for (const machine of sample) {
      const rest = values<UserDto>(await call(sim, `/api/machines/${machine.id}/logonusers`));
      const hunted = rows.filter((r) => r['DeviceId'] === machine.id);
      expect(hunted.map((r) => userKey(r['AccountDomain'], r['AccountName'])).sort()).toEqual(
        rest.map((u) => u.id.toLowerCase()).sort(),
      );
      for (const row of hunted) {
        const user = rest.find(
          (u) => u.id.toLowerCase() === userKey(row['AccountDomain'], row['AccountName']),
        )!;
        expect([row['AccountDomain'], row['AccountName'], row['AccountSid'] || null]).toEqual([
          user.accountDomain,
          user.accountName,
          user.accountSid,
        ]);
      }
    }
    expect(rows.length).toBeGreaterThan(40);
  });

  it('gives each account name the machines of users/{name}/machines, across domains and ignoring case', async () => {
    const names = [...new Set(sim.tenant.users.map((u) => u.accountName))];
    // Shared names (administrator in every domain and on machines) and case changes are the hard cases.
    const sample = [...spread(names, 30), 'administrator', 'ADMINISTRATOR', 'root', 'no-such-account'];
    const rows = await results(
      sim,
      `let names = ${list(sample)};
DeviceLogonEvents
| where ActionType == "LogonSuccess" and AccountName in~ (names)
| summarize by AccountName = tolower(AccountName), DeviceId`,
    );
    for (const name of sample) {
      const rest = values<MachineDto>(await call(sim, `/api/users/${encodeURIComponent(name)}/machines`));
      const hunted = rows.filter((r) => r['AccountName'] === name.toLowerCase()).map((r) => r['DeviceId']);
      expect(hunted.sort(), name).toEqual(rest.map((m) => m.id).sort());
    }
    expect(rows.some((r) => r['AccountName'] === 'administrator')).toBe(true);
  });

  it("derives every user's accountSid, lastSeen, logonTypes, isOnlyNetworkUser, logOnMachinesCount and isDomainAdmin", async () => {
    const rows = await results(
      sim,
      `DeviceLogonEvents
| where ActionType == "LogonSuccess"
| summarize accountSid = take_any(AccountSid), lastSeen = max(Timestamp), logonTypes = make_set(LogonType),
    logOnMachinesCount = dcount(DeviceId),
    domainAdminLogons = countif(tobool(parse_json(AdditionalFields).TokenHasDomainAdminSid))
  by AccountDomain, AccountName`,
    );
    const users = sim.tenant.users.filter((u) => (u.logOnMachinesCount ?? 0) > 0);
    expect(rows).toHaveLength(users.length);
    for (const user of users) {
      const row = rows.find((r) => userKey(r['AccountDomain'], r['AccountName']) === user.id.toLowerCase());
      expect(row, user.id).toBeDefined();
      const types = [...(row!['logonTypes'] as string[])].sort();
      expect({
        accountSid: (row!['accountSid'] as string) || null,
        lastSeen: new Date(row!['lastSeen'] as string).toISOString().replace('.000Z', 'Z'),
        logonTypes: types.join(', '),
        isOnlyNetworkUser: types.every((t) => t === 'Network'),
        logOnMachinesCount: row!['logOnMachinesCount'],
        isDomainAdmin: (row!['domainAdminLogons'] as number) > 0,
      }).toEqual({
        accountSid: user.accountSid,
        lastSeen: user.lastSeen,
        logonTypes: user.logonTypes,
        isOnlyNetworkUser: user.isOnlyNetworkUser,
        logOnMachinesCount: user.logOnMachinesCount,
        isDomainAdmin: user.isDomainAdmin,
      });
    }
  });

  it('answers the per-account property query for a list of accounts, with the REST string form of logonTypes', async () => {
    const sample = spread(
      sim.tenant.users.filter((u) => (u.logOnMachinesCount ?? 0) > 0),
      25,
    );
    const rows = await results(
      sim,
      `let names = ${list(sample.map((u) => u.accountName))};
DeviceLogonEvents
| where Timestamp > ago(30d) and ActionType == "LogonSuccess" and AccountName in~ (names)
| summarize lastSeen = max(Timestamp), logonTypes = strcat_array(array_sort_asc(make_set(LogonType)), ", "),
    logOnMachinesCount = dcount(DeviceId), accountSid = take_any(AccountSid),
    isDomainAdmin = countif(tostring(parse_json(AdditionalFields).TokenHasDomainAdminSid) == "true") > 0
  by AccountDomain, AccountName
| extend isOnlyNetworkUser = logonTypes == "Network"
| order by AccountDomain asc, AccountName asc`,
    );
    for (const user of sample) {
      const row = rows.find((r) => userKey(r['AccountDomain'], r['AccountName']) === user.id.toLowerCase())!;
      expect(row, user.id).toMatchObject({
        logonTypes: user.logonTypes,
        logOnMachinesCount: user.logOnMachinesCount,
        isDomainAdmin: user.isDomainAdmin,
        isOnlyNetworkUser: user.isOnlyNetworkUser,
      });
      expect(Date.parse(row['lastSeen'] as string)).toBe(Date.parse(user.lastSeen));
    }
  });

  it('keeps failed logons out of every relationship, though the table holds them', async () => {
    const [failed] = await results(sim, 'DeviceLogonEvents | where ActionType == "LogonFailed" | count');
    expect(failed!['Count']).toBeGreaterThan(50);
    const rows = await results(
      sim,
      'DeviceLogonEvents | where ActionType == "LogonFailed" | distinct DeviceId, AccountDomain, AccountName',
    );
    const strangers = rows.filter(
      (r) =>
        !sim.tenant
          .logonUsers(r['DeviceId'] as string)
          .some((u) => u.id.toLowerCase() === userKey(r['AccountDomain'], r['AccountName'])),
    );
    expect(strangers.length).toBeGreaterThan(0);
  });
});

describe('advanced hunting: literals are data', () => {
  it('treats hostile text inside an escaped literal as a value that matches nothing', async () => {
    const user = sim.tenant.users.find((u) => (u.logOnMachinesCount ?? 0) > 1)!;
    const hostile = [
      '"; DeviceInfo | take 1; //',
      '\\"; DeviceInfo | take 1; //',
      "k.o'neil",
      'back\\slash',
      '\\',
      '"',
      'line\nbreak | count',
      'ünïcødé 名前 \u{1F600}',
      `${user.accountName}" or AccountName != "`,
    ];
    for (const text of hostile) {
      const rows = await results(
        sim,
        `DeviceLogonEvents | where ActionType == "LogonSuccess" and AccountName =~ ${literal(text)} | summarize by DeviceId`,
      );
      expect(rows, text).toEqual([]);
    }
    const rows = await results(
      sim,
      `let names = ${list([...hostile, user.accountName])};
DeviceLogonEvents | where ActionType == "LogonSuccess" and AccountName in~ (names) | summarize by DeviceId`,
    );
    const rest = values<MachineDto>(
      await call(sim, `/api/users/${encodeURIComponent(user.accountName)}/machines`),
    );
    expect(rows.map((r) => r['DeviceId']).sort()).toEqual(rest.map((m) => m.id).sort());
  });

  it('refuses the same text pasted in unescaped, with a 400 rather than a second result set', async () => {
    const answer = await hunt(sim, {
      Query: 'DeviceLogonEvents | where AccountName == ""; DeviceInfo | take 1; //"',
    });
    expect(answer.status).toBe(400);
    expect((answer.json as { error: { message: string } }).error.message).toMatch(
      /only one tabular expression statement/,
    );
  });
});

describe('advanced hunting: the route', () => {
  it("answers Graph's shape with .NET type names, on v1.0 and beta", async () => {
    const id = sim.tenant.machines.find((m) => sim.tenant.logonUsers(m.id).length > 0)!.id;
    const query = `DeviceLogonEvents | where DeviceId == ${literal(id)} | summarize arg_max(Timestamp, *) by DeviceId`;
    for (const version of ['v1.0', 'beta']) {
      const answer = await hunt(
        sim,
        { Query: query, Timespan: 'P30D' },
        { path: `/${version}/security/runHuntingQuery` },
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      const body = answer.json as HuntingResult;
      expect(body['@odata.context']).toBe(
        `${sim.url}/${version}/$metadata#microsoft.graph.security.huntingQueryResults`,
      );
      expect(body.schema.slice(0, 6)).toEqual([
        { name: 'DeviceId', type: 'String' },
        { name: 'Timestamp', type: 'DateTime' },
        { name: 'DeviceName', type: 'String' },
        { name: 'ActionType', type: 'String' },
        { name: 'LogonType', type: 'String' },
        { name: 'AccountDomain', type: 'String' },
      ]);
      expect(body.schema.find((c) => c.name === 'IsLocalAdmin')?.type).toBe('Boolean');
      expect(body.schema.find((c) => c.name === 'LogonId')?.type).toBe('Int64');
      expect(body.results).toHaveLength(1);
      expect(body.results[0]!['Timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
      expect(Object.keys(body.results[0]!)).toEqual(body.schema.map((c) => c.name));
    }
  });

  it('serves DeviceInfo, one row per device seen in the window, matching the machine', async () => {
    const rows = await results(
      sim,
      'DeviceInfo | project DeviceId, DeviceName, OSPlatform, MachineGroup, OnboardingStatus',
    );
    expect(rows.length).toBeGreaterThan(500);
    expect(new Set(rows.map((r) => r['DeviceId'])).size).toBe(rows.length);
    for (const row of spread(rows, 20)) {
      const machine = sim.tenant.machineById(row['DeviceId'] as string)!;
      expect(row).toEqual({
        DeviceId: machine.id,
        DeviceName: (machine.computerDnsName ?? '').toLowerCase(),
        OSPlatform: machine.osPlatform,
        MachineGroup: machine.rbacGroupName ?? '',
        OnboardingStatus: machine.onboardingStatus,
      });
    }
  });

  it('limits rows to the Timespan, and never past 30 days', async () => {
    const now = sim.tenant.now.getTime();
    const earliest = async (timespan?: string) => {
      const answer = await hunt(sim, {
        Query: 'DeviceLogonEvents | summarize first = min(Timestamp), n = count()',
        ...(timespan ? { Timespan: timespan } : {}),
      });
      expect(answer.status, answer.text).toBe(200);
      const [row] = (answer.json as HuntingResult).results;
      return { first: Date.parse(row!['first'] as string), n: row!['n'] as number };
    };
    const day = 86_400_000;
    const all = await earliest();
    const week = await earliest('P7D');
    expect(all.first).toBeGreaterThanOrEqual(now - 30 * day);
    expect(all.first).toBeLessThan(now - 20 * day);
    expect(week.first).toBeGreaterThanOrEqual(now - 7 * day);
    expect(week.n).toBeLessThan(all.n);
    expect((await earliest('P90D')).n).toBe(all.n);
    const interval = await earliest(`${new Date(now - 3 * day).toISOString()}/P1D`);
    expect(interval.first).toBeGreaterThanOrEqual(now - 3 * day);
    expect((await hunt(sim, { Query: 'DeviceInfo', Timespan: 'last week' })).status).toBe(400);
  });

  it("answers 400 in Graph's error shape for KQL it cannot run, pointing at the spot", async () => {
    const cases: [string, RegExp][] = [
      [
        'DeviceLogonEvents | wher DeviceId == "x"',
        /^Query could not be parsed at 'wher'.*\(line 1, column 21\)$/,
      ],
      [
        'DeviceLogonEvents\n| where Nope == 1',
        /Failed to resolve scalar expression named 'Nope' \(line 2, column 9\)$/,
      ],
      ['DeviceEvents | take 1', /Failed to resolve table or column expression named 'DeviceEvents'/],
      ['DeviceInfo | where DeviceId == "unterminated', /Unterminated string literal/],
      ['DeviceInfo | mv-expand x', /not supported/],
    ];
    for (const [query, message] of cases) {
      const answer = await hunt(sim, { Query: query });
      expect(answer.status, query).toBe(400);
      const body = answer.json as { error: { code: string; message: string; innerError: object } };
      expect(body.error.code).toBe('BadRequest');
      expect(body.error.message).toMatch(message);
      expect(body.error.innerError).toHaveProperty('request-id');
    }
  });

  it('answers any text with 200 or 400, never a crash (property)', async () => {
    const loose = await testSimulator({ huntingRateLimits: parseRateLimits('100000/60s') });
    try {
      const fragment = fc.constantFrom(
        'DeviceLogonEvents',
        'DeviceInfo',
        '|',
        'where',
        'summarize',
        'by',
        'join',
        '(',
        ')',
        '"',
        "'",
        '\\',
        'dynamic([',
        ']',
        'in~',
        '==',
        'ago(30d)',
        'arg_max(Timestamp, *)',
        ';',
        'let x =',
        'take 1',
        '//',
        '\n',
      );
      const query = fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.array(fragment, { maxLength: 20 }).map((p) => p.join(' ')),
      );
      await fc.assert(
        fc.asyncProperty(query, async (text) => {
          const answer = await hunt(loose, { Query: text });
          expect([200, 400]).toContain(answer.status);
          if (answer.status === 400)
            expect((answer.json as { error: { code: string } }).error.code).toBe('BadRequest');
        }),
        { numRuns: 150 },
      );
    } finally {
      await loose.close();
    }
  });

  it('answers 400 for a body without a Query, not JSON, or not sent as JSON', async () => {
    for (const [body, contentType] of [
      [{ Timespan: 'P1D' }, undefined],
      [{ Query: 42 }, undefined],
      ['{"Query": ', undefined],
      [{ Query: 'DeviceInfo | take 1' }, 'text/plain'],
    ] as const) {
      const answer = await hunt(sim, body, contentType ? { contentType } : {});
      expect(answer.status).toBe(400);
      expect((answer.json as { error: { code: string } }).error.code).toBe('BadRequest');
    }
  });

  it('refuses a result over 100,000 rows, as Graph does', async () => {
    const answer = await hunt(sim, {
      Query:
        'DeviceLogonEvents | project k = 1 | join kind=inner (DeviceInfo | project k = 1 | take 40) on k | project k',
    });
    expect(answer.status).toBe(400);
    expect((answer.json as { error: { message: string } }).error.message).toMatch(/over the limit of 100000/);
  });

  it('requires a known bearer token and POST', async () => {
    const anonymous = await hunt(sim, { Query: 'DeviceInfo | take 1' }, { token: null });
    expect(anonymous.status).toBe(401);
    expect((anonymous.json as { error: { code: string } }).error.code).toBe('InvalidAuthenticationToken');
    expect((await hunt(sim, { Query: 'DeviceInfo | take 1' }, { token: 'forged' })).status).toBe(401);
    expect((await hunt(sim, undefined, { method: 'GET' })).status).toBe(405);
  });

  it('logs each call as api hunting with its KQL text and Timespan', async () => {
    const query = 'DeviceInfo | where DeviceName startswith "wks" | take 3';
    await hunt(sim, { Query: query, Timespan: 'P7D' });
    await hunt(sim, { Query: 'DeviceInfo | oops' });
    await hunt(sim, { Query: query }, { token: null });
    expect(sim.calls.map((c) => [c.api, c.method, c.kql, c.timespan, c.status, c.caller])).toEqual([
      ['hunting', 'POST', query, 'P7D', 200, TOKEN],
      ['hunting', 'POST', 'DeviceInfo | oops', undefined, 400, TOKEN],
      ['hunting', 'POST', query, undefined, 401, null],
    ]);
  });
});

describe('advanced hunting: visibility', () => {
  it('shows a token limited to device groups only the rows of its devices', async () => {
    const visible = (id: unknown) => groups.has(sim.tenant.machineById(id as string)!.rbacGroupId);
    const logons = await results(sim, 'DeviceLogonEvents | distinct DeviceId', LIMITED);
    const devices = await results(sim, 'DeviceInfo | distinct DeviceId', LIMITED);
    const everything = await results(sim, 'DeviceLogonEvents | distinct DeviceId');
    expect(logons.length).toBeGreaterThan(0);
    expect(logons.length).toBeLessThan(everything.length);
    expect(logons.every((r) => visible(r['DeviceId']))).toBe(true);
    expect(devices.every((r) => visible(r['DeviceId']))).toBe(true);
    expect(logons.map((r) => r['DeviceId']).sort()).toEqual(
      everything
        .map((r) => r['DeviceId'])
        .filter(visible)
        .sort(),
    );

    // user → machines agrees with REST for the limited token too.
    const user = sim.tenant.users.find(
      (u) =>
        sim.tenant.machinesOfUser(u).some((m) => groups.has(m.rbacGroupId)) &&
        sim.tenant.machinesOfUser(u).some((m) => !groups.has(m.rbacGroupId)),
    )!;
    const rows = await results(
      sim,
      `DeviceLogonEvents | where ActionType == "LogonSuccess" and AccountName =~ ${literal(user.accountName)} | distinct DeviceId`,
      LIMITED,
    );
    const rest = values<MachineDto>(
      await call(sim, `/api/users/${encodeURIComponent(user.accountName)}/machines`, LIMITED),
    );
    expect(rows.map((r) => r['DeviceId']).sort()).toEqual(rest.map((m) => m.id).sort());
  });
});

describe('advanced hunting: throttling and faults', () => {
  it("answers 429 with Retry-After and Graph's error past its own budget, per caller, apart from REST", async () => {
    const tight = await testSimulator({
      huntingRateLimits: parseRateLimits('2/60s,1500/3600s'),
      tokens: [{ token: TOKEN }, { token: OTHER }],
    });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await hunt(tight, { Query: 'DeviceInfo | take 1' })).status);
      expect(statuses).toEqual([200, 200, 429]);
      const refused = await hunt(tight, { Query: 'DeviceInfo | take 1' });
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(50);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = refused.json as { error: { code: string; message: string } };
      expect(body.error.code).toBe('TooManyRequests');
      expect(body.error.message).toBe(
        `API calls quota exceeded! Maximum allowed 2 per 00:01:00. You can send requests again in ${retryAfter} seconds.`,
      );
      expect((await hunt(tight, { Query: 'DeviceInfo | take 1' }, { token: OTHER })).status).toBe(200);
      expect((await call(tight, '/api/machines?$top=1')).status).toBe(200);
      expect(tight.calls.filter((c) => c.api === 'hunting').map((c) => c.status)).toEqual([
        200, 200, 429, 429, 200,
      ]);
    } finally {
      await tight.close();
    }
  });

  it("takes injected faults on api hunting only, in Graph's shape", async () => {
    sim.injectFault({ api: 'hunting', fault: { kind: 'status', status: 503 }, times: 1 });
    sim.injectFault({ api: 'hunting', fault: { kind: 'throttle', retryAfterSeconds: 7 }, times: 1 });
    const unavailable = await hunt(sim, { Query: 'DeviceInfo | take 1' });
    expect(unavailable.status).toBe(503);
    expect((unavailable.json as { error: { code: string } }).error.code).toBe('ServiceUnavailable');
    expect((await call(sim, '/api/machines?$top=1')).status).toBe(200);
    const throttled = await hunt(sim, { Query: 'DeviceInfo | take 1' });
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '7']);
    expect((throttled.json as { error: { code: string } }).error.code).toBe('TooManyRequests');
    expect((await hunt(sim, { Query: 'DeviceInfo | take 1' })).status).toBe(200);
    expect(sim.calls.map((c) => [c.api, c.fault, c.status])).toEqual([
      ['hunting', 'status', 503],
      ['machines', undefined, 200],
      ['hunting', 'throttle', 429],
      ['hunting', undefined, 200],
    ]);
  });
});

describe('advanced hunting: configuration', () => {
  it('reads SIMULATOR_HUNTING_RATE_LIMITS and SIMULATOR_HUNTING_LATENCY_MS, defaulting to 45/60s,1500/3600s', () => {
    const defaults = readSimulatorEnv({}).options;
    expect(defaults.huntingRateLimits).toEqual(parseRateLimits('45/60s,1500/3600s'));
    expect(defaults.huntingLatencyMs).toBeUndefined();
    const set = readSimulatorEnv({
      SIMULATOR_HUNTING_RATE_LIMITS: '10/60s',
      SIMULATOR_HUNTING_LATENCY_MS: '250',
    }).options;
    expect([set.huntingRateLimits, set.huntingLatencyMs]).toEqual([parseRateLimits('10/60s'), 250]);
    expect(() => readSimulatorEnv({ SIMULATOR_HUNTING_RATE_LIMITS: 'lots' })).toThrow(
      /SIMULATOR_HUNTING_RATE_LIMITS/,
    );
    expect(() => readSimulatorEnv({ SIMULATOR_HUNTING_LATENCY_MS: '-1' })).toThrow(
      /SIMULATOR_HUNTING_LATENCY_MS/,
    );
  });
});
