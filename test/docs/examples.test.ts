import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { GraphQLResponse, TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { eventually, wsClient } from '../helpers/live.js';

/**
 * The queries in README.md and docs/ are what a newcomer pastes first, and their costs are what a frontend team
 * plans with: each example answers as is on the embedded simulator's tenant (seed 1), and the README's alert
 * queue costs what the prose says it costs.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name)),
];

/** Every ```graphql block, with the page it is on. */
const examples = pages.flatMap((page) =>
  [...readFileSync(page, 'utf8').matchAll(/^```graphql\n([\s\S]*?)^```$/gm)].map((m) => ({
    page: relative(root, page),
    query: m[1]!,
  })),
);

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const alertQueue = examples.find((e) => e.page === 'README.md')!.query;
/** The same queue asking who else logs on to each of the user's devices, as the README describes it. */
const withLogonUsers = alertQueue.replace(
  /^(\s*)healthStatus$/m,
  '$1healthStatus\n$1logonUsers {\n$1  id\n$1}',
);

/** The same, with the fan-out bounded as the README says: two devices per user. */
const bounded = withLogonUsers.replace(/^(\s*)machines \{$/m, '$1machines(first: 2) {');

/** "about N calls", "up to 2,021" as numbers. */
const figure = (pattern: RegExp): number => Number(pattern.exec(readme)?.[1]?.replace(/,/g, ''));

/** The cap `npm start` runs with. */
const maxOperationCalls = loadConfig({}).maxOperationCalls;

interface Queue {
  alerts: { nodes: { user: { id: string } | null }[] };
}

describe('the documentation examples', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ server: { maxOperationCalls } });
  });
  afterAll(() => gw?.close());

  it('are found in README.md and docs/', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    expect(alertQueue).toContain('alerts(first: 20');
    expect(withLogonUsers).toContain('logonUsers {');
    expect(bounded).toContain('machines(first: 2) {');
  });

  it('each answer as is on the simulator tenant, without an error, and again (mostly from the cache)', async () => {
    for (const { page, query } of [...examples, ...examples]) {
      if (/^\s*subscription\b/.test(query)) {
        await expectSubscribed(gw, query, page);
        continue;
      }
      const res = await gw.query(query);
      expect(res.errors, `${page}:\n${query}`).toBeUndefined();
      expect(
        Object.values(res.data ?? {}).every((value) => value !== null),
        `${page}:\n${query}`,
      ).toBe(true);
    }
  });
});

/** A subscription example is accepted over WebSocket: the alert poller starts for it, and no error comes. */
async function expectSubscribed(gw: TestGateway, query: string, page: string): Promise<void> {
  const client = wsClient(gw.url);
  try {
    gw.sim.resetCalls();
    const stream = client.subscribe(query);
    await eventually(() => gw.sim.calls.some((c) => c.api === 'alerts') || stream.completed);
    expect(stream.error ?? stream.results[0]?.errors, `${page}:\n${query}`).toBeUndefined();
    expect(stream.completed, `${page}:\n${query}`).toBe(false);
  } finally {
    await client.dispose();
  }
}

describe("the README's alert queue", () => {
  it('costs one call for the page plus one users/{name}/machines per distinct user, about as many as it says', async () => {
    const gw = await startTestGateway({ server: { maxOperationCalls } });
    try {
      const res = (await gw.query(alertQueue)) as GraphQLResponse<Queue>;
      expect(res.errors).toBeUndefined();
      const names = new Set(
        res.data!.alerts.nodes.flatMap((n) => (n.user ? [n.user.id.split('\\').pop()!.toLowerCase()] : [])),
      );
      expect(gw.sim.calls.map((c) => c.api).sort()).toEqual([
        'alerts',
        ...Array<string>(names.size).fill('users/{id}/machines'),
      ]);
      const said = figure(/\(about (\d+) calls on the simulator's tenant\)/);
      expect(Math.abs(gw.sim.calls.length - said)).toBeLessThanOrEqual(said * 0.2);
    } finally {
      await gw.close();
    }
  });

  it('asking for logon users too costs one call more per device: past the cap, so refused before any call, naming the fan-out', async () => {
    // Without a cap or a budget, to count every call it makes.
    const unbounded = parseRateLimits('100000/60s');
    const gw = await startTestGateway({
      server: { maxOperationCalls: 100_000 },
      rateLimits: unbounded,
      simulator: { rateLimits: unbounded },
    });
    try {
      const res = (await gw.query(withLogonUsers)) as GraphQLResponse<Queue>;
      expect(res.errors).toBeUndefined();
      const apis = gw.sim.calls.map((c) => c.api);
      const logons = gw.sim.calls.filter((c) => c.api === 'machines/{id}/logonusers').map((c) => c.id);
      expect(new Set(apis)).toEqual(new Set(['alerts', 'users/{id}/machines', 'machines/{id}/logonusers']));
      expect(logons.length).toBeGreaterThan(0);
      expect(new Set(logons).size).toBe(logons.length); // one call per device, never twice
      const said = figure(/about (\d+) calls for these 20 alerts/);
      expect(Math.abs(gw.sim.calls.length - said)).toBeLessThanOrEqual(said * 0.2);
      expect(gw.sim.calls.length).toBeGreaterThan(maxOperationCalls);
      expect(res.extensions?.upstream?.['estimate']).toMatchObject({ max: figure(/up to ([\d,]+)/) });
    } finally {
      await gw.close();
    }

    const capped = await startTestGateway({ server: { maxOperationCalls } });
    try {
      const res = await capped.query(withLogonUsers);
      // Refused before any call, naming the fan-out the README names.
      expect(res.errors?.map((e) => e.extensions?.['code'])).toEqual(['QUERY_TOO_EXPENSIVE']);
      expect(res.errors?.[0]?.extensions?.['cost']).toMatchObject({
        costliestPath: /naming the fan-out, `([\w.]+)`/.exec(readme)![1]!.split('.'),
      });
      expect(capped.sim.calls).toEqual([]);
    } finally {
      await capped.close();
    }
  });

  it('bounded with first on the devices, answers at npm start’s cap and limits for what it says, twice', async () => {
    const gw = await startTestGateway({ server: { maxOperationCalls } });
    try {
      const res = (await gw.query(bounded)) as GraphQLResponse<Queue>;
      expect(res.errors).toBeUndefined();
      const said = figure(/costs about (\d+) calls/);
      expect(Math.abs(gw.sim.calls.length - said)).toBeLessThanOrEqual(said * 0.2);
      expect(res.extensions?.upstream?.['estimate']).toMatchObject({ max: figure(/\(at most (\d+)\)/) });
      // Again within the minute: from the cache, within every API's budget.
      gw.sim.resetCalls();
      const again = await gw.query(bounded);
      expect(again.errors).toBeUndefined();
      expect(gw.sim.calls).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});
