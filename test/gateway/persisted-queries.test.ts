import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

async function post(
  url: string,
  body: unknown,
): Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as never;
}

describe('automatic persisted queries', () => {
  it('are registered in their byte-bounded cache and served by hash', async () => {
    const metrics = createMetrics({ processMetrics: false });
    gw = await startTestGateway({ server: { metrics } });
    const query = '{ alerts(first: 1) { nodes { id } } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };

    const unknown = await post(gw.url, { extensions });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(gw.url, { query, extensions });
    expect(registered.errors).toBeUndefined();
    const byHash = await post(gw.url, { extensions });
    expect(byHash.data).toEqual(registered.data);

    const text = await metrics.registry.metrics();
    const bytes = Number(/^gateway_cache_bytes\{cache="persistedQueries"\} (\S+)$/m.exec(text)?.[1]);
    expect(bytes).toBeGreaterThanOrEqual(query.length * 2);
  });
});
