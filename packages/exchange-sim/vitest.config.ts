// Package-local config (no global setup: the simulator needs neither Postgres nor Redis).
// `pnpm exec vitest run --config packages/exchange-sim/vitest.config.ts`
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/exchange-sim/src/**/*.test.ts'],
    root: new URL('../..', import.meta.url).pathname,
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
  },
});
