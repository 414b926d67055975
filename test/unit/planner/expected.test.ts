import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../../../src/cache/entity-cache.js';
import type { DefenderRequest } from '../../../src/defender/client.js';
import type { CostEstimate } from '../../../src/planner/estimate.js';
import { estimateCost } from '../../../src/planner/estimate.js';
import type { EdgeCounts, FanoutView } from '../../../src/planner/fanout.js';
import { FanoutRecorder } from '../../../src/planner/fanout.js';

/**
 * The planner's expected calls: `first` on relationships, the exact lists the cache holds, the fan-out learnt
 * per edge (blended with the source table's prior), lookups by id batched across the operation, and the field
 * whose fan-out costs most.
 */

const M1 = 'a'.repeat(40);
const machine = (id: string) => ({ id, computerDnsName: `host-${id.slice(0, 4)}` });
const user = (name: string) => ({ id: `contoso\\${name}`, accountName: name, accountDomain: 'contoso' });

const requestKey = (r: DefenderRequest) => `${r.api} ${r.id ?? ''} ${JSON.stringify(r.query ?? {})}`;

function cache(entries: [DefenderRequest, unknown][] = []) {
  const held = new Map<string, CachedAnswer>(
    entries.map(([request, body]) => [requestKey(request), { status: 200, body }]),
  );
  return async (requests: readonly DefenderRequest[]) => requests.map((r) => held.get(requestKey(r)));
}

/** Learnt counts: for each edge, the list lengths seen (each list whole, every child distinct). */
function learnt(edges: Record<string, readonly number[]>): FanoutView {
  const recorder = new FanoutRecorder();
  for (const [edge, lengths] of Object.entries(edges)) {
    lengths.forEach((n, i) =>
      recorder.observe(
        edge,
        `p${i}`,
        n,
        Array.from({ length: n }, (_, k) => `${edge}-${i}-${k}`),
      ),
    );
  }
  const seen = recorder.seen();
  return { counts: (edge: string): EdgeCounts | undefined => seen.get(edge) };
}

async function estimate(
  query: string,
  options: { lookup?: ReturnType<typeof cache>; fanout?: FanoutView } = {},
): Promise<CostEstimate> {
  const result = await estimateCost(parse(query), undefined, undefined, {
    lookup: options.lookup ?? cache(),
    batchSize: 50,
    maxPageSize: 500,
    ...(options.fanout && { fanout: options.fanout }),
  });
  return result!;
}

describe('the expected cost', () => {
  it("is the source table's prior when nothing is learnt, and `first` bounds it", async () => {
    // 10 machines, each with 25 logon users on the prior: 1 + 10 + 250 calls for their machines.
    const walk = (first: string) =>
      `{ machines(first: 10) { nodes { logonUsers${first} { machines { id } } } } }`;
    expect((await estimate(walk(''))).expected).toBe(261);
    expect((await estimate(walk('(first: 2)'))).expected).toBe(31);
    expect((await estimate(walk('(first: 0)'))).expected).toBe(11);
    // The maximum follows `first` too.
    expect((await estimate(walk('(first: 2)'))).max).toBe(31);
  });

  it('counts nothing below a `first` the resolver refuses', async () => {
    const res = await estimate(`{ machine(id: "${M1}") { logonUsers(first: -1) { machines { id } } } }`);
    expect(res.byApi).toEqual({ 'machines/{id}': { min: 1, max: 1, expected: 1 } });
    const over = await estimate(`{ machine(id: "${M1}") { alerts(first: 501) { id } } }`);
    expect(over.expected).toBe(1);
  });

  it('follows the learnt fan-out, blended with the prior as one more parent', async () => {
    // 99 machines seen with one logon user each: (25 + 99) / 100 per machine.
    const fanout = learnt({ 'Machine(record).logonUsers': Array<number>(99).fill(1) });
    const res = await estimate('{ machines(first: 10) { nodes { logonUsers { machines { id } } } } }', {
      fanout,
    });
    expect(res.byApi['users/{id}/machines']?.expected).toBeCloseTo(10 * 1.24, 1);
    expect(res.expected).toBeCloseTo(1 + 10 + 12.4, 1);
  });

  it('uses the exact lists the cache holds, keeping the first `first` of each', async () => {
    const lookup = cache([
      [{ api: 'machines/{id}' as const, id: M1 }, machine(M1)],
      [
        { api: 'machines/{id}/logonusers' as const, id: M1 },
        { value: [user('ann'), user('bob'), user('cy')] },
      ],
    ]);
    const query = (first: string) => `{ machine(id: "${M1}") { logonUsers${first} { machines { id } } } }`;
    expect(await estimate(query(''), { lookup })).toMatchObject({ min: 3, max: 3, expected: 3 });
    expect(await estimate(query('(first: 1)'), { lookup })).toMatchObject({ min: 1, max: 1, expected: 1 });
  });

  it("learns that an alert's user repeats: distinct users are what cost calls", async () => {
    const recorder = new FanoutRecorder();
    // 20 alerts, 14 naming a user, 7 distinct users.
    for (let i = 0; i < 20; i++)
      recorder.observe('Alert(record).user', `a${i}`, i < 14 ? 1 : 0, i < 14 ? [`u${i % 7}`] : []);
    const seen = recorder.seen();
    const res = await estimate('{ alerts(first: 20) { nodes { user { machines { id } } } } }', {
      fanout: { counts: (edge) => seen.get(edge) },
    });
    // Per alert (1 + 14) / 21 users, of which (5 + 7) / (5 + 14) distinct.
    expect(res.byApi['users/{id}/machines']?.expected).toBeCloseTo(20 * (15 / 21) * (12 / 19), 1);
  });

  it('batches the expected lookups by id of the whole operation together', async () => {
    const aliases = Array.from(
      { length: 5 },
      (_, i) => `a${i}: alert(id: "da63818059931564813${i}_1") { machine { osPlatform } }`,
    ).join(' ');
    const res = await estimate(`{ ${aliases} }`);
    // One batch of 5 alerts, then one batch of their 5 machines, however many fields asked them.
    expect(res.expected).toBe(2);
    expect(res.max).toBe(6);
  });

  it('names the field whose fan-out costs most, by its response path', async () => {
    const res = await estimate(
      '{ alerts(first: 20) { nodes { user { machines { computerDnsName logonUsers { id } } } } } }',
    );
    expect(res.costliest).toMatchObject({
      path: ['alerts', 'nodes', 'user', 'machines', 'logonUsers'],
      parentType: 'Machine',
      relationship: true,
      expected: 2000,
      origin: { field: 'machines', kind: 'relationship', perParent: 100 },
    });
    const edges = await estimate('{ alerts(first: 3) { edges { node { machine { logonUsers { id } } } } } }');
    expect(edges.costliest?.path).toEqual(['alerts', 'edges', 'node', 'machine', 'logonUsers']);
  });
});
