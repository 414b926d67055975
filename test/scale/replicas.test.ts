import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefenderApi } from '../../src/defender/apis.js';
import type { FaultRule } from '../../src/simulator/faults.js';
import type { SimulatorCall } from '../../src/simulator/server.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';
import type { PrivateRedis } from '../helpers/redis.js';
import { startPrivateRedis } from '../helpers/redis.js';

/*
 * Real processes, as operators run them: one standalone simulator (`src/simulator/main.ts`) with Defender's two
 * windows scaled down, one Redis, and three gateway replicas (`src/index.ts`) sharing the budget and the cache
 * through it (CACHE_URL, GATEWAY_REPLICAS=3). The test drives them over HTTP and reads what the simulator saw
 * through its admin endpoint.
 *
 * The Redis is a private redis-server on a free port (not REDIS_URL's), since one test kills and restarts it.
 */

/** Defender's 100/60s and 1,500/3,600s, scaled down: a short window, and a long one at a lower rate. */
const LIMITS = '10/2s,30/12s';
const WINDOWS = parseRateLimits(LIMITS);
const TOKEN = 'replicas-simulator-token';
const ADMIN = 'replicas-admin-token';
const DEADLINE_MS = 4_000;

interface GraphQLAnswer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
}

/** One answer as a client saw it: the codes of its errors, or the failure of the HTTP exchange. */
interface Outcome {
  readonly replica: number;
  readonly status: number;
  readonly codes: readonly string[];
  readonly ms: number;
  /** When the request was sent and when its answer came (ms since epoch). */
  readonly started: number;
  readonly at: number;
  /** Set when the exchange failed (connection refused or reset). */
  readonly failure?: string;
  readonly data: boolean;
}

let redis: PrivateRedis;
let simulator: Child;
let simUrl: string;
const replicas: { child: Child; url: string }[] = [];
let machineIds: string[] = [];
let nextMachine = 0;

async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${simUrl}/_simulator/${path}`, {
    method,
    headers: { 'x-simulator-admin': ADMIN, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`simulator admin ${method} ${path}: ${res.status}`);
  return res.status === 204 ? undefined : res.json();
}

const simulatorCalls = () => admin('GET', 'calls') as Promise<SimulatorCall[]>;
const injectFault = (rule: FaultRule) => admin('POST', 'faults', rule);

async function query(replica: number, source: string): Promise<GraphQLAnswer & { status: number }> {
  const res = await fetch(`${replicas[replica]!.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: source }),
  });
  return { status: res.status, ...((await res.json()) as GraphQLAnswer) };
}

/** A query no replica has answered before: a machine with its logon users and alerts (three Defender APIs). */
function coldQuery(): string {
  const id = freshMachine();
  return `{ machine(id: "${id}") { id computerDnsName logonUsers { accountName } alerts { id } } }`;
}

/** A machine id no query of this file has used yet. */
const freshMachine = () => machineIds[nextMachine++ % machineIds.length]!;

const errorCodes = (answer: GraphQLAnswer) => (answer.errors ?? []).map((e) => e.extensions?.code);

/**
 * Workers per replica sending cold queries back to back for `ms` (or until `stop` resolves), recording every
 * outcome; a refused connection (a replica that stopped) is recorded and the worker pauses briefly.
 */
