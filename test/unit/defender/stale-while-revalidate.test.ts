import { describe, expect, it } from 'vitest';
import { StaticTokenProvider } from '../../../src/auth/tokens.js';
import { freshnessOf, keptForMs } from '../../../src/defender/refresh.js';
import type { GatewayError } from '../../../src/errors.js';
import { MACHINE, codeOf, fakeDefender } from './fake-defender.js';

/** The fake Defender's answers: its n-th answer for an id (n from 0), so a refreshed answer is told apart. */
const nth = (id: string, n: number) => ({ status: 200, body: { id, n } });

describe('freshness', () => {
  const stored = { status: 404 as const, storedAt: 10_000 };
  const policy = { ttlMs: 1_000, staleMs: 500 };

  it('is fresh for the TTL, stale for staleMs more, then expired', () => {
    const at = (now: number) => freshnessOf(stored, policy, now);
    expect([at(10_000), at(10_999), at(11_000), at(11_499), at(11_500)]).toEqual([
      'fresh',
      'fresh',
      'stale',
      'stale',
      'expired',
    ]);
    expect(freshnessOf(stored, { ttlMs: 1_000, staleMs: 0 }, 11_000)).toBe('expired');
  });

  it('keeps an answer while it may be served, and not at all without a TTL', () => {
    expect(keptForMs(policy)).toBe(1_500);
    expect(keptForMs({ ttlMs: 0, staleMs: 500 })).toBe(0);
  });
});

