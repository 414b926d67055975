import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto } from '../../src/defender/types.js';
import type { Simulator } from '../../src/simulator/server.js';
import { values } from '../helpers/http.js';
import { call, testSimulator } from '../helpers/simulator.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await testSimulator({ pageSize: 400 });
});
afterAll(() => sim.close());

const q = (filter: string) => `$filter=${encodeURIComponent(filter)}`;

async function machinesWhere(filter: string): Promise<MachineDto[]> {
  const answer = await call(sim, `/api/machines?${q(filter)}&$top=10000`);
  expect(answer.status, filter).toBe(200);
  return values<MachineDto>(answer);
}

async function alertsWhere(filter: string): Promise<AlertDto[]> {
  const answer = await call(sim, `/api/alerts?${q(filter)}&$top=10000`);
  expect(answer.status, filter).toBe(200);
  return values<AlertDto>(answer);
}

describe('$filter on /machines and /alerts', () => {
  it('applies every comparison operator', async () => {
    const m = sim.tenant.machines;
    expect(await machinesWhere("riskScore eq 'High'")).toEqual(m.filter((x) => x.riskScore === 'High'));
    expect(await machinesWhere("healthStatus ne 'Active'")).toEqual(
      m.filter((x) => x.healthStatus !== 'Active'),
    );
    const cut = '2026-10-25T00:00:00Z';
    const after = (x: MachineDto) => Date.parse(x.lastSeen) > Date.parse(cut);
    expect(await machinesWhere(`lastSeen gt ${cut}`)).toEqual(m.filter(after));
    expect(await machinesWhere(`lastSeen le ${cut}`)).toEqual(m.filter((x) => !after(x)));
    const group = m[0]!.rbacGroupId;
    expect(await machinesWhere(`rbacGroupId ge ${group}`)).toEqual(m.filter((x) => x.rbacGroupId >= group));
    expect(await machinesWhere(`rbacGroupId lt ${group}`)).toEqual(m.filter((x) => x.rbacGroupId < group));
    expect((await machinesWhere("riskScore eq 'High'")).length).toBeGreaterThan(0);
  });

  it('combines with and / or, and matches id in (…) with single or double quotes', async () => {
    const m = sim.tenant.machines;
    expect(await machinesWhere("riskScore eq 'High' and healthStatus eq 'Active'")).toEqual(
      m.filter((x) => x.riskScore === 'High' && x.healthStatus === 'Active'),
    );
    expect(await machinesWhere("riskScore eq 'High' or exposureLevel eq 'High'")).toEqual(
      m.filter((x) => x.riskScore === 'High' || x.exposureLevel === 'High'),
    );
    const three = [m[5]!.id, m[50]!.id, m[500]!.id];
    const expected = m.filter((x) => three.includes(x.id));
    expect(await machinesWhere(`id in (${three.map((i) => `'${i}'`).join(',')})`)).toEqual(expected);
    expect(await machinesWhere(`id in (${three.map((i) => `"${i}"`).join(',')})`)).toEqual(expected);
  });

  it('applies startswith and machineTags/any', async () => {
    const m = sim.tenant.machines;
    const prefix = m.find((x) => x.computerDnsName)!.computerDnsName!.slice(0, 4);
    expect(await machinesWhere(`startswith(computerDnsName,'${prefix}')`)).toEqual(
      m.filter((x) => x.computerDnsName?.toLowerCase().startsWith(prefix.toLowerCase())),
    );
    const tag = m.find((x) => x.machineTags.length > 0)!.machineTags[0]!;
    const tagged = await machinesWhere(`machineTags/any(tag: tag eq '${tag}')`);
    expect(tagged).toEqual(m.filter((x) => x.machineTags.some((t) => t.toLowerCase() === tag.toLowerCase())));
    expect(tagged.length).toBeGreaterThan(0);
  });

  it('filters alerts on their documented properties', async () => {
    const a = sim.tenant.alerts;
    const expected = a.filter((x) => x.severity === 'High' && x.status !== 'Resolved');
    const got = await alertsWhere("severity eq 'High' and status ne 'Resolved'");
    expect(got.map((x) => x.id)).toEqual(expected.map((x) => x.id));
    const since = '2026-10-15T00:00:00Z';
    const recent = await alertsWhere(`alertCreationTime ge ${since}`);
    expect(recent.map((x) => x.id)).toEqual(
      a
        .filter((x) => x.alertCreationTime && Date.parse(x.alertCreationTime) >= Date.parse(since))
        .map((x) => x.id),
    );
  });

  it('answers 400 ODataError for a property that is not filterable, or a malformed filter', async () => {
    const bad = [
      ['machines', 'firstSeen gt 2026-01-01Z'],
      ['machines', "rbacGroupName eq 'x'"],
      ['alerts', `machineId eq '${'a'.repeat(40)}'`],
      ['alerts', "computerDnsName eq 'x'"],
      ['machines', "riskScore eq 'High"],
      ['machines', 'riskScore eq'],
      ['machines', "riskScore eq 'High' garbage"],
    ];
    sim.resetCalls();
    for (const [set, filter] of bad) {
      const answer = await call(sim, `/api/${set}?${q(filter!)}`);
      expect(answer.status, filter).toBe(400);
      expect((answer.json as { error: { code: string } }).error.code, filter).toBe('ODataError');
    }
  });

  it('counts with /$count and $count=true', async () => {
    const high = sim.tenant.machines.filter((x) => x.riskScore === 'High').length;
    const bare = await call(sim, `/api/machines/$count?${q("riskScore eq 'High'")}`);
    expect(bare.status).toBe(200);
    expect(bare.text).toBe(String(high));
    const inline = await call(sim, `/api/machines?${q("riskScore eq 'High'")}&$count=true&$top=1`);
    expect((inline.json as Record<string, unknown>)['@odata.count']).toBe(high);
    const machine = sim.tenant.alerts[0]!.machineId;
    const open = sim.tenant.alertsOfMachine(machine).filter((a) => a.status !== 'Resolved').length;
    const nested = await call(sim, `/api/machines/${machine}/alerts/$count?${q("status ne 'Resolved'")}`);
    expect(nested.text).toBe(String(open));
  });

  it('projects with $select in the live key order', async () => {
    const answer = await call(sim, '/api/machines?$select=computerDnsName,id&$top=3');
    expect(values(answer)).toEqual(
      sim.tenant.machines.slice(0, 3).map((m) => ({ id: m.id, computerDnsName: m.computerDnsName })),
    );
  });
});

