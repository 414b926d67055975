import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './process.js';

/** A redis-server of the test's own, on a free port, that the test can kill and start again. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the server is gone at once, with everything it held (it keeps nothing on disk). */
  kill(): Promise<void>;
  /** A new, empty server on the same port. */
  start(): Promise<void>;
}

/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `redis-server` (Debian's package; `.ci/run` installs it when missing) on a free loopback port, with
 * no persistence and `extraArgs`. Stop it with `kill()` in the test's teardown.
 */
export async function startPrivateRedis(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  let server: ChildProcess | undefined;
  const handle: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      const current = server;
      server = undefined;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGKILL');
      await exited;
    },
    start: async () => {
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
        { stdio: 'ignore' },
      );
      const failed = new Promise<never>((_, reject) => {
        server!.once('error', reject);
        server!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
      });
      const deadline = Date.now() + 5_000;
      const up = (async () => {
        while (!(await listening(port))) {
          if (Date.now() > deadline) throw new Error(`redis-server not listening on ${port} after 5 s`);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.race([up, failed]);
      failed.catch(() => {});
    },
  };
  await handle.start();
  return handle;
}
