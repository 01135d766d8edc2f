// The trainer replays its steps (T.replayable): a run with replay must end bit for bit where a
// run that records every step ends (weights, momentum, batch norm statistics and counts,
// metrics, validation loss and accuracy), through dropout, batch norm, two parameter groups and a
// learning rate that changes; in f32 and in mixed precision (the loss scale and its growth
// count, kept on the device, included).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { probabilitiesStep, train, type TrainResult } from '../../src/train/index.js';
import { sampleRecords, setup, snapshot } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'spine-replay-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

// 24 films in 6 batches of 4: a replay is ready after the third step and serves the rest.
const trainSet = sampleRecords(12);
const valSet = sampleRecords(4, 12);

async function run(runDir: string, replaySteps: boolean, precision: 'f32' | 'mixed' = 'f32'): Promise<TrainResult> {
  // Validation in 4 batches of 2: it replays too.
  const s = setup(trainSet, valSet, {
    batchSize: 4,
    valBatchSize: 2,
    augment: true,
    stepSize: 1,
    config: { batchNorm: true },
  });
  try {
    return await train({
      model: s.model,
      optimizer: s.optimizer,
      scheduler: s.scheduler,
      trainLoader: s.trainLoader,
      valLoader: s.valLoader,
      epochs: 3,
      runDir,
      lossEvery: 2,
      config: { test: 'replay' },
      stopSignals: [],
      replaySteps,
      precision,
    });
  } finally {
    s.optimizer.dispose();
    await s.close();
  }
}

describe('trainer step replay', () => {
  it('a replayed run ends bit for bit where a recorded run ends', async () => {
    const recorded = await run(join(root, 'recorded'), false);
    const replayed = await run(join(root, 'replayed'), true);
    expect(recorded.stepReplay.replays).toBe(0);
    // Each epoch has a new learning rate (StepLR every epoch): two captures, then replays.
    expect(replayed.stepReplay).toMatchObject({ reason: null, captures: 6 });
    expect(replayed.stepReplay.replays).toBe(18 - 6 - 1);
    const [a, b] = [await snapshot(join(root, 'recorded')), await snapshot(join(root, 'replayed'))];
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    expect([...a.tensors.keys()].some((k) => k.endsWith('num_batches_tracked'))).toBe(true);
    for (const [k, v] of a.tensors) expect(b.tensors.get(k), k).toEqual(v);
    expect(b.meta).toEqual(a.meta);
  });

  it('mixed precision: a replayed run ends bit for bit where a recorded run ends', async (ctx) => {
    if (!T.getEngine().device.features.has('shader-f16')) ctx.skip();
    const recorded = await run(join(root, 'mixed-recorded'), false, 'mixed');
    const replayed = await run(join(root, 'mixed-replayed'), true, 'mixed');
    expect(recorded.stepReplay.replays).toBe(0);
    expect(replayed.stepReplay).toMatchObject({ reason: null, captures: 6 });
    expect(replayed.stepReplay.replays).toBe(18 - 6 - 1);
    const [a, b] = [await snapshot(join(root, 'mixed-recorded')), await snapshot(join(root, 'mixed-replayed'))];
    for (const [k, v] of a.tensors) expect(b.tensors.get(k), k).toEqual(v);
    expect(b.meta).toEqual(a.meta);
    // 18 steps without an overflow: the scale as it started, counted up on the device.
    expect(a.meta.gradScaler).toEqual({ scale: 65536, growthTracker: 18 });
  });

  it('replayed probabilities equal recorded ones bit for bit', async () => {
    const s = setup(trainSet, valSet, { config: { batchNorm: true } });
    s.model.eval();
    const batches = [0, 1, 2, 3, 4, 5].map((i) => T.rand([3, 3, 32, 32], { seed: 40 + i }).keep());
    const probabilities = async (replay: boolean) => {
      const step = probabilitiesStep(s.model, { replay });
      const out: Float32Array[] = [];
      for (const x of batches) {
        const p = step.run(x);
        out.push((await p.data()) as Float32Array);
        p.dispose();
      }
      const replays = step.replays;
      step.dispose();
      return { out, replays };
    };
    const recorded = await probabilities(false);
    const replayed = await probabilities(true);
    expect(replayed.replays).toBe(4);
    replayed.out.forEach((p, i) => expect(p).toEqual(recorded.out[i]));
    for (const x of batches) x.dispose();
    await s.close();
  });
});
