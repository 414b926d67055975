import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCanaries, redactCanaries } from '../helpers/canary.js';

/**
 * The canary reporter can fail a run: a Vitest of its own runs `fixtures/leaks.fixture.ts` with the reporter,
 * once per way of leaking. What that Vitest prints holds the canaries, so it is only ever searched, and shown
 * redacted.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const CONFIG = join(import.meta.dirname, 'fixtures/vitest.fixture.config.ts');

/** Runs the fixture with `CANARY_FIXTURE=leak`, in colour (so that diffs are split by escape codes). */
function runFixture(leak: string): Promise<{ code: number | null; output: string }> {
  // This process's Vitest variables would make the inner Vitest think it runs inside a worker.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^VITEST|^TEST$/.test(name)),
  );
  const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG], {
    cwd: ROOT,
    env: { ...env, CANARY_FIXTURE: leak, FORCE_COLOR: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((done) => child.once('close', (code) => done({ code, output })));
}

/** The reporter's own lines: which canaries it names where, and whether it leaked one itself. */
function report(output: string) {
  const at = output.indexOf('Canary leak:');
  const text = at === -1 ? '' : output.slice(at);
  return {
    found: at !== -1,
    lines: text
      .split('\n')
      .filter((line) => /^ {2}CANARY_/.test(line))
      .map((line) => line.trim()),
    leaksItself: findCanaries(text).length > 0,
  };
}

describe('canary reporter', () => {
  it('fails a run that printed or reported a canary, naming where, and passes a clean one', async () => {
    const [none, consoled, stdout, error] = await Promise.all([
      runFixture('none'),
      runFixture('console'),
      runFixture('stdout'),
      runFixture('error'),
    ]);
    const summary = (run: { code: number | null; output: string }) => ({
      code: run.code,
      ...report(run.output),
    });

    expect(summary(none), redactCanaries(none.output)).toEqual({
      code: 0,
      found: false,
      lines: [],
      leaksItself: false,
    });
    expect(summary(consoled), redactCanaries(consoled.output)).toEqual({
      code: 1,
      found: true,
      lines: expect.arrayContaining([
        expect.stringMatching(
          /^CANARY_TOKEN in the console stdout of test\/security\/fixtures\/leaks\.fixture\.ts > prints/,
        ),
      ]),
      leaksItself: false,
    });
    expect(summary(stdout), redactCanaries(stdout.output)).toEqual({
      code: 1,
      found: true,
      lines: ['CANARY_SECRET in the terminal (stdout)'],
      leaksItself: false,
    });
    expect(summary(error), redactCanaries(error.output)).toEqual({
      code: 1,
      found: true,
      lines: expect.arrayContaining([
        expect.stringMatching(
          /^CANARY_TOKEN in the errors of test\/security\/fixtures\/leaks\.fixture\.ts > /,
        ),
      ]),
      leaksItself: false,
    });
  });
});
