import { tmpdir } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/plain-summary-reporter.ts'],
    // Temporal workers hold native handles: processes isolate them better than threads.
    pool: 'forks',
    testTimeout: 120_000,
    // Workers in tests write their runs into temporary folders (and examples into the repo's runs/).
    env: { ARBITER_ALLOWED_OUTPUT_DIRS: [tmpdir(), process.cwd()].join(',') },
    hookTimeout: 180_000,
  },
});
