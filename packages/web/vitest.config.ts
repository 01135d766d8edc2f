import { defineConfig } from 'vitest/config';

// One worker: the GPU tests share the one adapter (lavapipe's CPU threads here).
export default defineConfig({
  test: { pool: 'forks', maxWorkers: 1, testTimeout: 120_000, hookTimeout: 120_000 },
});
