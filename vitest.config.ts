import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/plain-summary-reporter.ts'],
    // Temporal workers hold native handles: processes isolate them better than threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
