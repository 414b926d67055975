import { afterEach, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

let gw: TestGateway | undefined;
afterEach(() => gw?.close());

async function cacheControlOf(url: string, query: string): Promise<string | null> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  await res.arrayBuffer();
  return res.headers.get('cache-control');
}

describe('GraphQL responses', () => {
  it('tell shared caches not to keep them (Cache-Control: no-store), with data, errors or from the response cache', async () => {
    gw = await startTestGateway();
    const query = '{ alerts(first: 2) { nodes { id } } }';
    expect(await cacheControlOf(gw.url, query)).toBe('no-store');
    // The second is served from the response cache.
    expect(await cacheControlOf(gw.url, query)).toBe('no-store');
    expect(await cacheControlOf(gw.url, '{ alert(id: "no such id!") { id } }')).toBe('no-store');
    expect(await cacheControlOf(gw.url, '{ nope }')).toBe('no-store');
  });
});
