import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../../src/defender/breaker.js';
import { createMemoryCache } from '../../../src/cache/entity-cache.js';
import type { CallScope, DefenderClientOptions } from '../../../src/defender/client.js';
import { DefenderClient, newStats } from '../../../src/defender/client.js';
import { LocalRateLimiter } from '../../../src/rate-limit/limiter.js';
import { StaticTokenProvider } from '../../../src/auth/tokens.js';
import { GatewayError } from '../../../src/errors.js';
import { parseRateLimits } from '../../../src/rate-limit/windows.js';

const MACHINE = 'machines/{id}' as const;
const machine = (id: string) => ({ status: 200, body: { id } });

/** A client against a scripted Defender: each request takes the next status; the clock is the test's. */
function scripted(statuses: number[], options: Partial<DefenderClientOptions> = {}) {
  const clock = { now: 1_000_000 };
  const sent: string[] = [];
  const fetchStub = (async (input: URL | string | Request) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push(url);
    const status = statuses.shift() ?? 200;
    const id = decodeURIComponent(url.split('/').pop()!);
    if (status === 200) return new Response(JSON.stringify(machine(id).body), { status });
    return new Response('', { status, headers: status === 429 ? { 'retry-after': '0' } : {} });
  }) as typeof fetch;
  const client = new DefenderClient({
    baseUrl: new URL('http://defender.test'),
    tokens: new StaticTokenProvider('t'),
    limiter: new LocalRateLimiter(parseRateLimits('10000/60s')),
    cache: createMemoryCache(),
    ttlMs: () => 0,
    timeoutMs: 1_000,
    maxRetries: 0,
    maxThrottleRetries: 0,
    backoffBaseMs: 0,
    backoffCapMs: 0,
    breakerThreshold: 3,
    breakerHalfOpenAfterMs: 10_000,
    clock: { now: () => clock.now },
    fetch: fetchStub,
    ...options,
  });
  const scope = (): CallScope => ({ stats: newStats(), deadline: Date.now() + 5_000 });
  const get = (id: string) => client.get({ api: MACHINE, id }, scope());
  return { client, clock, sent, get };
}

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );

