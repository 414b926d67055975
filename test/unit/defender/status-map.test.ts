import { describe, expect, it } from 'vitest';
import { GatewayError, defenderStatusRule } from '../../../src/errors.js';
import { MACHINE, codeOf, fakeDefender } from './fake-defender.js';

describe("the table of Defender's statuses", () => {
  it.each([
    [200, { kind: 'answer' }],
    [404, { kind: 'absent' }],
    [429, { kind: 'throttle' }],
    [500, { kind: 'retry' }],
    [503, { kind: 'retry' }],
    [599, { kind: 'retry' }],
  ])('%i: %o', (status, rule) => expect(defenderStatusRule(status)).toEqual(rule));

  it('refuses 400, 401 and 403 with their contract codes, as answers from a Defender that is up', () => {
    const refusal = (code: string, message: string) => ({ kind: 'refusal', code, message, answered: true });
    expect(defenderStatusRule(400)).toEqual(
      refusal('BAD_USER_INPUT', 'Defender rejected the request as invalid.'),
    );
    expect(defenderStatusRule(401)).toEqual(
      refusal('UNAUTHENTICATED', "Defender refused the gateway's credentials."),
    );
    expect(defenderStatusRule(403)).toEqual(
      refusal('FORBIDDEN', 'Defender refused access: the credentials lack a permission.'),
    );
  });

  it('makes any other status UPSTREAM_BAD_RESPONSE, which says nothing about Defender’s health', () => {
    for (const status of [204, 302, 418, 451])
      expect(defenderStatusRule(status)).toEqual({
        kind: 'refusal',
        code: 'UPSTREAM_BAD_RESPONSE',
        message: `Defender answered with an unexpected status ${status}.`,
        answered: false,
      });
  });
});

/**
 * Each status through the client, as the probe of a half-open breaker, which shows how the call settled: a
 * success closes it, a failure opens it again, and a call that says nothing leaves it half-open for the next.
 */
describe('each status through the client', () => {
  async function probe(status: number) {
    const defender = fakeDefender((id) => (id === 'opener' ? 503 : status), { maxRetries: 1 });
    const { client, clock, sent, get } = defender;
    await codeOf(get('opener'));
    expect(client.breakerState(MACHINE)).toBe('open');
    clock.t += 5_000;
    const result = await get('probe').then(
      (answer) => answer,
      (e: unknown) => e as GatewayError,
    );
    return {
      result,
      requests: sent.filter((r) => r.id === 'probe').length,
      breaker: client.breakerState(MACHINE),
    };
  }

  it.each([
    [200, { status: 200, body: { id: 'probe', n: 0 } }, 1, 'closed'],
    [404, { status: 404 }, 1, 'closed'],
    [400, 'BAD_USER_INPUT: Defender rejected the request as invalid.', 1, 'closed'],
    [401, "UNAUTHENTICATED: Defender refused the gateway's credentials.", 1, 'closed'],
    [403, 'FORBIDDEN: Defender refused access: the credentials lack a permission.', 1, 'closed'],
    [429, 'RATE_LIMITED: Defender is throttling machines/{id}; retry later.', 1, 'closed'],
    [500, 'UPSTREAM_UNAVAILABLE: Defender did not answer machines/{id}.', 2, 'open'],
    [503, 'UPSTREAM_UNAVAILABLE: Defender did not answer machines/{id}.', 2, 'open'],
    [418, 'UPSTREAM_BAD_RESPONSE: Defender answered with an unexpected status 418.', 1, 'halfOpen'],
    [302, 'UPSTREAM_BAD_RESPONSE: Defender answered with an unexpected status 302.', 1, 'halfOpen'],
  ])('%i → %o after %i request(s); the breaker is then %s', async (status, expected, requests, breaker) => {
    const outcome = await probe(status);
    const result =
      outcome.result instanceof GatewayError
        ? `${outcome.result.code}: ${outcome.result.message}`
        : outcome.result;
    expect({ result, requests: outcome.requests, breaker: outcome.breaker }).toEqual({
      result: expected,
      requests,
      breaker,
    });
  });

  it('neither caches nor retries a 200 that is not JSON or not the documented shape', async () => {
    const { sent, get } = fakeDefender((id) =>
      id === 'text' ? new Response('<html>', { status: 200 }) : Response.json({ value: [] }),
    );
    for (const id of ['text', 'text', 'list']) {
      const error = (await get(id).catch((e: unknown) => e)) as GatewayError;
      expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    }
    const messages = await Promise.all(
      ['text', 'list'].map((id) => get(id).catch((e: unknown) => (e as Error).message)),
    );
    expect(messages).toEqual([
      'Defender answered something that is not JSON.',
      'Defender answered something that is not the documented shape.',
    ]);
    expect(sent.map((r) => r.id)).toEqual(['text', 'text', 'list', 'text', 'list']);
  });

  it('retries a network error and counts its exhaustion as a failure of the API', async () => {
    const { client, sent, get } = fakeDefender(() => Promise.reject(new TypeError('fetch failed')), {
      maxRetries: 2,
    });
    const error = (await get('a').catch((e: unknown) => e)) as GatewayError;
    expect([error.code, error.message]).toEqual([
      'UPSTREAM_UNAVAILABLE',
      'Defender did not answer machines/{id}.',
    ]);
    expect(sent).toHaveLength(3);
    expect(client.breakerState(MACHINE)).toBe('open');
  });
});
