import { defineConfig } from 'vitest/config';

// One worker: every test file shares the single GPU (or lavapipe's CPU threads),
// and parallel files would only fight over it.
export default defineConfig({
  test: { pool: 'forks', maxWorkers: 1, testTimeout: 120_000, hookTimeout: 120_000 },
});