async function load(
  ms: number,
  { workersPerReplica = 3, only }: { workersPerReplica?: number; only?: number[] } = {},
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const until = Date.now() + ms;
  const worker = async (replica: number) => {
    while (Date.now() < until) {
      const started = Date.now();
      try {
        const answer = await query(replica, coldQuery());
        outcomes.push({
          replica,
          status: answer.status,
          codes: (answer.errors ?? []).map((e) => e.extensions?.code ?? 'NONE'),
          ms: Date.now() - started,
          started,
          at: Date.now(),
          data: answer.data != null && Object.values(answer.data).some((v) => v !== null),
        });
      } catch (error) {
        outcomes.push({
          replica,
          status: 0,
          codes: [],
          ms: Date.now() - started,
          started,
          at: Date.now(),
          failure: String((error as Error).cause ?? error),
          data: false,
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const targets = only ?? replicas.map((_, i) => i);
  await Promise.all(targets.flatMap((r) => Array.from({ length: workersPerReplica }, () => worker(r))));
  return outcomes;
}

/** The most calls of `api` the simulator admitted within any span of each window's length. */
function peaks(calls: readonly SimulatorCall[], api: DefenderApi): number[] {
  const times = calls
    .filter((c) => c.api === api && c.status !== 429)
    .map((c) => c.at)
    .sort((a, b) => a - b);
  return WINDOWS.map((w) => {
    let peak = 0;
    for (let i = 0, j = 0; j < times.length; j++) {
      while (times[j]! - times[i]! >= w.windowSeconds * 1000) i++;
      peak = Math.max(peak, j - i + 1);
    }
    return peak;
  });
}

const LOADED_APIS: DefenderApi[] = ['machines/{id}', 'machines/{id}/logonusers', 'machines/{id}/alerts'];

/** Zero 429s, and no window of any API above its limit, over everything the simulator saw so far. */
async function expectWithinLimits(): Promise<SimulatorCall[]> {
  const calls = await simulatorCalls();
  expect(calls.filter((c) => c.status === 429 && c.fault === undefined)).toEqual([]);
  for (const api of LOADED_APIS) {
    peaks(calls, api).forEach((peak, i) =>
      expect(peak, `${api} in ${LIMITS}`).toBeLessThanOrEqual(WINDOWS[i]!.limit),
    );
  }
  return calls;
}

/** Every outcome is an answer with data or the contract's retryable RATE_LIMITED, in about the deadline. */
function expectAnswered(outcomes: readonly Outcome[]): void {
  expect(outcomes.filter((o) => o.failure !== undefined)).toEqual([]);
  const codes = new Set(outcomes.flatMap((o) => o.codes));
  expect([...codes].filter((c) => c !== 'RATE_LIMITED')).toEqual([]);
  // 200, or 429 for an operation refused as a whole (the budget cannot serve it by its deadline).
  const refusedBefore = (o: Outcome) => o.status === 429 && o.codes.join() === 'RATE_LIMITED';
  expect(outcomes.filter((o) => o.status !== 200 && !refusedBefore(o))).toEqual([]);
  // Nothing hangs: a refused operation is answered by its deadline (and what runs is bounded by it too).
  expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(DEADLINE_MS + 3_000);
}

async function metric(replica: number, name: string): Promise<number> {
  const text = await (await fetch(`${replicas[replica]!.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  const simPort = await freePort();
  simulator = await startProgram(
    'src/simulator/main.ts',
    {
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_TOKEN: TOKEN,
      SIMULATOR_ADMIN_TOKEN: ADMIN,
      SIMULATOR_RATE_LIMITS: LIMITS,
      SIMULATOR_LATENCY_MS: '20',
    },
    /Defender simulator on/,
  );
  simUrl = `http://127.0.0.1:${simPort}`;
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const children = await Promise.all(
    ports.map((port) =>
      startProgram(
        'src/index.ts',
        {
          PORT: String(port),
          DEFENDER_API_URL: simUrl,
          DEFENDER_TOKEN: TOKEN,
          AUTH_MODE: 'none',
          CACHE_URL: redis.url,
          GATEWAY_REPLICAS: '3',
          DEFENDER_RATE_LIMITS: LIMITS,
          DEFENDER_TIMEOUT_MS: '1000',
          DEFENDER_RETRIES: '1',
          REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        },
        /GraphQL on/,
        60_000,
      ),
    ),
  );
  children.forEach((child, i) => replicas.push({ child, url: `http://127.0.0.1:${ports[i]}` }));
  // The tenant's machine ids, read once; then the simulator forgets that call and its throttling.
  const res = await fetch(`${simUrl}/api/machines?$select=id`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  machineIds = ((await res.json()) as { value: { id: string }[] }).value.map((m) => m.id);
  await admin('DELETE', 'calls');
  await admin('DELETE', 'throttle');
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.child.stop()));
  await simulator?.stop();
  await redis?.kill();
});

describe('three gateway replicas, one Redis, one simulator', () => {
  it("answer every upstream fault mode with the contract's code, and recover", async () => {
    const machine = (id: string, fields = 'id computerDnsName') => `{ machine(id: "${id}") { ${fields} } }`;
    const logonUsers = (id: string) => machine(id, 'id logonUsers { accountName }');
    const alerts = (id: string) => machine(id, 'id alerts { id }');
    const cases: { name: string; rule: FaultRule; query: (id: string) => string; codes: string[] }[] = [
      {
        name: '503 once (retried)',
        rule: { api: 'machines/{id}', fault: { kind: 'status', status: 503 }, times: 1 },
        query: machine,
        codes: [],
      },
      {
        name: '500 every try',
        rule: { api: 'machines/{id}/logonusers', fault: { kind: 'status', status: 500 }, times: 2 },
        query: logonUsers,
        codes: ['UPSTREAM_UNAVAILABLE'],
      },
      {
        name: 'slower than the timeout',
        rule: { api: 'machines/{id}/alerts', fault: { kind: 'slow', delayMs: 2_500 }, times: 2 },
        query: alerts,
        codes: ['UPSTREAM_UNAVAILABLE'],
      },
      {
        name: 'hanging',
        rule: { api: 'machines/{id}', fault: { kind: 'hang' }, times: 2 },
        query: machine,
        codes: ['UPSTREAM_UNAVAILABLE'],
      },
      {
        name: 'connection reset',
        rule: { api: 'machines/{id}/logonusers', fault: { kind: 'reset' }, times: 2 },
        query: logonUsers,
        codes: ['UPSTREAM_UNAVAILABLE'],
      },
      {
        name: 'malformed JSON',
        rule: { api: 'machines/{id}/alerts', fault: { kind: 'malformed' }, times: 1 },
        query: alerts,
        codes: ['UPSTREAM_BAD_RESPONSE'],
      },
      {
        name: 'an undocumented shape',
        rule: { api: 'machines/{id}', fault: { kind: 'body', body: { id: 42 } }, times: 1 },
        query: machine,
        codes: ['UPSTREAM_BAD_RESPONSE'],
      },
      {
        name: 'a redirect',
        rule: {
          api: 'machines/{id}/logonusers',
          fault: { kind: 'redirect', location: `${simUrl}/api/trap` },
          times: 1,
        },
        query: logonUsers,
        codes: ['UPSTREAM_BAD_RESPONSE'],
      },
    ];
    const ids = new Map<string, string>();
    for (const [i, c] of cases.entries()) {
      const id = freshMachine();
      ids.set(c.name, id);
      await injectFault(c.rule);
      const replica = i % 3;
      const answer = await query(replica, c.query(id));
      expect({ fault: c.name, codes: errorCodes(answer) }).toEqual({ fault: c.name, codes: c.codes });
      // Nothing failed was cached, here or in Redis: the same query, on the next replica, now has data.
      await admin('DELETE', 'faults');
      const again = await query((replica + 1) % 3, c.query(id));
      expect({ fault: c.name, codes: errorCodes(again), data: again.data?.['machine'] != null }).toEqual({
        fault: c.name,
        codes: [],
        data: true,
      });
    }
    const calls = await simulatorCalls();
    const statuses = (name: string, api: DefenderApi) =>
      calls.filter((c) => c.id === ids.get(name) && c.api === api).map((c) => c.status);
    // One retry after a 5xx (DEFENDER_RETRIES=1); the answer that came then was cached and shared.
    expect(statuses('503 once (retried)', 'machines/{id}')).toEqual([503, 200]);
    expect(statuses('500 every try', 'machines/{id}/logonusers')).toEqual([500, 500, 200]);
    expect(calls.filter((c) => c.path.includes('trap'))).toEqual([]); // the redirect was never followed
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
  }, 60_000);

  it('pause every replica for the Retry-After of a 429 that one of them got', async () => {
    await injectFault({ api: 'machines/{id}', fault: { kind: 'throttle', retryAfterSeconds: 2 }, times: 1 });
    const first = query(0, `{ machine(id: "${freshMachine()}") { id } }`);
    await new Promise((r) => setTimeout(r, 300));
    const others = [1, 2].map((r) => query(r, `{ machine(id: "${freshMachine()}") { id } }`));
    const answers = await Promise.all([first, ...others]);
    expect(answers.map(errorCodes)).toEqual([[], [], []]);
    const calls = (await simulatorCalls()).filter((c) => c.api === 'machines/{id}');
    const throttled = calls.filter((c) => c.status === 429);
    expect(throttled).toHaveLength(1);
    const after = calls.filter((c) => c.at > throttled[0]!.at);
    // The replica that got the 429 retried once, the two others called once each: all after the pause.
    expect(after).toHaveLength(3);
    for (const call of after) expect(call.at - throttled[0]!.at).toBeGreaterThanOrEqual(1_950);
  }, 20_000);

  it('share one budget under load: zero 429s, never above the limit in any window, every replica serving', async () => {
    const outcomes = await load(14_000);
    expectAnswered(outcomes);
    const calls = await expectWithinLimits();
    // The budget was used, not just refused: the long window's 30 and some of the next, on each loaded API.
    for (const api of LOADED_APIS)
      expect(calls.filter((c) => c.api === api).length).toBeGreaterThanOrEqual(30);
    for (let r = 0; r < 3; r++) {
      expect(outcomes.some((o) => o.replica === r && o.data)).toBe(true);
      expect(await metric(r, 'defender_upstream_calls_total')).toBeGreaterThan(0);
    }
  }, 40_000);

  it('share one cache: what one replica fetched, the others answer without a call', async () => {
    const id = machineIds[nextMachine++ % machineIds.length]!;
    const source = `{ machine(id: "${id}") { id computerDnsName } }`;
    // Wait for a free slot rather than racing the load test's windows.
    await new Promise((r) => setTimeout(r, 2_500));
    const first = await query(0, source);
    expect(first.errors).toBeUndefined();
    const before = (await simulatorCalls()).length;
    const [second, third] = [await query(1, source), await query(2, source)];
    expect([second.data, third.data]).toEqual([first.data, first.data]);
    expect((await simulatorCalls()).length).toBe(before);
  }, 20_000);

  it('keep serving within the limits while Redis is killed and restarted under load', async () => {
    const running = load(16_000);
    await new Promise((r) => setTimeout(r, 3_000));
    await redis.kill();
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 5_000));
    // Operators see each replica on its own share.
    for (let r = 0; r < 3; r++) expect(await metric(r, 'defender_limiter_shared')).toBe(0);
    await new Promise((r) => setTimeout(r, 1_000));
    const restartedAt = Date.now();
    await redis.start(); // empty: the log, the pause keys and the cache are gone
    const outcomes = await running;

    expectAnswered(outcomes);
    // Known limit (docs/deployment.md): each replica reserves its part of what Redis last counted, and that count
    // is as old as its last call; a burst by the others in the second before Redis dies can be undercounted and
    // earn a few 429s during the outage (Defender's Retry-After then pauses every replica). None outside it, and
    // no window of admitted calls over its limit.
    const calls = await simulatorCalls();
    const throttled = calls.filter((c) => c.status === 429 && c.fault === undefined);
    expect(throttled.filter((c) => c.at < killedAt || c.at > restartedAt + 1_000)).toEqual([]);
    expect(throttled.length).toBeLessThanOrEqual(6);
    const admitted = calls.filter((c) => c.status !== 429);
    for (const api of LOADED_APIS) {
      peaks(admitted, api).forEach((peak, i) =>
        expect(peak, `${api} in ${LIMITS}`).toBeLessThanOrEqual(WINDOWS[i]!.limit),
      );
    }
    // The next test counts its own 429s.
    await admin('DELETE', 'calls');
    for (let r = 0; r < 3; r++) {
      const output = replicas[r]!.child.output();
      expect(output).toContain('rate limits kept locally');
      expect(output).toContain('the rate-limit budget is shared again');
      expect((await fetch(`${replicas[r]!.url}/readyz`)).status).toBe(200);
      expect(await metric(r, 'defender_limiter_shared')).toBe(1);
    }
    // Answers with data came from every replica during the outage (each in its share) and after it.
    const answered = (r: number, from: number, to: number) =>
      outcomes.some((o) => o.replica === r && o.data && o.at > from && o.at < to);
    // During the outage every replica answers (expectAnswered: data or RATE_LIMITED, by the deadline); whether
    // with data depends on how much of each window Redis had counted when it died (and on any 429's pause), so
    // data is required only after it (known limit, docs/deployment.md).
    const replied = (r: number, from: number, to: number) =>
      outcomes.some((o) => o.replica === r && o.failure === undefined && o.at > from && o.at < to);
    for (let r = 0; r < 3; r++) {
      expect(replied(r, killedAt + 500, restartedAt), `replica ${r} during the outage`).toBe(true);
      expect(answered(r, restartedAt + 500, Infinity), `replica ${r} after the outage`).toBe(true);
    }
  }, 40_000);

  it('drain one replica on SIGTERM under load while the others go on', async () => {
    const stopping = replicas[2]!;
    const exited = new Promise<number | null>((done) =>
      stopping.child.process.once('exit', (code) => done(code)),
    );
    const running = load(8_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const signalled = Date.now();
    process.kill(stopping.child.process.pid!, 'SIGTERM');
    const code = await exited;
    const exitMs = Date.now() - signalled;
    const outcomes = await running;

    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(10_000);
    // Every request the replica had accepted got an answer; only requests sent after it stopped listening
    // failed, at connection (a load balancer sends those elsewhere once /readyz says 503).
    const toStopping = outcomes.filter((o) => o.replica === 2);
    expectAnswered(toStopping.filter((o) => o.failure === undefined));
    for (const o of toStopping.filter((x) => x.failure !== undefined)) {
      expect(o.started).toBeGreaterThan(signalled);
    }
    expect(toStopping.some((o) => o.started < signalled && o.failure === undefined)).toBe(true);
    // The others kept answering, with data, after the signal.
    const others = outcomes.filter((o) => o.replica !== 2);
    expectAnswered(others);
    for (const r of [0, 1])
      expect(others.some((o) => o.replica === r && o.data && o.started > signalled)).toBe(true);
    await expectWithinLimits();
    const log = stopping.child.output();
    expect(log).toContain('defender-graph: shutting down');
    expect(log).toContain('defender-graph: stopped');
  }, 30_000);
});
