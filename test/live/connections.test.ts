import { afterEach, describe, expect, it } from 'vitest';
import { JwtAuthenticator } from '../../src/auth/jwt.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway, TestGatewayOptions } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { startTestIssuer } from '../helpers/jwt.js';
import type { LiveClient } from '../helpers/live.js';
import { eventually, sseClient, wsClient } from '../helpers/live.js';

/*
 * The connections of live subscriptions: authentication as for queries, the query limits and the cost cap at
 * subscribe time, the caps on subscriptions, a subscription sent over plain HTTP, and graceful shutdown.
 */

const ROOMY = parseRateLimits('100000/60s');
const CHANGES = 'subscription { alertChanges { kind alert { id } } }';
const SMALL = { machines: 40, users: 20, alerts: 150 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    simulator: { sizes: SMALL, rateLimits: ROOMY },
    rateLimits: ROOMY,
    ...options,
    server: { live: { pollIntervalMs: 100, ...options.server?.live }, ...options.server },
  });
  cleanups.push(() => gw.close());
  return gw;
}

function track<C extends LiveClient>(client: C): C {
  cleanups.push(() => client.dispose());
  return client;
}

const codesOf = (errors: readonly { extensions?: Record<string, unknown> }[] | undefined) =>
  (errors ?? []).map((e) => e.extensions?.['code']);

describe('authentication (AUTH_MODE=jwt)', () => {
  it('takes the bearer token from connection_init on WebSocket, from the headers on SSE, and refuses without one', async () => {
    const issuer = await startTestIssuer();
    cleanups.push(() => issuer.close());
    const authenticator = new JwtAuthenticator({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
    });
    const gw = await gateway({ server: { authenticator } });
    const token = await issuer.appToken('dashboard');

    const anonymous = track(wsClient(gw.url)).subscribe(CHANGES);
    await anonymous.ended();
    expect((anonymous.error as { code?: number }).code).toBe(4403);

    const withToken = track(wsClient(gw.url, { Authorization: `Bearer ${token}` })).subscribe(CHANGES);
    const sse = track(sseClient(gw.url, { authorization: `Bearer ${token}` })).subscribe(CHANGES);
    const sseAnonymous = track(sseClient(gw.url)).subscribe(CHANGES);
    await sseAnonymous.ended();
    expect(String(sseAnonymous.error)).toMatch(/401/);
    // A second poll starts only once the first has answered and set the watermark: an alert created before
    // that could be part of the first poll's baseline, which is not delivered.
    await eventually(() => gw.sim.calls.length > 1);
    expect(withToken.error).toBeUndefined();
    expect(sse.error).toBeUndefined();
    const created = gw.sim.createAlert({ machineId: gw.sim.tenant.machines[0]!.id });
    for (const stream of [withToken, sse]) {
      expect((await stream.nth(1)).data).toEqual({
        alertChanges: { kind: 'CREATED', alert: { id: created.id } },
      });
    }
  });
});