describe('circuit breaker in the client', () => {
  it('opens after N consecutive failed calls and then fails fast with zero upstream calls', async () => {
    const { client, sent, get } = scripted([503, 500, 502]);
    for (const id of ['a', 'b', 'c']) expect(await codeOf(get(id))).toBe('UPSTREAM_UNAVAILABLE');
    expect(client.breakerState(MACHINE)).toBe('open');
    expect(sent).toHaveLength(3);
    const error = await get('d').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).message).toBe('Defender is failing on machines/{id}; retry later.');
    expect((error as GatewayError).extensions).toEqual({ retryAfterSeconds: 10 });
    expect(sent).toHaveLength(3);
    // Other APIs have breakers of their own.
    expect(client.breakerState('alerts/{id}')).toBe('closed');
  });

  it('counts calls, not attempts: one call failing all its retries is one failure', async () => {
    const { client, sent, get } = scripted([503, 503, 503, 503, 503, 503], { maxRetries: 2 });
    expect(await codeOf(get('a'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(sent).toHaveLength(3);
    expect(client.breakerState(MACHINE)).toBe('closed');
    expect(await codeOf(get('b'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(client.breakerState(MACHINE)).toBe('closed');
  });

  it('lets one probe through after halfOpenAfter: success closes, failure re-opens', async () => {
    const { client, clock, sent, get } = scripted([503, 503, 503, 503]);
    for (const id of ['a', 'b', 'c']) await codeOf(get(id));
    clock.now += 9_999;
    expect(await codeOf(get('x'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(sent).toHaveLength(3);
    clock.now += 1;
    expect(client.breakerState(MACHINE)).toBe('halfOpen');
    // The probe fails: open again for another full period.
    expect(await codeOf(get('p1'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(sent).toHaveLength(4);
    expect(client.breakerState(MACHINE)).toBe('open');
    clock.now += 10_000;
    // The probe succeeds: closed, and calls flow again.
    await expect(get('p2')).resolves.toEqual(machine('p2'));
    expect(client.breakerState(MACHINE)).toBe('closed');
    await expect(get('q')).resolves.toEqual(machine('q'));
    expect(sent).toHaveLength(6);
  });

  it('lets only one probe through while it is in flight', async () => {
    const { clock, sent, get } = scripted([503, 503, 503]);
    for (const id of ['a', 'b', 'c']) await codeOf(get(id));
    clock.now += 10_000;
    const [probe, other] = await Promise.all([codeOf(get('p')), codeOf(get('o'))]);
    expect([probe, other]).toEqual(['ok', 'UPSTREAM_UNAVAILABLE']);
    expect(sent).toHaveLength(4);
  });

  it('never counts 429s or 4xx, and a success resets the count', async () => {
    const { client, get } = scripted([503, 503, 429, 404, 400, 403, 503, 503, 200, 503, 503]);
    expect(await codeOf(get('a'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(await codeOf(get('b'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(await codeOf(get('c'))).toBe('RATE_LIMITED');
    expect(client.breakerState(MACHINE)).toBe('closed');
    // 404 is an answer, and resets the count like 400 and 403.
    expect(await get('d')).toEqual({ status: 404 });
    expect(await codeOf(get('e'))).toBe('BAD_USER_INPUT');
    expect(await codeOf(get('f'))).toBe('FORBIDDEN');
    expect(await codeOf(get('g'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(await codeOf(get('h'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(await codeOf(get('i'))).toBe('ok');
    expect(await codeOf(get('j'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(await codeOf(get('k'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(client.breakerState(MACHINE)).toBe('closed');
  });

  it('closes when the half-open probe gets a 429: Defender answered', async () => {
    const { client, clock, sent, get } = scripted([503, 503, 503, 429]);
    for (const id of ['a', 'b', 'c']) await codeOf(get(id));
    clock.now += 10_000;
    expect(client.breakerState(MACHINE)).toBe('halfOpen');
    expect(await codeOf(get('probe'))).toBe('RATE_LIMITED');
    expect(sent).toHaveLength(4);
    expect(client.breakerState(MACHINE)).toBe('closed');
    // Closed, not half-open: two calls at once both go out.
    const both = await Promise.all([codeOf(get('x')), codeOf(get('y'))]);
    expect(both).toEqual(['ok', 'ok']);
    expect(sent).toHaveLength(6);
  });

  it('closes at the probe’s first 429, while the probe still waits to retry', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const statuses = [503, 503, 503, 429];
    const sent: string[] = [];
    const clock = { now: 0 };
    const client = new DefenderClient({
      baseUrl: new URL('http://defender.test'),
      tokens: new StaticTokenProvider('t'),
      limiter: new LocalRateLimiter(parseRateLimits('10000/60s')),
      cache: createMemoryCache(),
      ttlMs: () => 0,
      timeoutMs: 1_000,
      maxRetries: 0,
      maxThrottleRetries: 1,
      breakerThreshold: 3,
      breakerHalfOpenAfterMs: 10_000,
      clock: { now: () => clock.now },
      fetch: (async (input: URL | string | Request) => {
        const url = String(input);
        sent.push(url);
        const id = decodeURIComponent(url.split('/').pop()!);
        const status = statuses.shift() ?? 200;
        // The probe's retry (after its 429) hangs until the test has looked at the breaker.
        if (id === 'probe' && status === 200) await held;
        if (status === 200) return new Response(JSON.stringify({ id }), { status });
        return new Response('', { status, headers: status === 429 ? { 'retry-after': '0' } : {} });
      }) as typeof fetch,
    });
    const get = (id: string) =>
      client.get({ api: MACHINE, id }, { stats: newStats(), deadline: Date.now() + 5_000 });
    for (const id of ['a', 'b', 'c']) await codeOf(get(id));
    clock.now += 10_000;
    const probe = get('probe');
    while (sent.length < 5) await new Promise((resolve) => setTimeout(resolve, 1));
    // The probe got its 429 and its retry is out: the breaker is closed, so another call is not refused.
    expect(client.breakerState(MACHINE)).toBe('closed');
    await expect(get('other')).resolves.toEqual(machine('other'));
    release();
    await expect(probe).resolves.toEqual(machine('probe'));
    expect(client.breakerState(MACHINE)).toBe('closed');
  });

  it('is never opened by 429s, however many in a row, and a 429 resets the failure count', async () => {
    const { client, get } = scripted([...Array<number>(10).fill(429), 503, 503, 429, 503, 503]);
    for (let i = 0; i < 10; i++) expect(await codeOf(get(`t${i}`))).toBe('RATE_LIMITED');
    expect(client.breakerState(MACHINE)).toBe('closed');
    // 503, 503, then a 429 between them: never three failures in a row.
    for (const expected of ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE', 'RATE_LIMITED'])
      expect(await codeOf(get('x'))).toBe(expected);
    for (let i = 0; i < 2; i++) expect(await codeOf(get('y'))).toBe('UPSTREAM_UNAVAILABLE');
    expect(client.breakerState(MACHINE)).toBe('closed');
  });

  it('counts timeouts and connection errors', async () => {
    const clock = { now: 0 };
    const client = new DefenderClient({
      baseUrl: new URL('http://defender.test'),
      tokens: new StaticTokenProvider('t'),
      limiter: new LocalRateLimiter(parseRateLimits('10000/60s')),
      cache: createMemoryCache(),
      ttlMs: () => 0,
      timeoutMs: 1_000,
      maxRetries: 0,
      maxThrottleRetries: 0,
      breakerThreshold: 2,
      clock: { now: () => clock.now },
      fetch: (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch,
    });
    const scope = (): CallScope => ({ stats: newStats(), deadline: Date.now() + 5_000 });
    for (const id of ['a', 'b']) await codeOf(client.get({ api: MACHINE, id }, scope()));
    expect(client.breakerState(MACHINE)).toBe('open');
    // Default half-open delay: 30 s.
    clock.now += 29_999;
    expect(client.breakerState(MACHINE)).toBe('open');
    clock.now += 1;
    expect(client.breakerState(MACHINE)).toBe('halfOpen');
  });
});

describe('CircuitBreaker', () => {
  /** A breaker on a manual clock, with every state change it announced. */
  function breakerAt(options: { threshold?: number; halfOpenAfterMs?: number } = {}) {
    const time = { now: 1_000_000 };
    const states: string[] = [];
    const breaker = new CircuitBreaker({
      threshold: 3,
      halfOpenAfterMs: 10_000,
      ...options,
      clock: { now: () => time.now },
      onStateChange: (api, state) => states.push(`${api} ${state}`),
    });
    const fail = (times = 1) => {
      for (let i = 0; i < times; i++) {
        breaker.admit(MACHINE);
        breaker.settle(MACHINE, 'failure');
      }
    };
    return { breaker, time, states, fail };
  }

  /** The error `admit` throws, or undefined when it lets the call go. */
  const refusal = (breaker: CircuitBreaker, api: 'machines/{id}' | 'alerts/{id}' = MACHINE) => {
    try {
      breaker.admit(api);
      return undefined;
    } catch (error) {
      return error as GatewayError;
    }
  };

  it('stays closed below the threshold of consecutive failures', () => {
    const { breaker, fail, states } = breakerAt();
    fail(2);
    expect(breaker.state(MACHINE)).toBe('closed');
    expect(refusal(breaker)).toBeUndefined();
    expect(states).toEqual([]);
  });

  it('opens at the threshold and refuses at once with UPSTREAM_UNAVAILABLE and the time left', () => {
    const { breaker, fail, states } = breakerAt();
    fail(3);
    expect(breaker.state(MACHINE)).toBe('open');
    expect(states).toEqual(['machines/{id} open']);
    const error = refusal(breaker);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error?.extensions).toEqual({ retryAfterSeconds: 10 });
  });

  it('keeps failing fast while open, with a Retry-After that counts down to at least 1 s', () => {
    const { breaker, fail, time } = breakerAt();
    fail(3);
    time.now += 4_500;
    expect(refusal(breaker)?.extensions).toEqual({ retryAfterSeconds: 6 });
    time.now += 5_499;
    expect(refusal(breaker)?.extensions).toEqual({ retryAfterSeconds: 1 });
    expect(breaker.state(MACHINE)).toBe('open');
  });

  it('keeps one API’s breaker from refusing the calls of another', () => {
    const { breaker, fail } = breakerAt();
    fail(3);
    expect(refusal(breaker, MACHINE)?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(refusal(breaker, 'alerts/{id}')).toBeUndefined();
    expect(breaker.state('alerts/{id}')).toBe('closed');
  });

  it('lets exactly one probe through once the open period is over', () => {
    const { breaker, fail, time, states } = breakerAt();
    fail(3);
    time.now += 9_999;
    expect(refusal(breaker)?.code).toBe('UPSTREAM_UNAVAILABLE');
    time.now += 1;
    expect(breaker.state(MACHINE)).toBe('halfOpen');
    expect(refusal(breaker)).toBeUndefined();
    expect(refusal(breaker)?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(states).toEqual(['machines/{id} open', 'machines/{id} halfOpen']);
  });

  it('closes when the probe succeeds, and calls flow again', () => {
    const { breaker, fail, time, states } = breakerAt();
    fail(3);
    time.now += 10_000;
    breaker.admit(MACHINE);
    breaker.settle(MACHINE, 'success');
    expect(breaker.state(MACHINE)).toBe('closed');
    expect(refusal(breaker)).toBeUndefined();
    expect(refusal(breaker)).toBeUndefined();
    expect(states.at(-1)).toBe('machines/{id} closed');
  });

  it('re-opens for a full period when the probe fails', () => {
    const { breaker, fail, time, states } = breakerAt();
    fail(3);
    time.now += 10_000;
    fail(1);
    expect(breaker.state(MACHINE)).toBe('open');
    expect(refusal(breaker)?.extensions).toEqual({ retryAfterSeconds: 10 });
    time.now += 9_999;
    expect(breaker.state(MACHINE)).toBe('open');
    time.now += 1;
    expect(breaker.state(MACHINE)).toBe('halfOpen');
    expect(states).toEqual(['machines/{id} open', 'machines/{id} halfOpen', 'machines/{id} open']);
  });

  it('does not restart the open period for a call that was admitted before it opened and fails late', () => {
    const { breaker, time } = breakerAt({ threshold: 2 });
    for (let i = 0; i < 3; i++) breaker.admit(MACHINE);
    breaker.settle(MACHINE, 'failure');
    breaker.settle(MACHINE, 'failure');
    time.now += 5_000;
    breaker.settle(MACHINE, 'failure');
    time.now += 5_000;
    expect(breaker.state(MACHINE)).toBe('halfOpen');
  });

  it('counts only consecutive failures: a success in between resets the count', () => {
    const { breaker, fail } = breakerAt();
    fail(2);
    breaker.admit(MACHINE);
    breaker.settle(MACHINE, 'success');
    fail(2);
    expect(breaker.state(MACHINE)).toBe('closed');
    fail(1);
    expect(breaker.state(MACHINE)).toBe('open');
  });

  it('never lets background work through while open or half-open', () => {
    const { breaker, fail, time } = breakerAt();
    expect(breaker.allowsBackground(MACHINE)).toBe(true);
    fail(3);
    expect(breaker.allowsBackground(MACHINE)).toBe(false);
    time.now += 10_000;
    expect(breaker.allowsBackground(MACHINE)).toBe(false);
    breaker.admit(MACHINE);
    breaker.settle(MACHINE, 'success');
    expect(breaker.allowsBackground(MACHINE)).toBe(true);
  });

  it('frees the probe slot when the probe says nothing about health', () => {
    const { breaker, time, states } = breakerAt({ threshold: 1, halfOpenAfterMs: 100 });
    breaker.admit(MACHINE);
    breaker.settle(MACHINE, 'failure');
    time.now += 100;
    breaker.admit(MACHINE);
    expect(() => breaker.admit(MACHINE)).toThrow(GatewayError);
    breaker.settle(MACHINE, 'neutral');
    breaker.admit(MACHINE);
    breaker.settle(MACHINE, 'success');
    expect(breaker.state(MACHINE)).toBe('closed');
    expect(states).toEqual([
      'machines/{id} open',
      'machines/{id} halfOpen',
      'machines/{id} halfOpen',
      'machines/{id} closed',
    ]);
  });

  describe('on the system clock', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('reads the time that fake timers set, so the open period passes without sleeping', () => {
      const breaker = new CircuitBreaker({ threshold: 1, halfOpenAfterMs: 30_000 });
      breaker.admit(MACHINE);
      breaker.settle(MACHINE, 'failure');
      vi.advanceTimersByTime(29_999);
      expect(breaker.state(MACHINE)).toBe('open');
      vi.advanceTimersByTime(1);
      expect(breaker.state(MACHINE)).toBe('halfOpen');
    });
  });
});
