import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { readCheckpointMeta, train, type TrainOptions } from '../../src/train/index.js';
import { sampleRecords, setup, snapshot, type Setup } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'spine-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

// 24 training films in 3 batches of 8 with augmentation and dropout, so the loader's seeds, the
// tensor RNG, momentum, the scheduler (StepLR every 2 epochs) and two parameter groups all matter.
const trainSet = sampleRecords(12);
const valSet = sampleRecords(6, 12);
const CONFIG = { test: 'resume' };

async function run(s: Setup, runDir: string, epochs: number, extra: Partial<TrainOptions> = {}) {
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
      config: CONFIG,
      stopSignals: [],
      ...extra,
    });
  } finally {
    await s.close();
  }
}
const fresh = (initSeed = 7) => setup(trainSet, valSet, { initSeed, augment: true });

describe('exact resume', () => {
  const full = join(root, 'full');
  let reference: Awaited<ReturnType<typeof snapshot>>;

  it('a run of 4 epochs equals 2 epochs + resume for 2 (weights, momentum, state bit-identical)', async () => {
    const a = await run(fresh(), full, 4);
    expect(a.status).toBe('completed');
    expect(a.epochsCompleted).toBe(4);
    reference = await snapshot(full);

    const split = join(root, 'split');
    expect((await run(fresh(), split, 2)).epochsCompleted).toBe(2);
    // A different init seed: everything must come from the checkpoint, nothing from the set-up.
    const b = await run(fresh(99), split, 4, { resume: true });
    expect(b.resumedFrom).toEqual({ epoch: 2, batch: 0 });
    const got = await snapshot(split);
    expect([...got.tensors.keys()]).toEqual([...reference.tensors.keys()]);
    expect([...got.tensors.keys()].some((k) => k.startsWith('optimizer.momentum.'))).toBe(true);
    for (const [k, v] of reference.tensors) expect(got.tensors.get(k), k).toEqual(v);
    expect(got.meta).toEqual(reference.meta);
    expect((await snapshot(split, 'best')).meta.best).toEqual(reference.meta.best);
    const lines = readFileSync(join(split, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { epoch: number; lr: number });
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4]);
    expect(lines.map((l) => l.lr)).toEqual([0.01, 0.01, 0.005, 0.005]);
  });

  it('a run stopped inside an epoch resumes to the same result', async () => {
    const dir = join(root, 'mid');
    const abort = new AbortController();
    const stopped = await run(fresh(), dir, 4, {
      abortSignal: abort.signal,
      hooks: { onBatch: (p) => p.epoch === 3 && p.batch === 1 && abort.abort() },
    });
    expect(stopped).toMatchObject({ status: 'interrupted', stopReason: 'aborted', epochsCompleted: 2 });
    const meta = (await readCheckpointMeta(dir, 'last'))!;
    expect(meta).toMatchObject({ epoch: 2, batch: 1, loaders: { train: { epoch: 2, batch: 1 } } });
    expect(meta.partial?.images).toBe(8);
    const done = await run(fresh(5), dir, 4, { resume: true });
    expect(done).toMatchObject({ status: 'completed', resumedFrom: { epoch: 2, batch: 1 } });
    const got = await snapshot(dir);
    for (const [k, v] of reference.tensors) expect(got.tensors.get(k), k).toEqual(v);
    expect(got.meta).toEqual(reference.meta);
  });

  it('leaves no tensors behind and no signal listeners installed', async () => {
    const before = T.memory().liveBytes;
    const listeners = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const s = fresh();
    let during: number[] = [];
    await run(s, join(root, 'leak'), 1, {
      stopSignals: undefined,
      hooks: { onBatch: () => (during = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]) },
    });
    expect(during).toEqual(listeners.map((n) => n + 1));
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(listeners);
    // The model is disposed by close(); the optimizer's momentum buffers are its own to free.
    s.optimizer.dispose();
    expect(T.memory().liveBytes).toBe(before);
  });

  it('refuses to overwrite a run, to resume nothing, and to resume with another config', async () => {
    await expect(run(fresh(), full, 4)).rejects.toMatchObject({ code: 'run-exists' });
    await expect(run(fresh(), join(root, 'empty'), 4, { resume: true })).rejects.toMatchObject({
      code: 'no-checkpoint',
    });
    await expect(run(fresh(), full, 5, { resume: true, config: { test: 'other' } })).rejects.toMatchObject({
      code: 'config-mismatch',
    });
  });
});