describe('limits at subscribe time', () => {
  it('refuses what the query limits refuse, with GRAPHQL_VALIDATION_FAILED, and no call', async () => {
    const gw = await gateway();
    const deep = `subscription { alertChanges { alert { user { ${'machines { logonUsers { '.repeat(4)} id ${'} } '.repeat(4)} } } } }`;
    const aliases = `subscription { alertChanges { ${Array.from({ length: 20 }, (_, i) => `k${i}: kind`).join(' ')} } }`;
    for (const query of [deep, aliases]) {
      const stream = track(wsClient(gw.url)).subscribe(query);
      await stream.ended();
      expect(codesOf(stream.error as never)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
    expect(gw.sim.calls).toEqual([]);
  });

  it('answers a stream request refused before it runs as a query would be: JSON in the one error shape, no call', async () => {
    const gw = await gateway({ server: { maxOperationCalls: 2 } });
    const refused = async (query: string) => {
      const res = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as { errors: { message: string; extensions?: { code?: string } }[] };
      return [res.status, res.headers.get('content-type'), codesOf(body.errors)];
    };
    const json = 'application/json; charset=utf-8';
    // Found by the request fuzz: graphql-sse answered these with a bare message and no code.
    expect(await refused('{{ __typename }')).toEqual([400, json, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(await refused('{ __typename }')).toEqual([400, json, ['BAD_USER_INPUT']]);
    expect(
      await refused(
        'subscription { alertChanges { alert { machine { osPlatform logonUsers { id } alerts { id } } } } }',
      ),
    ).toEqual([400, json, ['QUERY_TOO_EXPENSIVE']]);
    expect(gw.sim.calls).toEqual([]);
  });

  it('refuses, with QUERY_TOO_EXPENSIVE and no call, a selection whose every change would cost more than MAX_OPERATION_CALLS', async () => {
    const gw = await gateway({ server: { maxOperationCalls: 2 } });
    const costly = `subscription { alertChanges { alert { machine { osPlatform logonUsers { id } alerts { id } } user { machines { id } } } } }`;
    const stream = track(wsClient(gw.url)).subscribe(costly);
    await stream.ended();
    const [error] = stream.error as {
      extensions?: { code?: string; cost?: { estimated: number; max: number } };
    }[];
    expect(error?.extensions?.code).toBe('QUERY_TOO_EXPENSIVE');
    expect(error?.extensions?.cost).toMatchObject({ estimated: 4, max: 2 });
    expect(gw.sim.calls).toEqual([]);
  });

  it('caps subscriptions per WebSocket connection and in total with RATE_LIMITED', async () => {
    const gw = await gateway({ server: { live: { maxSubscriptionsPerConnection: 2, maxSubscriptions: 3 } } });
    const one = track(wsClient(gw.url));
    const [a, b, c] = [one.subscribe(CHANGES), one.subscribe(CHANGES), one.subscribe(CHANGES)];
    await c.ended();
    expect(codesOf(c.error as never)).toEqual(['RATE_LIMITED']);
    const other = track(sseClient(gw.url));
    const d = other.subscribe(CHANGES);
    const e = other.subscribe(CHANGES);
    await e.ended();
    expect(codesOf(e.results[0]?.errors)).toEqual(['RATE_LIMITED']);
    expect([a, b, d].map((s) => s.completed)).toEqual([false, false, false]);
  });

  it('refuses a subscription sent as a plain HTTP request, before anything runs', async () => {
    const gw = await gateway();
    const answer = await gw.query(CHANGES);
    expect(answer.status).toBe(400);
    expect(codesOf(answer.errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(answer.errors?.[0]?.message).toMatch(/WebSocket|Server-Sent Events/);
    expect(gw.sim.calls).toEqual([]);
  });

  it('takes only subscriptions over the streams: a query goes to POST /graphql', async () => {
    const gw = await gateway();
    const stream = track(wsClient(gw.url)).subscribe('{ alerts(first: 1) { nodes { id } } }');
    await stream.ended();
    expect(codesOf(stream.error as never)).toEqual(['BAD_USER_INPUT']);
    expect(gw.sim.calls).toEqual([]);
  });
});

describe('graceful shutdown', () => {
  it('completes every stream, on both transports, and stops polling', async () => {
    const gw = await startTestGateway({
      simulator: { sizes: SMALL, rateLimits: ROOMY },
      rateLimits: ROOMY,
      server: { live: { pollIntervalMs: 100 } },
    });
    const ws = track(wsClient(gw.url)).subscribe(CHANGES);
    const sse = track(sseClient(gw.url)).subscribe(CHANGES);
    await eventually(() => gw.sim.calls.length > 1);

    const closing = gw.server.close();
    await Promise.all([ws.ended(), sse.ended()]);
    await closing;
    const calls = gw.sim.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect([ws.error, sse.error]).toEqual([undefined, undefined]);
    expect([ws.completed, sse.completed]).toEqual([true, true]);
    expect(gw.sim.calls.length).toBe(calls);
    await gw.close().catch(() => {});
  });
});
