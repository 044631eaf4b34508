import { defineConfig } from 'vitest/config';

// Zones are real processes on the real kernel: run test files in forked
// workers (never threads: the addon's supervisor thread and namespaces do not
// belong in a worker_thread), a few at a time on this 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
