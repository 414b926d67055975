import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

const UNIT = 'test/unit/**/*.test.ts';

export default defineConfig({
  resolve: {
    // graphql as Node loads it, everywhere (graphql 16 has no `exports`: Node's `import` takes its CommonJS
    // `main`): vite would otherwise give the sources its ES build while Apollo and graphql-jit, which Node loads,
    // get the CommonJS one, and a schema built by one is refused by the other's checks.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    pool: 'forks',
    // For the whole run, every project: the canary reporter fails it if a secret the gateway holds was ever
    // printed or reported.
    reporters: ['default', './test/helpers/canary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          // One module at a time, in memory: no network, no service, no socket, no child process (the setup file
          // makes any socket throw). `npm run test:unit`.
          name: 'unit',
          include: [UNIT],
          setupFiles: ['./test/helpers/no-sockets.ts'],
          testTimeout: 5_000,
          // In-memory modules need no process each, nor a fresh module graph per file: threads sharing one graph
          // run the tier in ~8 s instead of ~23 (its bound is 20 s). Nothing here mocks a module or stubs a
          // global, and every fake timer is restored after its test; the order is checked with --sequence.shuffle.
          pool: 'threads',
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          // The gateway, the simulator, Redis, child processes and the browser, over real sockets.
          // `npm run test:e2e`.
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, UNIT],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
