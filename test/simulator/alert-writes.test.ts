import { afterEach, describe, expect, it } from 'vitest';
import type { AlertDto, MachineDto } from '../../src/defender/types.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import { readSimulatorEnv } from '../../src/simulator/config.js';
import type { SimulatorOptions } from '../../src/simulator/config.js';
import type { Simulator } from '../../src/simulator/server.js';
import { httpGet, values } from '../helpers/http.js';
import { TOKEN, call, testSimulator } from '../helpers/simulator.js';
import { SMALL, getAlert, manualClock, write } from './alert-helpers.js';

/** Defender's update routes (`docs/defender-api.md` §9), as a client of the simulator sees them. */

const TARGET = expect.stringMatching(/^\|[0-9a-f]{16}\.$/);
const ERROR_TYPE = 'application/json; charset=utf-8';
const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8';
const QUOTA =
  /^API calls quota exceeded! Maximum allowed (\d+) per (\d\d:\d\d:\d\d) for the key Destination\+TenantID\+AppID\. You can send requests again in (\d+) seconds\.$/;

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(overrides: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  sim = await testSimulator({ sizes: SMALL, ...overrides });
  return sim;
}

/** An alert still open, to move along its triage. */
function openAlert(s: Simulator, skip = 0): AlertDto {
  return s.tenant.alerts.filter((a) => a.status === 'New' || a.status === 'InProgress')[skip]!;
}

function errorBody(code: string, message: string) {
  return { error: { code, message, target: TARGET } };
}

