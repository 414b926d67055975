import { execFile } from 'node:child_process';
import { cp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The bench's server children run the gateway as the image does: JavaScript compiled by tsc under plain `node`
 * (no tsx, whose loader adds about 40 MiB of RSS the image does not carry), with the node flags of the
 * Dockerfile's CMD and its NODE_OPTIONS, read from the Dockerfile itself so that the bench and the image cannot
 * drift apart. The bare Apollo baseline runs the same way, so that ratios compare like with like.
 */

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where tsconfig.bench.json compiles src/ and bench/ (inside bench/out/, ignored by git and the linters). */
const BUILD_DIR = fileURLToPath(new URL('./out/build/', import.meta.url));

/** How a deployed gateway's node is started. */
export interface NodeLaunch {
  /** The node flags of the Dockerfile's CMD (before the script), e.g. `--enable-source-maps`. */
  readonly flags: readonly string[];
  /** The Dockerfile's `ENV NODE_OPTIONS` ('' when it sets none). */
  readonly nodeOptions: string;
}

/** Reads the Dockerfile's CMD flags and NODE_OPTIONS. */
export async function deployedLaunch(): Promise<NodeLaunch> {
  const dockerfile = await readFile(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  // One line per instruction: a backslash at the end of a line continues it.
  const instructions = dockerfile.replaceAll(/\\\n/g, ' ').split('\n');
  const cmd = instructions.findLast((line) => /^CMD\s+\[/.test(line));
  if (!cmd) throw new Error('bench: the Dockerfile has no CMD in exec form (CMD ["node", …])');
  const argv = JSON.parse(cmd.replace(/^CMD\s+/, '')) as string[];
  if (argv[0] !== 'node')
    throw new Error(`bench: the Dockerfile's CMD should start node, got ${JSON.stringify(argv)}`);
  const script = argv.findIndex((arg, i) => i > 0 && !arg.startsWith('-'));
  const env = instructions.filter((line) => /^ENV\s/.test(line)).join(' ');
  return {
    flags: argv.slice(1, script === -1 ? undefined : script),
    nodeOptions: /\bNODE_OPTIONS="([^"]*)"/.exec(env)?.[1] ?? '',
  };
}

/** The command line a child runs with, for the report: `node <flags>` and the NODE_OPTIONS beside it. */
export function describeLaunch(launch: NodeLaunch): string {
  const options = launch.nodeOptions ? `NODE_OPTIONS="${launch.nodeOptions}" ` : '';
  return `${options}node ${[...launch.flags, '--expose-gc'].join(' ')} (compiled by tsc)`;
}

let built: Promise<void> | undefined;

/** The compiled path of a bench script (`serve-gateway` → bench/out/build/bench/serve-gateway.js), built once a run. */
export async function compiledBenchScript(name: string): Promise<string> {
  built ??= build();
  await built;
  return join(BUILD_DIR, 'bench', `${name}.js`);
}

/**
 * Compiles src/ and bench/ with tsc (incremental: a few seconds once built), and copies schema/ beside them,
 * where src/graphql/schema.js reads it (`../../schema/` from itself), as the image holds it beside dist/.
 */
async function build(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.bench.json'], {
    cwd: PROJECT_ROOT,
  }).catch((error: { stdout?: string; message: string }) => {
    throw new Error(`bench: tsc -p tsconfig.bench.json failed: ${error.stdout || error.message}`);
  });
  await rm(join(BUILD_DIR, 'schema'), { recursive: true, force: true });
  await cp(join(PROJECT_ROOT, 'schema'), join(BUILD_DIR, 'schema'), { recursive: true });
}
