import { describe, expect, it } from 'vitest';
import { freePort, startChild } from '../helpers/process.js';

describe('npm start', () => {
  it('serves the graph against the embedded simulator, with no credentials', async () => {
    const port = await freePort();
    const child = await startChild(
      'npm',
      ['start', '--silent'],
      { PORT: String(port) },
      /GraphQL on/,
      30_000,
    );
    try {
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: '{ alerts(first: 2) { nodes { id machine { computerDnsName } user { machines { id } } } } }',
        }),
      });
      const body = (await res.json()) as {
        data: { alerts: { nodes: { id: string }[] } };
        extensions: { upstream: { calls: number } };
      };
      expect(res.status).toBe(200);
      expect(body.data.alerts.nodes).toHaveLength(2);
      expect(body.extensions.upstream.calls).toBeGreaterThan(1);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      await child.stop();
    }
  });

  it('refuses to start on a bad variable, naming it', async () => {
    await expect(
      startChild('npm', ['start', '--silent'], { DEFENDER_RATE_LIMITS: 'lots' }, /never/),
    ).rejects.toThrow(/bad configuration: DEFENDER_RATE_LIMITS: expected windows like/);
  });
});