describe('PATCH /api/alerts/{id}', () => {
  it('updates status, assignee, classification and determination and answers the alert as GET then shows it', async () => {
    const s = await start();
    const alert = openAlert(s);
    const answer = await write(s, 'PATCH', `/api/alerts/${alert.id}`, {
      status: 'InProgress',
      assignedTo: 'secop2@contoso.com',
      classification: 'TruePositive',
      determination: 'Malware',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(JSON_TYPE);
    const updated = answer.json as AlertDto & Record<string, unknown>;
    expect(updated).toMatchObject({
      '@odata.context': `${s.url}/api/$metadata#Alerts/$entity`,
      id: alert.id,
      status: 'InProgress',
      assignedTo: 'secop2@contoso.com',
      classification: 'TruePositive',
      determination: 'Malware',
    });
    // Same keys in the same order, evidence included: the shape of GET /api/alerts/{id}.
    expect(answer.text).toBe((await call(s, `/api/alerts/${alert.id}`)).text);
    expect(Object.keys(updated).slice(1)).toEqual(Object.keys(alert));
    expect(updated.evidence.length).toBeGreaterThan(0);
  });

  it('moves lastUpdateTime to now and sets resolvedTime when the status becomes Resolved, clearing it on reopening', async () => {
    const clock = manualClock();
    const s = await start({ clock });
    const alert = openAlert(s);
    expect(alert.resolvedTime).toBeNull();

    clock.advance(5_000);
    const resolved = (await write(s, 'PATCH', `/api/alerts/${alert.id}`, { status: 'Resolved' }))
      .json as AlertDto;
    expect(resolved).toMatchObject({
      status: 'Resolved',
      lastUpdateTime: '2026-11-01T00:00:05.0000000Z',
      resolvedTime: '2026-11-01T00:00:05.0000000Z',
    });

    clock.advance(2_500);
    const again = (await write(s, 'PATCH', `/api/alerts/${alert.id}`, { status: 'Resolved' }))
      .json as AlertDto;
    expect(again).toMatchObject({
      lastUpdateTime: '2026-11-01T00:00:07.5000000Z',
      resolvedTime: '2026-11-01T00:00:05.0000000Z',
    });

    const reopened = (await write(s, 'PATCH', `/api/alerts/${alert.id}`, { status: 'New' })).json as AlertDto;
    expect(reopened).toMatchObject({ status: 'New', resolvedTime: null });
    expect(reopened.lastUpdateTime).toBe('2026-11-01T00:00:07.5000001Z');
  });

  it("appends a comment with the caller's principal and the time, keeping the earlier comments", async () => {
    const clock = manualClock();
    const s = await start({
      clock,
      tokens: [{ token: TOKEN }, { token: 'alice-token', principal: 'alice@contoso.com' }],
    });
    const alert = s.tenant.alerts.find((a) => a.comments.length > 0)!;
    const before = structuredClone(alert.comments);

    clock.advance(60_000);
    await write(
      s,
      'PATCH',
      `/api/alerts/${alert.id}`,
      { comment: 'Looking into it' },
      { token: 'alice-token' },
    );
    clock.advance(1_000);
    const answer = await write(s, 'PATCH', `/api/alerts/${alert.id}`, { comment: 'Isolated the device' });

    expect((answer.json as AlertDto).comments).toEqual([
      ...before,
      {
        comment: 'Looking into it',
        createdBy: 'alice@contoso.com',
        createdTime: '2026-11-01T00:01:00.0000000Z',
      },
      {
        comment: 'Isolated the device',
        createdBy: 'simulator-app',
        createdTime: '2026-11-01T00:01:01.0000000Z',
      },
    ]);
    expect((await getAlert(s, alert.id)).comments).toHaveLength(before.length + 2);
    // A comment alone is an update, and the status stays what it was.
    expect((answer.json as AlertDto).status).toBe(alert.status);
    expect((answer.json as AlertDto).lastUpdateTime).toBe('2026-11-01T00:01:01.0000000Z');
  });

  it("accepts update-alert.md's spellings of determinations and shows the alert's own", async () => {
    const s = await start();
    const [a, b] = [openAlert(s, 0), openAlert(s, 1)];
    const clean = await write(s, 'PATCH', `/api/alerts/${a.id}`, {
      classification: 'FalsePositive',
      determination: 'NotMalicious',
    });
    expect((clean.json as AlertDto).determination).toBe('Clean');
    const confirmed = await write(s, 'PATCH', `/api/alerts/${b.id}`, { determination: 'ConfirmedActivity' });
    expect((confirmed.json as AlertDto).determination).toBe('ConfirmedUserActivity');
  });

  it('is served under /api/v1.0/ too', async () => {
    const s = await start();
    const alert = openAlert(s);
    const answer = await write(s, 'PATCH', `/api/v1.0/alerts/${alert.id}`, { assignedTo: 'API Action' });
    expect(answer.status).toBe(200);
    expect((await getAlert(s, alert.id)).assignedTo).toBe('API Action');
    expect(s.calls.at(-2)).toMatchObject({ method: 'PATCH', api: 'PATCH alerts/{id}', id: alert.id });
  });

  it("answers 404 with Defender's error body for an unknown alert", async () => {
    const s = await start();
    const answer = await write(s, 'PATCH', '/api/alerts/da638000000000000000_1', { status: 'Resolved' });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toBe(ERROR_TYPE);
    expect(answer.json).toEqual(errorBody('ResourceNotFound', 'Alert da638000000000000000_1 was not found'));
  });

  const refused: [string, string, string, string][] = [
    [
      'an unknown property',
      '{"severity":"High"}',
      'InvalidRequestBody',
      "Unknown property 'severity'. The properties are status, assignedTo, classification, determination or comment.",
    ],
    [
      'a property in the wrong case',
      '{"Status":"Resolved"}',
      'InvalidRequestBody',
      "Unknown property 'Status'. Property names are case-sensitive: did you mean 'status'?",
    ],
    [
      'a status outside the documented values',
      '{"status":"Closed"}',
      'InvalidRequestBody',
      "Invalid value 'Closed' for 'status'; expected one of New, InProgress, Resolved.",
    ],
    [
      "Defender's own Unknown status",
      '{"status":"Unknown"}',
      'InvalidRequestBody',
      "Invalid value 'Unknown' for 'status'; expected one of New, InProgress, Resolved.",
    ],
    [
      'a value in the wrong case',
      '{"status":"resolved"}',
      'InvalidRequestBody',
      "Invalid value 'resolved' for 'status'; expected one of New, InProgress, Resolved.",
    ],
    [
      'a classification outside the documented values',
      '{"classification":"Informational, expected activity"}',
      'InvalidRequestBody',
      "Invalid value 'Informational, expected activity' for 'classification'; expected one of TruePositive, InformationalExpectedActivity, FalsePositive.",
    ],
    [
      'a retired determination',
      '{"determination":"Apt"}',
      'InvalidRequestBody',
      "Invalid value 'Apt' for 'determination'; expected one of MultiStagedAttack, MaliciousUserActivity, CompromisedUser, CompromisedAccount, Malware, Phishing, UnwantedSoftware, SecurityTesting, LineOfBusinessApplication, ConfirmedUserActivity, ConfirmedActivity, Clean, NotMalicious, InsufficientData, Other.",
    ],
    [
      'a number for a string',
      '{"assignedTo":42}',
      'InvalidRequestBody',
      "Property 'assignedTo' must be a string.",
    ],
    [
      'a number for an enum',
      '{"status":1}',
      'InvalidRequestBody',
      "Invalid value 1 for 'status'; expected one of New, InProgress, Resolved.",
    ],
    ['a null', '{"assignedTo":null}', 'InvalidRequestBody', "Property 'assignedTo' cannot be null."],
    ['a blank comment', '{"comment":"  "}', 'InvalidRequestBody', "Property 'comment' cannot be empty."],
    ['an empty body', '', 'InvalidRequestBody', 'The request body is empty.'],
    [
      'an empty object',
      '{}',
      'InvalidRequestBody',
      'Nothing to update: send at least one of status, assignedTo, classification, determination or comment.',
    ],
    [
      'a body that is not JSON',
      'status=Resolved',
      'InvalidRequestBody',
      'The request body is not valid JSON.',
    ],
    [
      'a JSON array',
      '[{"status":"Resolved"}]',
      'InvalidRequestBody',
      'The request body must be a JSON object.',
    ],
    [
      'a valid property next to an unknown one',
      '{"status":"Resolved","severity":"Low"}',
      'InvalidRequestBody',
      "Unknown property 'severity'. The properties are status, assignedTo, classification, determination or comment.",
    ],
  ];

  it.each(refused)(
    "answers 400 with Defender's error body for %s, writing nothing",
    async (_, body, code, message) => {
      const s = await start();
      const alert = openAlert(s);
      const before = (await call(s, `/api/alerts/${alert.id}`)).text;
      const answer = await write(s, 'PATCH', `/api/alerts/${alert.id}`, body, { raw: true });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toBe(ERROR_TYPE);
      expect(answer.json).toEqual(errorBody(code, message));
      expect((await call(s, `/api/alerts/${alert.id}`)).text).toBe(before);
    },
  );

  it('answers 415 for a body not declared as JSON, writing nothing', async () => {
    const s = await start();
    const alert = openAlert(s);
    for (const contentType of [null, 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const answer = await write(
        s,
        'PATCH',
        `/api/alerts/${alert.id}`,
        { status: 'Resolved' },
        { contentType },
      );
      expect(answer.status).toBe(415);
      expect(answer.json).toEqual(
        errorBody('UnsupportedMediaType', "The request's Content-Type must be application/json."),
      );
    }
    expect((await getAlert(s, alert.id)).status).toBe(alert.status);
    const charset = await write(
      s,
      'PATCH',
      `/api/alerts/${alert.id}`,
      { status: 'Resolved' },
      {
        contentType: 'application/json; charset=utf-8',
      },
    );
    expect(charset.status).toBe(200);
  });

  it('answers 401 without a valid token, writing nothing', async () => {
    const s = await start();
    const alert = openAlert(s);
    for (const token of [null, 'forged']) {
      const answer = await write(s, 'PATCH', `/api/alerts/${alert.id}`, { status: 'Resolved' }, { token });
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual(
        errorBody('Unauthorized', 'Unauthorized request - Missing or invalid bearer token.'),
      );
    }
    expect((await getAlert(s, alert.id)).status).toBe(alert.status);
  });

  it('lets a token limited to device groups update only the alerts of its groups: others are not found', async () => {
    const probe = await testSimulator({ sizes: SMALL });
    const group = probe.tenant.machines.find((m) => m.rbacGroupId !== 0)!.rbacGroupId;
    await probe.close();
    const s = await start({ tokens: [{ token: TOKEN }, { token: 'limited', rbacGroupIds: [group] }] });
    const groupOf = (a: AlertDto) => s.tenant.machineById(a.machineId)!.rbacGroupId;
    const inside = s.tenant.alerts.find((a) => groupOf(a) === group)!;
    const outside = s.tenant.alerts.find((a) => groupOf(a) !== group)!;

    const hidden = await write(
      s,
      'PATCH',
      `/api/alerts/${outside.id}`,
      { comment: 'x' },
      { token: 'limited' },
    );
    expect(hidden.status).toBe(404);
    expect(hidden.json).toEqual(errorBody('ResourceNotFound', `Alert ${outside.id} was not found`));
    expect((await getAlert(s, outside.id)).comments).toEqual(outside.comments);

    const shown = await write(
      s,
      'PATCH',
      `/api/alerts/${inside.id}`,
      { comment: 'mine' },
      { token: 'limited' },
    );
    expect(shown.status).toBe(200);
    expect((shown.json as AlertDto).comments.at(-1)?.comment).toBe('mine');
  });
});

describe('POST /api/alerts/batchUpdate', () => {
  it('updates every listed alert at one time and answers 200 with an empty body', async () => {
    const clock = manualClock();
    const s = await start({ clock });
    const ids = [openAlert(s, 0).id, openAlert(s, 1).id, openAlert(s, 2).id];
    clock.advance(42_000);
    const answer = await write(s, 'POST', '/api/alerts/batchUpdate', {
      alertIds: [...ids, ids[0]],
      status: 'Resolved',
      assignedTo: 'secop2@contoso.com',
      classification: 'FalsePositive',
      determination: 'Malware',
      comment: 'Resolve my alert and assign to secop2',
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
    expect(answer.headers.get('content-length')).toBe('0');
    for (const id of ids) {
      const alert = await getAlert(s, id);
      expect(alert).toMatchObject({
        status: 'Resolved',
        assignedTo: 'secop2@contoso.com',
        classification: 'FalsePositive',
        determination: 'Malware',
        lastUpdateTime: '2026-11-01T00:00:42.0000000Z',
        resolvedTime: '2026-11-01T00:00:42.0000000Z',
      });
      // An id listed twice is updated once: one comment.
      expect(alert.comments.filter((c) => c.comment === 'Resolve my alert and assign to secop2')).toEqual([
        {
          comment: 'Resolve my alert and assign to secop2',
          createdBy: 'simulator-app',
          createdTime: '2026-11-01T00:00:42.0000000Z',
        },
      ]);
    }
  });

  it('writes nothing and answers 404 naming the alerts that are unknown or out of sight', async () => {
    const probe = await testSimulator({ sizes: SMALL });
    const group = probe.tenant.machines.find((m) => m.rbacGroupId !== 0)!.rbacGroupId;
    await probe.close();
    const s = await start({ tokens: [{ token: TOKEN }, { token: 'limited', rbacGroupIds: [group] }] });
    const outside = s.tenant.alerts.find((a) => s.tenant.machineById(a.machineId)!.rbacGroupId !== group)!;
    const inside = s.tenant.alerts.find((a) => s.tenant.machineById(a.machineId)!.rbacGroupId === group)!;
    const before = (await call(s, '/api/alerts')).text;

    const answer = await write(
      s,
      'POST',
      '/api/alerts/batchUpdate',
      { alertIds: [inside.id, 'nope', outside.id], comment: 'x' },
      { token: 'limited' },
    );
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual(errorBody('ResourceNotFound', `Alerts nope, ${outside.id} were not found`));
    expect((await call(s, '/api/alerts')).text).toBe(before);
  });

  const refused: [string, unknown, string, string][] = [
    ['no alertIds', { status: 'Resolved' }, 'MissingRequiredParameter', "Property 'alertIds' is required."],
    [
      'empty alertIds',
      { alertIds: [], status: 'Resolved' },
      'InvalidRequestBody',
      "Property 'alertIds' must be a non-empty list of ids.",
    ],
    [
      'alertIds not a list',
      { alertIds: 'da1_1', status: 'Resolved' },
      'InvalidRequestBody',
      "Property 'alertIds' must be a non-empty list of ids.",
    ],
    [
      'alertIds in the wrong case',
      { AlertIds: ['x'], status: 'Resolved' },
      'InvalidRequestBody',
      "Unknown property 'AlertIds'. Property names are case-sensitive: did you mean 'alertIds'?",
    ],
    [
      'nothing to update',
      { alertIds: ['x'] },
      'InvalidRequestBody',
      'Nothing to update: send at least one of status, assignedTo, classification, determination or comment.',
    ],
    [
      'a bad status',
      { alertIds: ['x'], status: 'Done' },
      'InvalidRequestBody',
      "Invalid value 'Done' for 'status'; expected one of New, InProgress, Resolved.",
    ],
  ];

  it.each(refused)("answers 400 with Defender's error body for %s", async (_, body, code, message) => {
    const s = await start();
    const answer = await write(s, 'POST', '/api/alerts/batchUpdate', body);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual(errorBody(code, message));
  });

  it('is throttled at 10 calls a minute per caller, apart from PATCH and the reads', async () => {
    const s = await start({ tokens: [{ token: TOKEN }, { token: 'other-app' }] });
    const body = { alertIds: [openAlert(s).id], comment: 'batch' };
    const statuses = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await write(s, 'POST', '/api/alerts/batchUpdate', body)).status);
    expect(statuses).toEqual([...Array<number>(10).fill(200), 429]);

    const refusal = await write(s, 'POST', '/api/alerts/batchUpdate', body);
    expect(refusal.status).toBe(429);
    const { code, message } = (refusal.json as { error: { code: string; message: string } }).error;
    expect(code).toBe('429');
    const [, limit, span, seconds] = QUOTA.exec(message)!;
    expect([limit, span]).toEqual(['10', '00:01:00']);
    expect(refusal.headers.get('retry-after')).toBe(seconds);
    expect((await getAlert(s, openAlert(s).id)).comments.filter((c) => c.comment === 'batch')).toHaveLength(
      10,
    );

    expect((await write(s, 'POST', '/api/alerts/batchUpdate', body, { token: 'other-app' })).status).toBe(
      200,
    );
    expect((await write(s, 'PATCH', `/api/alerts/${openAlert(s).id}`, { comment: 'p' })).status).toBe(200);
    expect((await call(s, `/api/alerts/${openAlert(s).id}`)).status).toBe(200);
  });

  it('is throttled at 500 calls an hour, counted on the simulator clock', async () => {
    const clock = manualClock();
    const s = await start({ clock });
    const body = { alertIds: [openAlert(s).id], assignedTo: 'x@contoso.com' };
    for (let minute = 0; minute < 50; minute++) {
      for (let i = 0; i < 10; i++) {
        expect((await write(s, 'POST', '/api/alerts/batchUpdate', body)).status).toBe(200);
      }
      clock.advance(61_000);
    }
    const refusal = await write(s, 'POST', '/api/alerts/batchUpdate', body);
    expect(refusal.status).toBe(429);
    const message = (refusal.json as { error: { message: string } }).error.message;
    expect(QUOTA.exec(message)?.slice(1, 3)).toEqual(['500', '01:00:00']);
  }, 60_000);

  it('takes its windows from batchUpdateRateLimits (SIMULATOR_BATCH_UPDATE_RATE_LIMITS)', async () => {
    const s = await start({ batchUpdateRateLimits: parseRateLimits('2/60s') });
    const body = { alertIds: [openAlert(s).id], comment: 'c' };
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await write(s, 'POST', '/api/alerts/batchUpdate', body)).status);
    expect(statuses).toEqual([200, 200, 429]);

    expect(readSimulatorEnv({}).options.batchUpdateRateLimits).toEqual(parseRateLimits('10/60s,500/3600s'));
    expect(
      readSimulatorEnv({ SIMULATOR_BATCH_UPDATE_RATE_LIMITS: '5/60s' }).options.batchUpdateRateLimits,
    ).toEqual([{ limit: 5, windowSeconds: 60 }]);
    expect(() => readSimulatorEnv({ SIMULATOR_BATCH_UPDATE_RATE_LIMITS: 'fast' })).toThrow(
      /^SIMULATOR_BATCH_UPDATE_RATE_LIMITS: /,
    );
  });

  it('throttles PATCH in a bucket of its own, with the REST limits', async () => {
    const s = await start({ rateLimits: parseRateLimits('2/60s') });
    const alert = openAlert(s);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await write(s, 'PATCH', `/api/alerts/${alert.id}`, { comment: 'c' })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await call(s, `/api/alerts/${alert.id}`)).status).toBe(200);
    expect((await getAlert(s, alert.id)).comments.filter((c) => c.comment === 'c')).toHaveLength(2);
  });
});

