import { defineConfig } from 'vitest/config';

// One worker: every test file shares the single GPU (or lavapipe's CPU threads),
// and parallel files would only fight over it.
export default defineConfig({
  // No kernel warmer (a detached process compiling wide matmul blocks): a test that crossed its
  // work threshold would leave one running; test/matmul-tiers.test.ts covers it on purpose.
  test: { pool: 'forks', maxWorkers: 1, testTimeout: 120_000, hookTimeout: 120_000, env: { SPINE_TENSOR_WARMER: '0' } },
});