describe('stale-while-revalidate in the client', () => {
  it('serves a fresh hit from the cache, with no request and no refresh', async () => {
    const { clock, limiter, sent, get, scope } = fakeDefender();
    const storedAt = clock.now();
    await get('a');
    clock.t += 999;
    const s = scope();
    await expect(get('a', s)).resolves.toEqual({ ...nth('a', 0), fromCache: true });
    expect(sent).toHaveLength(1);
    expect(limiter.tried).toEqual([]);
    expect(s.stats).toMatchObject({ calls: 0, cacheHits: 1, staleHits: 0, freshUntil: storedAt + 1_000 });
  });

  it('serves a stale hit at once and refreshes it once in the background, through the limiter’s free slot', async () => {
    const defender = fakeDefender();
    const { clock, limiter, sent, refreshes, get, scope } = defender;
    await get('a');
    clock.t += 1_000;
    const refreshed = defender.nextRefresh();
    const [s1, s2] = [scope(), scope()];
    const served = await Promise.all([get('a', s1), get('a', s2)]);
    expect(served).toEqual([
      { ...nth('a', 0), fromCache: true },
      { ...nth('a', 0), fromCache: true },
    ]);
    // Neither operation pays for the refresh: a stale hit each, no call.
    for (const s of [s1, s2])
      expect(s.stats).toMatchObject({
        calls: 0,
        staleHits: 1,
        limiterWaitMs: 0,
        byApi: { [MACHINE]: { calls: 0 } },
      });
    await refreshed;
    expect(refreshes).toEqual(['refreshed']);
    expect(sent.map((r) => r.at)).toEqual([clock.now() - 1_000, clock.now()]);
    // One slot taken without waiting (tryAcquire), none queued for (acquire is the first call's only).
    expect([limiter.tried, limiter.acquired]).toEqual([[MACHINE], [MACHINE]]);
    // The refreshed answer is fresh again.
    const s3 = scope();
    await expect(get('a', s3)).resolves.toEqual({ ...nth('a', 1), fromCache: true });
    expect(s3.stats.staleHits).toBe(0);
  });

  it('shares a refresh in flight with an identical call that skips the cache', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const defender = fakeDefender(async (_, n) => {
      if (n === 1) await held;
      return 200;
    });
    const { clock, sent, get, scope } = defender;
    await get('a');
    clock.t += 1_000;
    await get('a');
    const s = scope({ fresh: true });
    const shared = get('a', s);
    release();
    await expect(shared).resolves.toEqual(nth('a', 1));
    expect(s.stats).toMatchObject({ calls: 0, sharedCalls: 1 });
    expect(sent).toHaveLength(2);
  });

  it('skips the refresh, sending nothing, when no slot is free now', async () => {
    const { clock, limiter, sent, refreshes, backgroundErrors, get } = fakeDefender();
    await get('a');
    clock.t += 1_000;
    limiter.free = false;
    await expect(get('a')).resolves.toEqual({ ...nth('a', 0), fromCache: true });
    expect(refreshes).toEqual(['skipped']);
    expect([sent.length, backgroundErrors]).toEqual([1, []]);
  });

  it('skips the refresh while the breaker is not closed, and never takes the probe', async () => {
    const { client, clock, limiter, sent, refreshes, get } = fakeDefender((id) => (id === 'x' ? 503 : 200));
    await get('a');
    clock.t += 1_000;
    await codeOf(get('x'));
    expect(client.breakerState(MACHINE)).toBe('open');
    await get('a');
    clock.t += 5_000;
    expect(client.breakerState(MACHINE)).toBe('halfOpen');
    await expect(get('a')).resolves.toEqual({ ...nth('a', 0), fromCache: true });
    expect(refreshes).toEqual(['skipped', 'skipped']);
    expect(limiter.tried).toEqual([]);
    expect(sent.map((r) => r.id)).toEqual(['a', 'x']);
    // The probe is still there for a client's call.
    await expect(get('b')).resolves.toEqual(nth('b', 0));
    expect(client.breakerState(MACHINE)).toBe('closed');
  });

  it('is not cancelled when the client that triggered it goes away', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const defender = fakeDefender(async (_, n) => {
      if (n === 1) await held;
      return 200;
    });
    const { clock, sent, refreshes, get, scope } = defender;
    await get('a');
    clock.t += 1_000;
    const abort = new AbortController();
    const refreshed = defender.nextRefresh();
    await get('a', scope({ signal: abort.signal }));
    abort.abort(new Error('client disconnected'));
    release();
    await refreshed;
    expect(refreshes).toEqual(['refreshed']);
    expect(sent[1]!.signal!.aborted).toBe(false);
    await expect(get('a')).resolves.toEqual({ ...nth('a', 1), fromCache: true });
  });

  it('reports a failed refresh, tries it once, keeps the stale answer, and tells the breaker', async () => {
    const defender = fakeDefender((_, n) => (n === 1 ? 500 : 200), { maxRetries: 2 });
    const { client, clock, sent, refreshes, backgroundErrors, get, scope } = defender;
    await get('a');
    clock.t += 1_000;
    const refreshed = defender.nextRefresh();
    await get('a');
    await refreshed;
    expect(refreshes).toEqual(['failed']);
    expect(backgroundErrors.map((e) => (e as GatewayError).code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(sent).toHaveLength(2);
    expect(client.breakerState(MACHINE)).toBe('open');
    const s = scope();
    await expect(get('a', s)).resolves.toEqual({ ...nth('a', 0), fromCache: true });
    expect(s.stats.staleHits).toBe(1);
  });

  it('reports a throttled refresh and pauses the API for Retry-After, without retrying it', async () => {
    const throttled = new Response(null, { status: 429, headers: { 'retry-after': '3' } });
    const defender = fakeDefender((_, n) => (n === 1 ? throttled : 200), { maxThrottleRetries: 2 });
    const { client, clock, limiter, sent, refreshes, backgroundErrors, get } = defender;
    await get('a');
    clock.t += 1_000;
    const refreshed = defender.nextRefresh();
    await get('a');
    await refreshed;
    expect(refreshes).toEqual(['throttled']);
    expect(backgroundErrors.map((e) => (e as GatewayError).code)).toEqual(['RATE_LIMITED']);
    expect(limiter.paused).toEqual([[MACHINE, 3_000]]);
    expect(sent).toHaveLength(2);
    expect(client.breakerState(MACHINE)).toBe('closed');
  });

  it('goes out as the identity of the answer it replaces', async () => {
    const defender = fakeDefender();
    const { clock, sent, get, scope } = defender;
    const tokens = new StaticTokenProvider('user-token', 'user:1');
    await get('a', scope({ tokens }));
    clock.t += 1_000;
    const refreshed = defender.nextRefresh();
    await get('a', scope({ tokens }));
    await refreshed;
    expect(sent.map((r) => r.token)).toEqual(['user-token', 'user-token']);
    // The application's own partition never had the answer.
    await get('a');
    expect(sent.map((r) => r.token)).toEqual(['user-token', 'user-token', 'app-token']);
  });

  it('makes an answer past its stale time a miss: a client’s call that waits for Defender', async () => {
    const { client, clock, limiter, sent, refreshes, get, scope } = fakeDefender();
    await get('a');
    clock.t += 11_000;
    expect(await client.lookup([{ api: MACHINE, id: 'a' }], scope())).toEqual([undefined]);
    const s = scope();
    await expect(get('a', s)).resolves.toEqual(nth('a', 1));
    expect(s.stats).toMatchObject({ calls: 1, cacheHits: 0, staleHits: 0, freshUntil: clock.now() + 1_000 });
    expect([sent.length, limiter.acquired.length, refreshes]).toEqual([2, 2, []]);
  });
});