describe('call log and faults on writes', () => {
  it('logs each write with its method, API, id and body as sent', async () => {
    const s = await start();
    const alert = openAlert(s);
    const patch = JSON.stringify({ status: 'InProgress', comment: 'héllo' });
    await write(s, 'PATCH', `/api/alerts/${alert.id}`, patch, { raw: true });
    const batch = JSON.stringify({ alertIds: [alert.id], status: 'Resolved' });
    await write(s, 'POST', '/api/alerts/batchUpdate', batch, { raw: true });
    await write(s, 'PATCH', `/api/alerts/${alert.id}`, '{"Status":1}', { raw: true });

    expect(s.calls.map((c) => [c.method, c.api, c.id, c.body, c.status, c.caller])).toEqual([
      ['PATCH', 'PATCH alerts/{id}', alert.id, patch, 200, TOKEN],
      ['POST', 'POST alerts/batchUpdate', 'batchUpdate', batch, 200, TOKEN],
      ['PATCH', 'PATCH alerts/{id}', alert.id, '{"Status":1}', 400, TOKEN],
    ]);
  });

  it('lets a write land under a hang, so a client that retries blindly posts its comment twice', async () => {
    const s = await start();
    const alert = openAlert(s);
    s.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'hang' }, times: 1 });
    const attempt = () =>
      fetch(`${s.url}/api/alerts/${alert.id}`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ comment: 'Escalated' }),
        signal: AbortSignal.timeout(300),
      });
    await expect(attempt()).rejects.toThrow(/aborted|timeout/i);
    expect((await attempt()).status).toBe(200);

    expect((await getAlert(s, alert.id)).comments.filter((c) => c.comment === 'Escalated')).toHaveLength(2);
    expect(s.calls.filter((c) => c.api === 'PATCH alerts/{id}').map((c) => [c.status, c.fault])).toEqual([
      [0, 'hang'],
      [200, undefined],
    ]);
  });

  it('lets a write land under a reset, a malformed answer or a slow one', async () => {
    const s = await start();
    const alert = openAlert(s);
    s.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'reset' }, times: 1 });
    await expect(write(s, 'PATCH', `/api/alerts/${alert.id}`, { comment: 'one' })).rejects.toThrow(
      /fetch failed/,
    );
    s.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'malformed' }, times: 1 });
    const malformed = await write(s, 'PATCH', `/api/alerts/${alert.id}`, { comment: 'two' });
    expect([malformed.status, malformed.json]).toEqual([200, undefined]);
    s.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'slow', delayMs: 50 }, times: 1 });
    expect((await write(s, 'PATCH', `/api/alerts/${alert.id}`, { comment: 'three' })).status).toBe(200);
    expect((await getAlert(s, alert.id)).comments.slice(-3).map((c) => c.comment)).toEqual([
      'one',
      'two',
      'three',
    ]);
  });

  it('writes nothing under an error status, and faults on batchUpdate go by its name', async () => {
    const s = await start();
    const alert = openAlert(s);
    const before = (await call(s, `/api/alerts/${alert.id}`)).text;
    s.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'status', status: 503 }, times: 1 });
    const unavailable = await write(s, 'PATCH', `/api/alerts/${alert.id}`, { status: 'Resolved' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.json).toEqual(
      errorBody('ServiceUnavailable', 'The service is temporarily unavailable.'),
    );

    s.injectFault({ api: 'POST alerts/batchUpdate', fault: { kind: 'status', status: 500 }, times: 1 });
    const failed = await write(s, 'POST', '/api/alerts/batchUpdate', {
      alertIds: [alert.id],
      status: 'Resolved',
    });
    expect(failed.status).toBe(500);
    s.injectFault({
      api: 'POST alerts/batchUpdate',
      fault: { kind: 'throttle', retryAfterSeconds: 9 },
      times: 1,
    });
    const throttled = await write(s, 'POST', '/api/alerts/batchUpdate', {
      alertIds: [alert.id],
      status: 'Resolved',
    });
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '9']);
    expect((await call(s, `/api/alerts/${alert.id}`)).text).toBe(before);
    // A read of the same path is another API: the write's fault rules leave it alone.
    s.injectFault({ api: 'PATCH alerts/{id}', fault: { kind: 'status', status: 500 } });
    expect((await call(s, `/api/alerts/${alert.id}`)).status).toBe(200);
  });

  it('shows the body in the admin call log', async () => {
    const s = await start({ adminToken: 'admin-secret' });
    const alert = openAlert(s);
    await write(s, 'PATCH', `/api/alerts/${alert.id}`, { comment: 'logged' });
    const log = await httpGet(`${s.url}/_simulator/calls`, { 'x-simulator-admin': 'admin-secret' });
    expect(log.json).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        api: 'PATCH alerts/{id}',
        body: '{"comment":"logged"}',
        status: 200,
      }),
    ]);
  });
});

