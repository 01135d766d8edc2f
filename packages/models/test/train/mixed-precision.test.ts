// The trainer's precision 'mixed' (autocast + dynamic loss scaling) on the tiny SequentialCNN:
// it learns as the f32 run does, keeps its parameters f32, and takes a path of its own (f16
// operands: not the f32 run's weights bit for bit, yet close to them).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { stableKey } from '../../src/data/stable-key.js';
import {
  MemoryRunStore,
  readCheckpointMeta,
  train,
  trainInStore,
  type EpochMetrics,
  type TrainOptions,
} from '../../src/train/index.js';
import { sampleRecords, setup, snapshot, type Setup } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'spine-mixed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

async function run(precision: 'f32' | 'mixed') {
  const s = setup(sampleRecords(100), sampleRecords(40, 100), {
    lr: 0.02,
    batchSize: 16,
    stepSize: 4,
    config: { dropout: 0, initStd: 0.15 },
    cacheDir: join(root, 'cache'),
  });
  const history: EpochMetrics[] = [];
  try {
    const result = await trainInStore({
      model: s.model,
      optimizer: s.optimizer,
      scheduler: s.scheduler,
      trainLoader: s.trainLoader,
      valLoader: s.valLoader,
      epochs: 6,
      precision,
      store: new MemoryRunStore({ name: precision }),
      configHash: stableKey({ precision }),
      hooks: { onEpochEnd: (m) => history.push(m) },
    });
    const params = s.model.parameters();
    const weights = await Promise.all(params.map(async (p) => Array.from(await p.data())));
    return { result, history, weights, dtypes: params.map((p) => p.dtype) };
  } finally {
    s.close();
  }
}

it.runIf(() => T.getEngine().device.features.has('shader-f16'))(
  "precision 'mixed' learns like f32, with f32 parameters and weights of its own",
  { timeout: 600_000 },
  async () => {
    const f32 = await run('f32');
    const mixed = await run('mixed');
    expect(mixed.result.status).toBe('completed');
    expect(mixed.dtypes.every((d) => d === 'f32')).toBe(true);
    expect(mixed.history.at(-1)!.trainLoss).toBeLessThan(mixed.history[0]!.trainLoss);
    // Measured on lavapipe: best validation accuracy 0.81 for both (chance 0.5), as learns.test.ts's bar.
    expect(f32.result.best!.value).toBeGreaterThan(0.65);
    expect(mixed.result.best!.value).toBeGreaterThan(0.65);
    const flat = (w: number[][]) => w.flat();
    const a = flat(f32.weights);
    const b = flat(mixed.weights);
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < a.length; i++) {
      diff += (a[i]! - b[i]!) ** 2;
      norm += a[i]! ** 2;
    }
    // f16 operands change every step a little: after 78 steps the weights sit 7% (relative L2)
    // from the f32 run's on lavapipe; an f32 path would give 0, a broken one far more.
    const distance = Math.sqrt(diff / norm);
    expect(distance).toBeGreaterThan(0);
    expect(distance).toBeLessThan(0.25);
  },
);

// Resume: the checkpoint carries the loss scale and its count of finite steps since the scale
// last changed, so 2 epochs + resume for 2 end where 4 epochs end: the same weights bit for bit
// and the same scaler state (here 65536 after 12 finite steps: a restarted count would say 6).
async function resumable(s: Setup, runDir: string, epochs: number, extra: Partial<TrainOptions> = {}) {
  try {
    return await train({
      model: s.model,
      optimizer: s.optimizer,
      scheduler: s.scheduler,
      trainLoader: s.trainLoader,
      valLoader: s.valLoader,
      epochs,
      runDir,
      lossEvery: 2,
      precision: 'mixed',
      config: { test: 'mixed-resume' },
      stopSignals: [],
      ...extra,
    });
  } finally {
    await s.close();
  }
}

it.runIf(() => T.getEngine().device.features.has('shader-f16'))(
  'a mixed-precision run of 4 epochs equals 2 epochs + resume for 2, loss scale included',
  { timeout: 600_000 },
  async () => {
    const fresh = (initSeed = 7) => setup(sampleRecords(12), sampleRecords(6, 12), { initSeed, augment: true });
    const full = join(root, 'mixed-full');
    await resumable(fresh(), full, 4);
    const split = join(root, 'mixed-split');
    await resumable(fresh(), split, 2);
    const half = (await readCheckpointMeta(split, 'last'))!;
    expect(half.gradScaler).toEqual({ scale: 65536, growthTracker: 6 });
    await resumable(fresh(99), split, 4, { resume: true });
    const [want, got] = [await snapshot(full), await snapshot(split)];
    for (const [k, v] of want.tensors) expect(got.tensors.get(k), k).toEqual(v);
    expect((await readCheckpointMeta(split, 'last'))!.gradScaler).toEqual(
      (await readCheckpointMeta(full, 'last'))!.gradScaler,
    );
  },
);

// Momentum with a dampening: a step skipped on the device could not start the buffers as PyTorch
// does, so the scaler reads its overflow check on the host and the steps are recorded, not
// replayed; the run still trains and reports its loss scale.
it.runIf(() => T.getEngine().device.features.has('shader-f16'))(
  'with a dampening, mixed steps check on the host and are recorded',
  { timeout: 600_000 },
  async () => {
    const s = setup(sampleRecords(12), sampleRecords(6, 12), { augment: true });
    for (const g of s.optimizer.paramGroups) g.dampening = 0.1;
    const result = await resumable(s, join(root, 'mixed-damped'), 2);
    expect(result.status).toBe('completed');
    expect(result.step).toBe(6);
    expect(result.stepReplay).toMatchObject({ replays: 0, captures: 0 });
    expect(result.stepReplay.reason).toMatch(/dampening/);
    expect(result.lossScale).toEqual({ scale: 65536, skippedSteps: 0 });
  },
);
