import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';
import { StaticTokenProvider } from '../../src/auth/tokens.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

const machineQuery = (id: string) => `{ machine(id: "${id}") { id } alerts(first: 1) { nodes { id } } }`;

function expectNoLeak(res: unknown, gateway: TestGateway) {
  const text = JSON.stringify(res);
  expect(text).not.toContain(gateway.sim.url);
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toContain('simulator-token');
  expect(text).not.toMatch(/stack|\bat [A-Za-z]+ \(/);
}

describe('upstream failures', () => {
  it('retries a 503 and answers when Defender recovers', async () => {
    gw = await startTestGateway();
    const id = gw.sim.tenant.machines[0]!.id;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 503 }, times: 2 });
    const res = await gw.query(`{ machine(id: "${id}") { id } }`);
    expect(res.data).toEqual({ machine: { id } });
    expect(gw.sim.calls.map((c) => c.status)).toEqual([503, 503, 200]);
  });

  it('answers UPSTREAM_UNAVAILABLE after the retries, with the rest of the response intact', async () => {
    gw = await startTestGateway();
    const id = gw.sim.tenant.machines[0]!.id;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'status', status: 500 } });
    const res = await gw.query(machineQuery(id));
    expect(res.data).toEqual({ machine: null, alerts: { nodes: [{ id: gw.sim.tenant.alerts[0]!.id }] } });
    expect(res.errors).toEqual([
      {
        message: expect.any(String),
        locations: expect.any(Array),
        path: ['machine'],
        extensions: { code: 'UPSTREAM_UNAVAILABLE' },
      },
    ]);
    expect(gw.sim.calls.filter((c) => c.api === 'machines/{id}').map((c) => c.status)).toEqual([
      500, 500, 500,
    ]);
    expectNoLeak(res, gw);
  });

  it('gives up on a hanging call at the timeout and on a reset connection', async () => {
    gw = await startTestGateway({ client: { timeoutMs: 200, maxRetries: 1 } });
    const [m1, m2] = gw.sim.tenant.machines;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'hang' }, times: 2 });
    const hung = await gw.query(`{ machine(id: "${m1!.id}") { id } }`);
    expect(hung.errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_UNAVAILABLE' });
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'reset' }, times: 1 });
    const reset = await gw.query(`{ machine(id: "${m2!.id}") { id } }`);
    expect(reset.data).toEqual({ machine: { id: m2!.id } });
  });

  it('answers UPSTREAM_BAD_RESPONSE for malformed JSON and does not cache it', async () => {
    gw = await startTestGateway();
    const id = gw.sim.tenant.machines[0]!.id;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'malformed' }, times: 1 });
    const bad = await gw.query(`{ machine(id: "${id}") { id } }`);
    expect(bad.errors?.map((e) => e.extensions)).toEqual([{ code: 'UPSTREAM_BAD_RESPONSE' }]);
    const good = await gw.query(`{ machine(id: "${id}") { id } }`);
    expect(good.data).toEqual({ machine: { id } });
    expect(good.extensions!.upstream).toMatchObject({ calls: 1, cacheHits: 0 });
  });

  it('answers UNAUTHENTICATED when Defender refuses the token', async () => {
    gw = await startTestGateway({ simulator: { tokens: [{ token: 'another-token' }] } });
    const res = await gw.query(`{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id } }`);
    expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'UNAUTHENTICATED' }]);
    expect(gw.sim.calls.map((c) => c.status)).toEqual([401]);
    expectNoLeak(res, gw);
  });

  it('never follows a redirect, so the token never reaches another host', async () => {
    let reached = 0;
    const elsewhere = createServer((_, res) => {
      reached++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      gw = await startTestGateway();
      const { port } = elsewhere.address() as AddressInfo;
      gw.sim.injectFault({
        api: 'machines/{id}',
        fault: { kind: 'redirect', location: `http://127.0.0.1:${port}/api/machines/x` },
      });
      const res = await gw.query(`{ machine(id: "${gw.sim.tenant.machines[0]!.id}") { id } }`);
      expect(res.errors?.map((e) => e.extensions)).toEqual([{ code: 'UPSTREAM_BAD_RESPONSE' }]);
      expect(reached).toBe(0);
    } finally {
      elsewhere.close();
    }
  });
});

describe('static tokens', () => {
  it('names a static token by a hash, never by the token', () => {
    const provider = new StaticTokenProvider('very-secret-token');
    expect(provider.identity).not.toContain('very-secret-token');
  });
});

describe('answers that are not the documented shape', () => {
  it('masks a value the schema cannot represent, leaking nothing of it', async () => {
    gw = await startTestGateway();
    const m = gw.sim.tenant.machines[0]!;
    gw.sim.injectFault({
      api: 'machines/{id}',
      fault: { kind: 'body', body: { ...m, healthStatus: 'CanaryStatus-7f3a' } },
      times: 1,
    });
    const res = await gw.query(`{ machine(id: "${m.id}") { id healthStatus } }`);
    expect(res.errors).toEqual([
      {
        message: 'Internal server error',
        locations: expect.any(Array),
        path: ['machine', 'healthStatus'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(JSON.stringify(res)).not.toContain('CanaryStatus');
  });

  it('answers UPSTREAM_BAD_RESPONSE for a collection without its value array, on that list alone', async () => {
    gw = await startTestGateway();
    const m = gw.sim.tenant.machines[0]!;
    gw.sim.injectFault({
      api: 'machines/{id}/logonusers',
      fault: { kind: 'body', body: { values: [] } },
      times: 1,
    });
    const res = await gw.query(`{ machine(id: "${m.id}") { id logonUsers { id } } }`);
    // The relationship list is nullable: it is null with its error, and the machine keeps its data.
    expect(res.data).toEqual({ machine: { id: m.id, logonUsers: null } });
    expect(res.errors?.map((e) => [e.path, e.extensions])).toEqual([
      [['machine', 'logonUsers'], { code: 'UPSTREAM_BAD_RESPONSE' }],
    ]);
  });
});
