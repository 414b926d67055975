import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { MachineDto } from '../../src/defender/types.js';
import { freePort, startChild } from '../helpers/process.js';

const exec = promisify(execFile);

describe('npm run simulator', () => {
  it('serves the tenant of its seed to curl, configured by environment', async () => {
    const port = await freePort();
    const child = await startChild(
      'npm',
      ['run', '--silent', 'simulator'],
      {
        SIMULATOR_PORT: String(port),
        SIMULATOR_SEED: '7',
        SIMULATOR_MACHINES: '40',
        SIMULATOR_USERS: '20',
        SIMULATOR_ALERTS: '60',
        SIMULATOR_TOKEN: 'standalone-token',
        SIMULATOR_RATE_LIMITS: '2/60s',
        SIMULATOR_LATENCY_MS: '5',
      },
      /Defender simulator on/,
    );
    try {
      expect(child.output()).toContain(
        `http://127.0.0.1:${port}/api (seed 7: 40 machines, 20 users, 60 alerts)`,
      );
      const curl = (token: string) =>
        exec('curl', [
          '-s',
          '-w',
          '\n%{http_code}',
          '-H',
          `Authorization: Bearer ${token}`,
          `http://127.0.0.1:${port}/api/machines`,
        ]);
      const { stdout } = await curl('standalone-token');
      const [body, status] = stdout.split('\n');
      expect(status).toBe('200');
      expect((JSON.parse(body!) as { value: MachineDto[] }).value).toHaveLength(40);
      expect((await curl('simulator-token')).stdout.endsWith('401')).toBe(true);
      await curl('standalone-token');
      expect((await curl('standalone-token')).stdout.endsWith('429')).toBe(true);
    } finally {
      await child.stop();
    }
  });

  it('refuses to start on a bad variable, naming it', async () => {
    await expect(
      startChild(
        'npm',
        ['run', '--silent', 'simulator'],
        { SIMULATOR_RATE_LIMITS: '100 per minute' },
        /never/,
      ),
    ).rejects.toThrow(/SIMULATOR_RATE_LIMITS: expected windows like/);
  });
});
