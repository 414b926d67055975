import type { Writable } from 'node:stream';
import type { UserConsoleLog } from 'vitest';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import { CANARIES, findCanaries } from './canary.js';

/**
 * Fails the whole run when a canary (`canary.ts`) appears in anything the suite printed or reported: every
 * byte written to the terminal streams (reporters' output, worker processes' stdout and stderr, console output
 * of tests), every console call of a test as Vitest reports it, every test error (message, stack, diff) and
 * annotation, and every module and unhandled error. Output of child processes counts when a test prints it;
 * tests that start children assert on their output themselves with `assertNoCanary`.
 *
 * A leak sets the exit code to 1 and is reported by canary name and place, never by value.
 */
export default class CanaryReporter implements Reporter {
  /** Where each canary was seen: place → canary names. */
  readonly #hits = new Map<string, Set<string>>();
  /** Test, suite and module ids → names, to say which test printed a console line. */
  readonly #names = new Map<string, string>();

  onInit(vitest: Vitest): void {
    this.#watch(vitest.logger.outputStream, 'the terminal (stdout)');
    this.#watch(vitest.logger.errorStream, 'the terminal (stderr)');
  }

  onTestRunStart(): void {
    this.#hits.clear();
  }

  onTestModuleCollected(testModule: TestModule): void {
    const file = testModule.relativeModuleId;
    this.#names.set(testModule.id, file);
    for (const task of [...testModule.children.allSuites(), ...testModule.children.allTests()])
      this.#names.set(task.id, `${file} > ${task.fullName}`);
  }

  onUserConsoleLog(log: UserConsoleLog): void {
    const source = (log.taskId && this.#names.get(log.taskId)) ?? log.taskId ?? 'a test';
    this.#scan(log.content, `the console ${log.type} of ${source}`);
  }

  onTestCaseResult(testCase: TestCase): void {
    const where = `${testCase.module.relativeModuleId} > ${testCase.fullName}`;
    const result = testCase.result();
    if (result.state === 'failed') this.#scan(JSON.stringify(result.errors), `the errors of ${where}`);
    this.#scan(JSON.stringify(testCase.annotations()), `the annotations of ${where}`);
  }

  onTestModuleEnd(testModule: TestModule): void {
    this.#scan(JSON.stringify(testModule.errors()), `the errors of ${testModule.relativeModuleId}`);
  }

  onTestRunEnd(_: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    this.#scan(JSON.stringify(unhandledErrors), 'the unhandled errors');
    if (this.#hits.size === 0) return;
    const lines = [...this.#hits].map(([where, names]) => `  ${[...names].join(', ')} in ${where}`);
    process.stderr.write(
      `\nCanary leak: a secret the gateway holds was printed or reported. Search the output for these:\n` +
        `${lines.join('\n')}\n(${CANARIES.map((c) => c.name).join(', ')} are defined in test/helpers/canary.ts.)\n\n`,
    );
    process.exitCode = 1;
  }

  #scan(text: string | undefined, where: string): void {
    if (!text) return;
    for (const name of findCanaries(text)) {
      const names = this.#hits.get(where) ?? new Set<string>();
      this.#hits.set(where, names.add(name));
    }
  }

  /**
   * Scans everything written to a stream for the rest of the process, across chunk boundaries and ignoring
   * colour codes (which may split a string in a diff), without changing what is written.
   */
  #watch(stream: Writable, where: string): void {
    const longest = Math.max(...CANARIES.map((c) => c.value.length));
    const original = stream.write;
    let tail = '';
    const write = function (this: Writable, chunk: unknown, ...rest: unknown[]): boolean {
      const text =
        typeof chunk === 'string'
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : '';
      const plain = stripAnsi(tail + text);
      scan(plain);
      tail = (tail + text).slice(-(longest + 64));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    };
    const scan = (text: string) => this.#scan(text, where);
    stream.write = write as Writable['write'];
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
