import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../../src/auth/jwt.js';
import { StaticTokenProvider } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { createDependencies } from '../../src/dependencies.js';
import { createLogger } from '../../src/ops/logger.js';
import { TOKEN, testSimulator } from '../helpers/simulator.js';
import type { TestGateway, TestGatewayOptions } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import type { TestIssuer } from '../helpers/jwt.js';
import { startTestIssuer } from '../helpers/jwt.js';

/**
 * Triage from the dashboard: `updateAlert` against the simulator's `PATCH /api/alerts/{id}` (docs/simulator.md,
 * "Alert writes"). What is asserted is what Defender saw (the call log's method, route and body) and what the
 * next query shows.
 */

const UPDATE = `mutation Triage($id: ID!, $input: UpdateAlertInput!) {
  updateAlert(id: $id, input: $input) { id status assignedTo classification comments { comment createdBy } machine { id } }
}`;
const READ = `query Read($id: ID!) { alert(id: $id) { id status assignedTo comments { comment } } }`;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

async function start(options: TestGatewayOptions = {}) {
  gw = await startTestGateway(options);
  return gw;
}

const writesOf = (g: TestGateway) => g.sim.calls.filter((c) => c.method === 'PATCH');

describe('updateAlert', () => {
  it('sends one PATCH with Defender’s case-sensitive names and values, and the next query shows the change', async () => {
    const g = await start();
    const alert = g.sim.tenant.alerts.find((a) => a.status === 'New')!;
    // Read first, so the old status is cached (entity cache and response cache).
    const before = await g.query(READ, { id: alert.id });
    expect(before.data).toMatchObject({ alert: { status: 'NEW' } });
    await g.query(READ, { id: alert.id });

    const res = await g.query(UPDATE, {
      id: alert.id,
      input: {
        status: 'IN_PROGRESS',
        assignedTo: 'alice@contoso.com',
        classification: 'TRUE_POSITIVE',
        comment: 'Looking at it',
      },
    });
    expect(res.errors).toBeUndefined();
    expect(res.extensions?.upstream).toMatchObject({ calls: 1 });
    expect(res.data).toMatchObject({
      updateAlert: {
        id: alert.id,
        status: 'IN_PROGRESS',
        assignedTo: 'alice@contoso.com',
        classification: 'TRUE_POSITIVE',
        comments: expect.arrayContaining([{ comment: 'Looking at it', createdBy: expect.any(String) }]),
        machine: { id: alert.machineId },
      },
    });
    const writes = writesOf(g);
    expect(writes.map((c) => [c.api, c.id, c.status])).toEqual([['PATCH alerts/{id}', alert.id, 200]]);
    expect(JSON.parse(writes[0]!.body!)).toEqual({
      status: 'InProgress',
      assignedTo: 'alice@contoso.com',
      classification: 'TruePositive',
      comment: 'Looking at it',
    });

    const calls = g.sim.calls.length;
    const after = await g.query(READ, { id: alert.id });
    expect(after.data).toMatchObject({
      alert: {
        status: 'IN_PROGRESS',
        assignedTo: 'alice@contoso.com',
        comments: expect.arrayContaining([{ comment: 'Looking at it' }]),
      },
    });
    // Answered from the alert Defender returned, not from the old cached one, and without another call.
    expect(g.sim.calls.length).toBe(calls);
  });

  it.each([
    ['an UNKNOWN status', { status: 'UNKNOWN' }],
    ['no field at all', {}],
    ['a blank comment', { comment: '   ' }],
    ['a comment over 4,000 characters', { comment: 'x'.repeat(4_001) }],
    ['an assignedTo over 256 characters', { assignedTo: 'a'.repeat(257) }],
  ])('refuses %s with BAD_USER_INPUT and no call', async (_, input) => {
    const g = await start();
    const res = await g.query(UPDATE, { id: g.sim.tenant.alerts[0]!.id, input });
    expect(res.data).toEqual({ updateAlert: null });
    expect(res.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(g.sim.calls).toEqual([]);
  });

  it('refuses a malformed alert id and an unknown enum value with no call', async () => {
    const g = await start();
    const bad = await g.query(UPDATE, { id: '../machines', input: { status: 'RESOLVED' } });
    expect(bad.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const enumValue = await g.query(UPDATE, { id: g.sim.tenant.alerts[0]!.id, input: { status: 'Closed' } });
    expect(enumValue.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(g.sim.calls).toEqual([]);
  });

  it('answers null when Defender answers 404', async () => {
    const g = await start();
    const res = await g.query(UPDATE, { id: 'da000000000000000000_1', input: { status: 'RESOLVED' } });
    expect(res).toMatchObject({ data: { updateAlert: null } });
    expect(res.errors).toBeUndefined();
    expect(writesOf(g).map((c) => c.status)).toEqual([404]);
  });

  it('retries a comment-free write after a 503', async () => {
    const g = await start();
    const alert = g.sim.tenant.alerts[0]!;
    g.sim.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'status', status: 503 }, times: 1 });
    const res = await g.query(UPDATE, { id: alert.id, input: { status: 'RESOLVED' } });
    expect(res.data).toMatchObject({ updateAlert: { status: 'RESOLVED' } });
    expect(writesOf(g).map((c) => c.status)).toEqual([503, 200]);
  });

  it.each([500, 502, 503, 504])(
    'counts a %i to a comment as an unknown outcome: not sent again, and the error says so',
    async (status) => {
      const g = await start();
      const alert = g.sim.tenant.alerts[0]!;
      g.sim.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'status', status }, times: 1 });
      const res = await g.query(UPDATE, { id: alert.id, input: { comment: 'Escalated' } });
      expect(res.data).toEqual({ updateAlert: null });
      expect(res.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'unknown' });
      expect(writesOf(g).map((c) => c.status)).toEqual([status]);
    },
  );

  it('never sends a comment twice after a timeout, and says the outcome is unknown', async () => {
    const g = await start({ client: { timeoutMs: 300, maxRetries: 2 } });
    const alert = g.sim.tenant.alerts[0]!;
    const comments = alert.comments.length;
    g.sim.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'hang' }, times: 1 });
    const res = await g.query(UPDATE, { id: alert.id, input: { comment: 'Escalated to IR' } });
    expect(res.data).toEqual({ updateAlert: null });
    expect(res.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/check the alert/i),
      extensions: { code: 'UPSTREAM_UNAVAILABLE', outcome: 'unknown' },
    });
    expect(writesOf(g)).toHaveLength(1);
    // The simulator applied the hung write: exactly one comment was posted.
    const read = await g.query<{ alert: { comments: { comment: string }[] } }>(READ, { id: alert.id });
    const posted = read.data!.alert.comments.filter((c) => c.comment === 'Escalated to IR');
    expect(posted).toHaveLength(1);
    expect(read.data!.alert.comments).toHaveLength(comments + 1);
  });

  it('after a reset connection: a comment is not re-sent, a comment-free write is', async () => {
    const { logger, lines } = capturedLogger();
    const g = await start({ server: { logger } });
    const [a1, a2] = g.sim.tenant.alerts;
    g.sim.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'reset' }, times: 1 });
    const comment = await g.query(UPDATE, { id: a1!.id, input: { comment: 'once' } });
    expect(comment.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE', outcome: 'unknown' });
    g.sim.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'reset' }, times: 1 });
    const status = await g.query(UPDATE, { id: a2!.id, input: { status: 'RESOLVED' } });
    expect(status.data).toMatchObject({ updateAlert: { status: 'RESOLVED' } });
    expect(writesOf(g).map((c) => [c.id, c.status])).toEqual([
      [a1!.id, 0],
      [a2!.id, 0],
      [a2!.id, 200],
    ]);
    expect(lines.filter((l) => l['audit'] === 'alert-write').map((l) => l['outcome'])).toEqual([
      'unknown',
      'updated',
    ]);
  });

  it('writes one complete audit line and a metric per outcome, with no token in it', async () => {
    const { logger, lines } = capturedLogger();
    const g = await start({ server: { logger } });
    const alert = g.sim.tenant.alerts.find((a) => a.status === 'New')!;
    await g.query(READ, { id: alert.id });
    await g.query(
      UPDATE,
      { id: alert.id, input: { status: 'RESOLVED', comment: 'done' } },
      { 'x-request-id': 'ignored' },
    );
    await g.query(UPDATE, { id: alert.id, input: {} });
    const audit = lines.filter((l) => l['audit'] === 'alert-write');
    expect(audit).toEqual([
      expect.objectContaining({
        who: 'anonymous',
        alertIds: [alert.id],
        changes: { status: { from: 'New', to: 'Resolved' }, comment: { to: { length: 4 } } },
        outcome: 'updated',
        requestId: expect.any(String),
      }),
      expect.objectContaining({ who: 'anonymous', alertIds: [alert.id], outcome: 'refused' }),
    ]);
    expect(JSON.stringify(audit)).not.toMatch(/simulator-token|Bearer|127\.0\.0\.1/);
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/defender_alert_writes_total\{outcome="updated"\} 1/);
    expect(metrics).toMatch(/defender_alert_writes_total\{outcome="refused"\} 1/);
  });
});

