import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '../..');
/** tsx's loader by absolute URL: the child is `node` itself, so a signal reaches the program, not npm. */
const TSX_LOADER = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;
/**
 * Variables of the test process that would configure a gateway or simulator child, or loosen its TLS, if
 * inherited: a child sees only the configuration its test gives it (and trusts a test CA only when told to).
 */
const INHERITED =
  /^(PORT|HOST|HTTP_\w+|SHUTDOWN_\w+|NODE_ENV|DEFENDER_\w+|AZURE_\w+|AUTH_\w+|CACHE_\w+|SIMULATOR_\w+|GATEWAY_\w+|GRAPHQL_\w+|MSAL_\w+|LOG_LEVEL|REQUEST_\w+|MAX_\w+|MACHINE_\w+|ROUTER_SECRET|NODE_TLS_REJECT_UNAUTHORIZED|NODE_EXTRA_CA_CERTS)$/;

/** A port that was free a moment ago, for a child process to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Child {
  readonly process: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * Starts `command` and resolves once its output matches `ready`, or rejects with its output when it exits
 * first or `timeoutMs` passes.
 */
export async function startChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 20_000,
  inherit = true,
): Promise<Child> {
  const base = inherit
    ? process.env
    : Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED.test(name)));
  // Its own process group, so that stopping it also stops what it started (npm → sh → tsx → node).
  const child = spawn(command, args, {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const handle: Child = {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      process.kill(-child.pid!, 'SIGTERM');
      return exited;
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void handle.stop();
      reject(new Error(`not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready:\n${output}`));
    });
  });
  return handle;
}

/**
 * Runs a TypeScript entry point of the project (`src/index.ts`, `src/simulator/main.ts`) as `node` with tsx's
 * loader, configured by `env` alone: the test process's own gateway and simulator variables are not passed on.
 */
export function startProgram(
  entry: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<Child> {
  return startChild(
    process.execPath,
    ['--import', TSX_LOADER, join(ROOT, entry)],
    env,
    ready,
    timeoutMs,
    false,
  );
}
