import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';

/**
 * With AUTH_MODE=none every caller is trusted, so `npm start` listens on loopback only unless HOST says
 * otherwise. Linux routes all of 127.0.0.0/8 to the loopback interface: a server on every interface answers on
 * 127.0.0.2, one bound to 127.0.0.1 does not, which tells the two apart without a second network interface.
 */

/** `/healthz`'s status at `host`, or the error code when the connection fails. */
async function healthz(host: string, port: number): Promise<number | string> {
  try {
    return (await fetch(`http://${host}:${port}/healthz`)).status;
  } catch (error) {
    return ((error as Error).cause as { code?: string } | undefined)?.code ?? 'failed';
  }
}

async function startGateway(env: Record<string, string>): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  // No DEFENDER_API_URL: the embedded simulator, and AUTH_MODE defaults to none.
  const child = await startProgram('src/index.ts', { PORT: String(port), ...env }, /GraphQL on/);
  return { child, port };
}

describe('AUTH_MODE=none without HOST', () => {
  let gateway: { child: Child; port: number };
  beforeAll(async () => {
    gateway = await startGateway({});
  }, 40_000);
  afterAll(() => gateway?.child.stop());

  it('answers on 127.0.0.1 and refuses connections on any other address', async () => {
    expect(await healthz('127.0.0.1', gateway.port)).toBe(200);
    expect(await healthz('127.0.0.2', gateway.port)).toBe('ECONNREFUSED');
  });

  it('warns that it trusts every caller and listens on loopback only', () => {
    const warning = gateway.child
      .output()
      .split('\n')
      .filter((line) => line.includes('AUTH_MODE=none'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; host: string });
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatchObject({ level: 'warn', host: '127.0.0.1' });
    expect(warning[0]!.msg).toMatch(/loopback \(127\.0\.0\.1\) only/);
  });
});

describe('AUTH_MODE=none with HOST=0.0.0.0', () => {
  let gateway: { child: Child; port: number };
  beforeAll(async () => {
    gateway = await startGateway({ HOST: '0.0.0.0' });
  }, 40_000);
  afterAll(() => gateway?.child.stop());

  it('answers on every address', async () => {
    expect(await healthz('127.0.0.1', gateway.port)).toBe(200);
    expect(await healthz('127.0.0.2', gateway.port)).toBe(200);
    expect(gateway.child.output()).toMatch(/"host":"0\.0\.0\.0".*listening on HOST=0\.0\.0\.0/);
  });
});
