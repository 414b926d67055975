import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

/** Sends a query and gives up on it after `ms`, as a browser tab closing would. */
async function abandon(url: string, query: string, ms: number): Promise<void> {
  await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(ms),
  }).catch(() => undefined);
}

describe('a client that disconnects', () => {
  it('takes its queued upstream calls out of the limiter queue, so they are never sent', async () => {
    gw = await startTestGateway({
      rateLimits: parseRateLimits('1/3s'),
      server: { requestDeadlineMs: 30_000 },
    });
    const [m1, m2] = gw.sim.tenant.machines;
    await gw.query(`{ machine(id: "${m1!.id}") { id } }`);
    await abandon(gw.url, `{ machine(id: "${m2!.id}") { id } }`, 300);
    await sleep(100);
    expect(gw.limiter.queueDepths()['machines/{id}'] ?? 0).toBe(0);
    await sleep(3_200);
    expect(gw.sim.calls.map((c) => c.id)).toEqual([m1!.id]);
  });

  it('aborts its call in flight, and does not retry it', async () => {
    // Without the abort, the hanging call would time out after 1 s and be retried.
    gw = await startTestGateway({ client: { timeoutMs: 1_000 } });
    const id = gw.sim.tenant.machines[0]!.id;
    gw.sim.injectFault({ api: 'machines/{id}', fault: { kind: 'hang' } });
    await abandon(gw.url, `{ machine(id: "${id}") { id } }`, 300);
    await sleep(1_800);
    expect(gw.sim.calls.map((c) => c.fault)).toEqual(['hang']);
  });
});