describe('updateAlert with AUTH_MODE=none in front of a real Defender', () => {
  it('is refused with FORBIDDEN and no call unless ALLOW_UNAUTHENTICATED_WRITES allows it', async () => {
    const g = await start({ server: { writesDisabled: true } });
    const res = await g.query(UPDATE, { id: g.sim.tenant.alerts[0]!.id, input: { status: 'RESOLVED' } });
    expect(res.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(g.sim.calls).toEqual([]);
  });

  it.each([
    [{}, true, /mutations are refused/],
    [{ ALLOW_UNAUTHENTICATED_WRITES: 'true' }, undefined, /any caller can change alerts/],
  ])('with %j: writes disabled %s, and the start-up warning says so', async (env, disabled, warning) => {
    const sim = await testSimulator();
    const { logger, lines } = capturedLogger();
    const config = loadConfig({
      DEFENDER_API_URL: sim.url,
      DEFENDER_TOKEN: TOKEN,
      AUTH_MODE: 'none',
      ...env,
    });
    const deps = await createDependencies(config, {
      upstream: { baseUrl: new URL(sim.url), tokens: new StaticTokenProvider(TOKEN) },
      processMetrics: false,
      server: { logger },
    });
    try {
      expect(deps.server.writesDisabled).toBe(disabled);
      expect(lines.filter((l) => warning.test(String(l['msg'])))).toHaveLength(1);
    } finally {
      deps.limiter.close();
      await deps.close();
      await sim.close();
    }
  });
});

describe('updateAlert with AUTH_MODE=jwt', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
  });
  afterAll(() => issuer?.close());

  async function jwtGateway() {
    const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri };
    return start({
      server: { authenticator: new JwtAuthenticator(options), writeRole: 'DefenderGraph.Triage' },
    });
  }

  it('refuses a caller without the write role with FORBIDDEN and no call, and reads still work', async () => {
    const g = await jwtGateway();
    const token = await issuer.userToken('bob', { scp: 'Defender.Read' });
    const alert = g.sim.tenant.alerts[0]!;
    const res = await g.query(
      UPDATE,
      { id: alert.id, input: { status: 'RESOLVED' } },
      { authorization: `Bearer ${token}` },
    );
    expect(res.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(g.sim.calls).toEqual([]);
    const read = await g.query(READ, { id: alert.id }, { authorization: `Bearer ${token}` });
    expect(read.data).toMatchObject({ alert: { id: alert.id } });
  });

  it('lets a caller with the role as a scope or as an app role write', async () => {
    const g = await jwtGateway();
    const alert = g.sim.tenant.alerts[0]!;
    const user = await issuer.userToken('alice', { scp: 'Defender.Read DefenderGraph.Triage' });
    const app = await issuer.appToken('app-1', { roles: ['DefenderGraph.Triage'] });
    for (const token of [user, app]) {
      const res = await g.query(
        UPDATE,
        { id: alert.id, input: { status: 'IN_PROGRESS' } },
        { authorization: `Bearer ${token}` },
      );
      expect(res.errors).toBeUndefined();
    }
    expect(writesOf(g)).toHaveLength(2);
  });
});
