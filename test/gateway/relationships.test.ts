import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto, UserDto } from '../../src/defender/types.js';
import { ENUM_VALUES } from '../../src/graphql/enums.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  // No cache: every test here sees the calls its own query costs.
  gw = await startTestGateway({ cacheTtlMs: 0 });
});
beforeEach(() => gw.sim.resetCalls());
afterAll(() => gw.close());

/** The GraphQL name of a Defender enum string, e.g. ImpairedCommunication → IMPAIRED_COMMUNICATION. */
function gql(enumName: keyof typeof ENUM_VALUES, wire: string | null): string | null {
  if (wire === null) return null;
  const entry = Object.entries(ENUM_VALUES[enumName]).find(([, v]) => v === wire);
  if (!entry) throw new Error(`no ${enumName} for ${wire}`);
  return entry[0];
}

const USER_FIELDS = `id accountName accountDomain accountSid firstSeen lastSeen mostPrevalentMachineId
  leastPrevalentMachineId logonTypes logOnMachinesCount isDomainAdmin isOnlyNetworkUser`;

function expectedUser(u: UserDto) {
  return { ...u };
}

describe('Query.machine', () => {
  it("answers a machine's properties exactly as Defender sent them", async () => {
    const m = gw.sim.tenant.machines.find((x) => x.ipAddresses.length > 1 && x.machineTags.length > 0)!;
    const res = await gw.query<{ machine: Record<string, unknown> }>(`{ machine(id: "${m.id}") {
      id mergedIntoMachineId isPotentialDuplication isExcluded exclusionReason computerDnsName firstSeen lastSeen
      osPlatform osVersion version lastIpAddress lastExternalIpAddress agentVersion osBuild healthStatus deviceValue
      rbacGroupId rbacGroupName riskScore exposureLevel isAadJoined aadDeviceId machineTags defenderAvStatus
      onboardingStatus osArchitecture managedBy managedByStatus
      ipAddresses { ipAddress macAddress type operationalStatus }
      vmMetadata { vmId cloudProvider resourceId subscriptionId } } }`);
    expect(res.errors).toBeUndefined();
    const { osProcessor: _, ...rest } = m;
    expect(res.data!.machine).toEqual({
      ...rest,
      healthStatus: gql('HealthStatus', m.healthStatus),
      deviceValue: gql('DeviceValue', m.deviceValue),
      riskScore: gql('RiskScore', m.riskScore),
      exposureLevel: gql('ExposureLevel', m.exposureLevel),
      onboardingStatus: gql('OnboardingStatus', m.onboardingStatus),
    });
    expect(callKeys(gw.sim.calls)).toEqual([`machines/{id} ${m.id}`]);
  });

  it('finds a machine by computer name', async () => {
    const m = gw.sim.tenant.machines.find((x) => x.computerDnsName)!;
    const res = await gw.query<{ machine: { id: string } }>(`{ machine(id: "${m.computerDnsName}") { id } }`);
    expect(res.data!.machine.id).toBe(m.id);
  });

  it('answers null for a machine Defender does not have, after one call', async () => {
    const res = await gw.query(`{ machine(id: "${'f'.repeat(40)}") { id } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ machine: null });
    expect(gw.sim.calls.map((c) => c.status)).toEqual([404]);
  });

  it("lists a machine's logon users and alerts", async () => {
    const t = gw.sim.tenant;
    const m = t.machines.find((x) => t.logonUsers(x.id).length > 1 && t.alertsOfMachine(x.id).length > 1)!;
    const res = await gw.query<{ machine: { logonUsers: UserDto[]; alerts: { id: string }[] } }>(
      `{ machine(id: "${m.id}") { logonUsers { ${USER_FIELDS} } alerts { id } } }`,
    );
    expect(res.data!.machine.logonUsers).toEqual(t.logonUsers(m.id).map(expectedUser));
    expect(res.data!.machine.alerts.map((a) => a.id)).toEqual(t.alertsOfMachine(m.id).map((a) => a.id));
    expect(callKeys(gw.sim.calls).sort()).toEqual(
      [`machines/{id} ${m.id}`, `machines/{id}/alerts ${m.id}`, `machines/{id}/logonusers ${m.id}`].sort(),
    );
  });
});

describe('Query.alert', () => {
  it('answers an alert with its evidence, user and machine', async () => {
    const t = gw.sim.tenant;
    const a =
      t.alerts.find((x) => x.relatedUser && x.evidence.length > 1 && x.comments.length > 0) ??
      t.alerts.find((x) => x.relatedUser)!;
    const res = await gw.query<{ alert: Record<string, unknown> }>(`{ alert(id: "${a.id}") {
      id incidentId severity status classification determination investigationState detectionSource title
      alertCreationTime mitreTechniques relatedUser { userName domainName } loggedOnUsers { accountName domainName }
      comments { comment createdBy createdTime }
      evidence { entityType sha1 fileName processId accountName detectionStatus }
      user { id accountName accountDomain logonTypes }
      machine { id computerDnsName } } }`);
    expect(res.errors).toBeUndefined();
    const user = t.userById(`${a.relatedUser!.domainName}\\${a.relatedUser!.userName}`)!;
    expect(res.data!.alert).toEqual({
      id: a.id,
      incidentId: a.incidentId,
      severity: gql('AlertSeverity', a.severity),
      status: gql('AlertStatus', a.status),
      classification: gql('AlertClassification', a.classification),
      determination: gql('AlertDetermination', a.determination),
      investigationState: gql('InvestigationState', a.investigationState),
      detectionSource: gql('DetectionSource', a.detectionSource),
      title: a.title,
      alertCreationTime: a.alertCreationTime,
      mitreTechniques: a.mitreTechniques,
      relatedUser: a.relatedUser,
      loggedOnUsers: a.loggedOnUsers,
      comments: a.comments,
      evidence: a.evidence.map(({ entityType, sha1, fileName, processId, accountName, detectionStatus }) => ({
        entityType,
        sha1,
        fileName,
        processId,
        accountName,
        detectionStatus,
      })),
      user: {
        id: user.id,
        accountName: user.accountName,
        accountDomain: user.accountDomain,
        logonTypes: user.logonTypes,
      },
      machine: { id: a.machineId, computerDnsName: t.machineById(a.machineId)!.computerDnsName },
    });
  });

  it('answers a null user without a call when the alert has no related user', async () => {
    const a = gw.sim.tenant.alerts.find((x) => x.relatedUser === null)!;
    const res = await gw.query(`{ alert(id: "${a.id}") { id user { id } } }`);
    expect(res.data).toEqual({ alert: { id: a.id, user: null } });
    expect(callKeys(gw.sim.calls)).toEqual([`alerts/{id} ${a.id}`]);
  });

  it('answers null for an alert Defender does not have', async () => {
    const res = await gw.query(`{ alert(id: "da638000000000000000_1") { id user { id } } }`);
    expect(res.data).toEqual({ alert: null });
    expect(gw.sim.calls.map((c) => c.status)).toEqual([404]);
  });

  it('fills evidence on alerts from a machine, whose route leaves it empty, with one batched call', async () => {
    const t = gw.sim.tenant;
    const m = t.machines.find((x) => t.alertsOfMachine(x.id).length > 2)!;
    const res = await gw.query<{
      machine: { alerts: { id: string; evidence: { sha256: string | null }[] }[] };
    }>(`{ machine(id: "${m.id}") { alerts { id evidence { sha256 } } } }`);
    const expected = t
      .alertsOfMachine(m.id)
      .map((a) => ({ id: a.id, evidence: a.evidence.map((e) => ({ sha256: e.sha256 })) }));
    expect(res.data!.machine.alerts).toEqual(expected);
    expect(callKeys(gw.sim.calls).filter((k) => k.startsWith('alerts?'))).toHaveLength(1);
  });
});

describe('Query.user', () => {
  const t = () => gw.sim.tenant;
  const someUser = () =>
    t().users.find(
      (u) =>
        t().machinesOfUser(u).length > 1 && t().alertsOfUser(u).length > 0 && !u.accountName.includes(' '),
    )!;

  it.each([
    ['domain\\name', (u: UserDto) => u.id],
    ['a bare account name', (u: UserDto) => u.accountName],
    ['a UPN', (u: UserDto) => `${u.accountName}@contoso.com`],
  ])('looks a user up by %s', async (_, idOf) => {
    const user = someUser();
    const res = await gw.query<{ user: { accountName: string; machines: MachineDto[]; alerts: AlertDto[] } }>(
      `query($id: ID!) { user(id: $id) { accountName machines { id } alerts { id } } }`,
      { id: idOf(user) },
    );
    const sameName = t().usersByAccountName(user.accountName);
    expect(res.data!.user.accountName).toBe(user.accountName);
    expect(new Set(res.data!.user.machines.map((m) => m.id))).toEqual(
      new Set(sameName.flatMap((u) => t().machinesOfUser(u)).map((m) => m.id)),
    );
    expect(new Set(res.data!.user.alerts.map((a) => a.id))).toEqual(
      new Set(sameName.flatMap((u) => t().alertsOfUser(u)).map((a) => a.id)),
    );
    expect(callKeys(gw.sim.calls).sort()).toEqual(
      [`users/{id}/alerts ${user.accountName}`, `users/{id}/machines ${user.accountName}`].sort(),
    );
  });

  it("loads a user's full record on demand from its machines' logon users", async () => {
    const user = someUser();
    const res = await gw.query<{ user: UserDto }>(`query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, {
      id: user.id,
    });
    expect(res.data!.user).toEqual(expectedUser(user));
    expect(gw.sim.calls.map((c) => c.api)).toEqual(['users/{id}/machines', 'machines/{id}/logonusers']);
  });

  it('answers an unknown account as a user with no machines and no alerts', async () => {
    const res = await gw.query(
      `{ user(id: "contoso\\\\nobody-at-all") { id accountName accountDomain machines { id } alerts { id } } }`,
    );
    expect(res.data).toEqual({
      user: {
        id: 'contoso\\nobody-at-all',
        accountName: 'nobody-at-all',
        accountDomain: 'contoso',
        machines: [],
        alerts: [],
      },
    });
  });
});

