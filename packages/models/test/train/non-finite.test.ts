import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { readCheckpoint, train, TrainingError } from '../../src/train/index.js';
import { sampleRecords, setup } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'spine-nonfinite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

it('a non-finite loss stops the run with a message naming epoch and step, and keeps the last good checkpoint', async () => {
  const s = setup(sampleRecords(8), sampleRecords(4, 8), { batchSize: 4 });
  const runDir = join(root, 'run');
  let error: unknown;
  try {
    await train({
      model: s.model,
      optimizer: s.optimizer,
      trainLoader: s.trainLoader,
      valLoader: s.valLoader,
      epochs: 6,
      runDir,
      lossEvery: 1,
      stopSignals: [],
      // After a sane first epoch, an absurd learning rate (what a typo in --lr does).
      hooks: { onEpochEnd: (m) => m.epoch === 1 && s.optimizer.paramGroups.forEach((g) => (g.lr = 1e8)) },
    });
  } catch (e) {
    error = e;
  } finally {
    await s.close();
  }
  expect(error).toBeInstanceOf(TrainingError);
  const e = error as TrainingError;
  expect(e.code).toBe('non-finite-loss');
  // Caught either at a step's loss readback or, when the last update is what broke the weights,
  // by validation; both name the epoch and the step.
  expect(e.message).toMatch(
    /(training loss is \S+ at epoch 2, batch \d+ of 4|validation loss is not finite \(\S+\) after epoch 2) \(step \d+\)/,
  );
  expect(e.message).toContain('last good checkpoint is kept');
  expect(e.message).toContain('Lower the learning rate');
  const last = (await readCheckpoint(runDir, 'last'))!;
  expect(last.meta.epoch).toBe(1);
  expect(last.meta.history).toHaveLength(1);
  for (const [key, t] of last.model) expect(Array.from(t.data as Float32Array).every(Number.isFinite), key).toBe(true);
});