describe('paging', () => {
  it('pages with @odata.nextLink when $top is absent, until the collection ends', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${sim.url}/api/machines`;
    let pages = 0;
    while (url) {
      const answer = await call(sim, url.slice(sim.url.length));
      const body = answer.json as { value: MachineDto[]; '@odata.nextLink'?: string };
      seen.push(...body.value.map((m) => m.id));
      url = body['@odata.nextLink'];
      pages++;
    }
    expect(pages).toBe(Math.ceil(sim.tenant.machines.length / 400));
    expect(seen).toEqual(sim.tenant.machines.map((m) => m.id));
  });

  it('keeps the filter in the next link', async () => {
    const answer = await call(sim, `/api/alerts?${q("status ne 'Resolved'")}`);
    const next = (answer.json as { '@odata.nextLink': string })['@odata.nextLink'];
    const url = new URL(next);
    expect(url.searchParams.get('$filter')).toBe("status ne 'Resolved'");
    expect(url.searchParams.get('$skip')).toBe('400');
  });

  it('gives no next link when $top is present, and pages with $skip', async () => {
    const first = await call(sim, '/api/machines?$top=600');
    expect(values(first)).toHaveLength(600);
    expect(first.json).not.toHaveProperty(['@odata.nextLink']);
    const second = await call(sim, '/api/machines?$top=600&$skip=600');
    expect(values<MachineDto>(second).map((m) => m.id)).toEqual(
      sim.tenant.machines.slice(600, 1200).map((m) => m.id),
    );
  });

  it('refuses $top over 10,000 or malformed paging with 400 ODataError', async () => {
    for (const query of ['$top=10001', '$top=-1', '$top=abc', '$skip=x']) {
      const answer = await call(sim, `/api/alerts?${query}`);
      expect(answer.status, query).toBe(400);
      expect((answer.json as { error: { code: string } }).error.code).toBe('ODataError');
    }
    expect((await call(sim, '/api/alerts?$top=10000')).status).toBe(200);
  });
});