describe('connections', () => {
  it('pages machines with cursors, one call per page, and turns the filter into OData', async () => {
    const t = gw.sim.tenant;
    const expected = t.machines.filter(
      (m) => m.healthStatus === 'Active' && (m.riskScore === 'High' || m.riskScore === 'Medium'),
    );
    const q = `query($after: String) { machines(first: 5, after: $after, filter: { healthStatus: [ACTIVE], riskScore: [HIGH, MEDIUM] }) {
      nodes { id } edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    type Page = {
      machines: {
        nodes: { id: string }[];
        edges: { cursor: string; node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const first = await gw.query<Page>(q);
    expect(first.data!.machines.nodes.map((n) => n.id)).toEqual(expected.slice(0, 5).map((m) => m.id));
    expect(first.data!.machines.edges.map((e) => e.node.id)).toEqual(expected.slice(0, 5).map((m) => m.id));
    expect(first.data!.machines.pageInfo.hasNextPage).toBe(true);
    const second = await gw.query<Page>(q, { after: first.data!.machines.pageInfo.endCursor });
    expect(second.data!.machines.nodes.map((n) => n.id)).toEqual(expected.slice(5, 10).map((m) => m.id));
    expect(gw.sim.calls.map((c) => c.query)).toEqual([
      { $filter: "healthStatus eq 'Active' and riskScore in ('High','Medium')", $top: '6' },
      { $filter: "healthStatus eq 'Active' and riskScore in ('High','Medium')", $top: '6', $skip: '5' },
    ]);
  });

  it('reports the last page', async () => {
    const t = gw.sim.tenant;
    const tag = t.machines.find((m) => m.machineTags.length > 0)!.machineTags[0]!;
    const count = t.machines.filter((m) =>
      m.machineTags.some((x) => x.toLowerCase() === tag.toLowerCase()),
    ).length;
    const res = await gw.query<{ machines: { nodes: unknown[]; pageInfo: { hasNextPage: boolean } } }>(
      `query($tag: String) { machines(first: 500, filter: { machineTag: $tag }) { nodes { id } pageInfo { hasNextPage } } }`,
      { tag },
    );
    expect(res.data!.machines.nodes).toHaveLength(Math.min(count, 500));
    expect(res.data!.machines.pageInfo.hasNextPage).toBe(count > 500);
  });

  it('filters alerts by status, severity and creation time', async () => {
    const t = gw.sim.tenant;
    const since = '2026-10-01T00:00:00Z';
    const expected = t.alerts.filter(
      (a) =>
        a.status === 'New' &&
        a.severity === 'High' &&
        a.alertCreationTime !== null &&
        a.alertCreationTime >= since,
    );
    const res = await gw.query<{ alerts: { nodes: { id: string; evidence: unknown[] }[] } }>(
      `{ alerts(first: 500, filter: { status: [NEW], severity: [HIGH], createdAfter: "${since}" }) { nodes { id evidence { sha1 } } } }`,
    );
    expect(res.data!.alerts.nodes.map((a) => a.id)).toEqual(expected.slice(0, 500).map((a) => a.id));
    expect(res.data!.alerts.nodes.map((a) => a.evidence.length)).toEqual(
      expected.slice(0, 500).map((a) => a.evidence.length),
    );
    expect(gw.sim.calls).toHaveLength(1);
  });
});