describe('reads after writes', () => {
  it('show the change in lists, filters, and the machine and user alert routes', async () => {
    const s = await start();
    const alert = s.tenant.alerts.find((a) => a.status !== 'Resolved' && a.relatedUser)!;
    await write(s, 'PATCH', `/api/alerts/${alert.id}`, {
      status: 'Resolved',
      assignedTo: 'triage@contoso.com',
    });

    const filtered = values<AlertDto>(
      await call(s, `/api/alerts?$filter=${encodeURIComponent("assignedTo eq 'triage@contoso.com'")}`),
    );
    expect(filtered.map((a) => [a.id, a.status, a.evidence])).toEqual([[alert.id, 'Resolved', []]]);
    const open = values<AlertDto>(
      await call(s, `/api/alerts?$filter=${encodeURIComponent("status ne 'Resolved'")}`),
    );
    expect(open.map((a) => a.id)).not.toContain(alert.id);
    const listed = values<AlertDto>(await call(s, '/api/alerts')).find((a) => a.id === alert.id)!;
    expect(listed).toMatchObject({ status: 'Resolved', assignedTo: 'triage@contoso.com' });
    const ofMachine = values<AlertDto>(await call(s, `/api/machines/${alert.machineId}/alerts`));
    expect(ofMachine.find((a) => a.id === alert.id)).toMatchObject({ status: 'Resolved' });
    const ofUser = values<AlertDto>(await call(s, `/api/users/${alert.relatedUser!.userName}/alerts`));
    expect(ofUser.find((a) => a.id === alert.id)).toMatchObject({ assignedTo: 'triage@contoso.com' });
    const count = await call(
      s,
      `/api/machines/${alert.machineId}/alerts/$count?$filter=${encodeURIComponent("status eq 'Resolved'")}`,
    );
    expect(Number(count.text)).toBe(
      s.tenant.alertsOfMachine(alert.machineId).filter((a) => a.status === 'Resolved').length,
    );
  });

  it("move the machine's riskScore with its open alerts", async () => {
    const s = await start();
    const machine = s.tenant.machines.find(
      (m) => m.riskScore !== 'None' && s.tenant.alertsOfMachine(m.id).some((a) => a.status !== 'Resolved'),
    )!;
    const ids = s.tenant
      .alertsOfMachine(machine.id)
      .filter((a) => a.status !== 'Resolved')
      .map((a) => a.id);
    expect(
      (await write(s, 'POST', '/api/alerts/batchUpdate', { alertIds: ids, status: 'Resolved' })).status,
    ).toBe(200);
    expect(((await call(s, `/api/machines/${machine.id}`)).json as MachineDto).riskScore).toBe('None');
    await write(s, 'PATCH', `/api/alerts/${ids[0]!}`, { status: 'InProgress' });
    const severity = s.tenant.alertById(ids[0]!)!.severity;
    const expected = {
      UnSpecified: 'Low',
      Informational: 'Informational',
      Low: 'Low',
      Medium: 'Medium',
      High: 'High',
    }[severity];
    expect(((await call(s, `/api/machines/${machine.id}`)).json as MachineDto).riskScore).toBe(expected);
  });

  it('are byte for byte those of a fresh simulator when every write was refused', async () => {
    const s = await start();
    const fresh = await testSimulator({ sizes: SMALL });
    try {
      const alert = openAlert(s);
      await write(s, 'PATCH', `/api/alerts/${alert.id}`, { Status: 'Resolved' });
      await write(s, 'PATCH', `/api/alerts/${alert.id}`, { status: 'Resolved' }, { token: null });
      await write(s, 'PATCH', '/api/alerts/unknown', { status: 'Resolved' });
      await write(s, 'POST', '/api/alerts/batchUpdate', {
        alertIds: [alert.id, 'unknown'],
        status: 'Resolved',
      });
      for (const path of [
        '/api/alerts',
        `/api/alerts/${alert.id}`,
        '/api/machines',
        `/api/machines/${alert.machineId}/alerts`,
      ]) {
        const [mine, theirs] = await Promise.all([call(s, path), call(fresh, path)]);
        expect(mine.text.replaceAll(s.url, '')).toBe(theirs.text.replaceAll(fresh.url, ''));
      }
    } finally {
      await fresh.close();
    }
  });
});
