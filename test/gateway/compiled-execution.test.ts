import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/server.js';
import type { TestGateway } from '../helpers/gateway.js';
import { callKeys, startTestGateway } from '../helpers/gateway.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * Compiled execution (graphql-jit) answers exactly what graphql-js answers: two gateways over one simulator,
 * one that never compiles and one that compiles every document at once, are asked the same operations, and
 * their responses (data, errors with their paths and codes, the upstream report) and the calls they cost are
 * the same. Partial data, null where a nullable field failed, fragments, aliases, @include and variables are
 * among them. The default policy (compile at a document's second execution) is checked too.
 */

let sim: Simulator;
let interpreted: TestGateway;
let compiled: TestGateway;
beforeAll(async () => {
  sim = await testSimulator();
  // No cache: each asks Defender for everything, so both cost the same calls and see the same faults.
  interpreted = await startTestGateway({
    sharedSimulator: sim,
    cacheTtlMs: 0,
    server: { compileAfter: Number.POSITIVE_INFINITY, responseCache: false },
  });
  compiled = await startTestGateway({
    sharedSimulator: sim,
    cacheTtlMs: 0,
    server: { compileAfter: 0, responseCache: false },
  });
});
afterAll(async () => {
  await interpreted.close();
  await compiled.close();
  await sim.close();
});

/** The same operation through both gateways, with the calls each made (sorted: concurrent calls have no order). */
async function both(query: string, variables?: Record<string, unknown>) {
  sim.resetCalls();
  const a = await interpreted.query(query, variables);
  const aCalls = callKeys(sim.calls).sort();
  sim.resetCalls();
  const b = await compiled.query(query, variables);
  const bCalls = callKeys(sim.calls).sort();
  return { interpreted: { answer: a, calls: aCalls }, compiled: { answer: b, calls: bCalls } };
}

describe('compiled execution answers as graphql-js does', () => {
  it('on nested relationships, fragments, aliases and @include with variables', async () => {
    const machine = sim.tenant.machines.find((m) => sim.tenant.logonUsers(m.id).length > 1)!;
    const query = `query Detail($id: ID!, $withAlerts: Boolean!) {
      machine(id: $id) { ...M other: computerDnsName alerts @include(if: $withAlerts) { id severity status } }
      alerts(first: 5) { nodes { id title machine { computerDnsName } user { accountName ...U } } pageInfo { hasNextPage } }
    }
    fragment M on Machine { id osPlatform riskScore logonUsers { ...U machines { id } } }
    fragment U on User { id accountDomain }`;
    for (const withAlerts of [true, false]) {
      const r = await both(query, { id: machine.id, withAlerts });
      expect(r.compiled.answer).toEqual(r.interpreted.answer);
      expect(r.compiled.calls).toEqual(r.interpreted.calls);
      expect((r.compiled.answer as { errors?: unknown }).errors).toBeUndefined();
      expect(r.compiled.calls.length).toBeGreaterThan(3);
    }
  });

  it('on partial data: a failed relationship is null with its error at its path, its siblings kept', async () => {
    const machine = sim.tenant.machines.find(
      (m) => sim.tenant.logonUsers(m.id).length > 0 && sim.tenant.alertsOfMachine(m.id).length > 0,
    )!;
    sim.injectFault({ api: 'machines/{id}/logonusers', fault: { kind: 'status', status: 403 } });
    try {
      const r = await both(`{ machine(id: "${machine.id}") { id logonUsers { id } alerts { id } } }`);
      expect(r.compiled.answer).toEqual(r.interpreted.answer);
      expect(r.compiled.calls).toEqual(r.interpreted.calls);
      const answer = r.compiled.answer as unknown as {
        data: { machine: Record<string, unknown> };
        errors: unknown[];
      };
      expect(answer.data.machine['logonUsers']).toBeNull();
      expect(answer.data.machine['alerts']).not.toHaveLength(0);
      expect(answer.errors).toHaveLength(1);
    } finally {
      sim.clearFaults();
    }
  });

  it('on refusals before any call: a bad id, a bad `first`, a variable that does not coerce', async () => {
    for (const [query, variables] of [
      ['{ machine(id: "../alerts") { id } }', undefined],
      ['{ alerts(first: 5) { nodes { user { machines(first: -1) { id } } } } }', undefined],
      ['query Q($f: Int) { machines(first: $f) { nodes { id } } }', { f: 'many' }],
      [
        'query Q($s: [HealthStatus!]) { machines(filter: { healthStatus: $s }) { nodes { id } } }',
        { s: ['Activ'] },
      ],
    ] as const) {
      const r = await both(query, variables);
      expect(r.compiled.answer, query).toEqual(r.interpreted.answer);
      expect(r.compiled.calls, query).toEqual(r.interpreted.calls);
      expect((r.compiled.answer as { errors?: unknown[] }).errors, query).not.toHaveLength(0);
    }
  });
});

describe('the default policy', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      sharedSimulator: sim,
      server: { compileAfter: 1, responseCache: false },
    });
  });
  afterAll(() => gateway.close());

  it('answers a document the same at its first execution (graphql-js) and after (compiled)', async () => {
    const query =
      '{ alerts(first: 10) { nodes { id severity machine { id computerDnsName } user { id } } } }';
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await gateway.query(query));
    const [first, ...later] = answers.map(({ extensions: _, ...rest }) => rest);
    for (const answer of later) expect(answer).toEqual(first);
    expect((first as { data?: unknown }).data).toBeDefined();
  });
});
