import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The canary reporter fails the run if a secret the gateway holds was ever printed or reported.
    reporters: ['default', './test/helpers/canary-reporter.ts'],
  },
});
