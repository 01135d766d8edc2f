import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Linear, SGD, softmaxCrossEntropy } from '@spine/nn';
import {
  applyCheckpointTensors,
  checkpointDir,
  readCheckpoint,
  saveCheckpoint,
  type SaveInput,
  type TrainingError,
} from '../../src/train/index.js';

const root = mkdtempSync(join(tmpdir(), 'spine-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

/** A Linear(3, 2) after one momentum step, so there are momentum buffers to save. */
function trained(seed: number): { model: Linear; optimizer: SGD } {
  T.manualSeed(seed);
  const model = new Linear(3, 2);
  const optimizer = new SGD([{ params: [model.param('weight')] }, { params: [model.param('bias')], lr: 0.5 }], {
    lr: 0.1,
    momentum: 0.9,
  });
  const loss = T.scope(() =>
    softmaxCrossEntropy(model.forward(T.randn([4, 3], { seed })), T.tensor(Int32Array.of(0, 1, 1, 0))),
  );
  loss.backward();
  optimizer.step();
  optimizer.zeroGrad();
  loss.dispose();
  return { model, optimizer };
}

function input(s: { model: Linear; optimizer: SGD }, epoch: number): SaveInput {
  return {
    ...s,
    epoch,
    batch: 0,
    step: epoch * 3,
    scheduler: { lastEpoch: epoch },
    rng: T.getRngState(),
    loaders: { train: { seed: 1, epoch, batch: 0 }, val: null },
    best: { metric: 'valAccuracy', value: 0.5, epoch },
    partial: null,
    history: [],
    configHash: 'abc',
  };
}

describe('checkpoints', () => {
  it('round-trip weights, momentum and group options into fresh objects', async () => {
    const dir = join(root, 'rt');
    const a = trained(1);
    await saveCheckpoint(dir, input(a, 1), ['last', 'best']);
    const b = trained(2);
    const ckpt = (await readCheckpoint(dir, 'best'))!;
    b.optimizer.paramGroups[1]!.lr = 7;
    applyCheckpointTensors(ckpt, b.model, b.optimizer);
    expect(await b.model.param('weight').toArray()).toEqual(await a.model.param('weight').toArray());
    expect(b.optimizer.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    const ma = a.optimizer.stateDict().momentumBuffers;
    const mb = b.optimizer.stateDict().momentumBuffers;
    expect([...mb.keys()]).toEqual([0, 1]);
    for (const [i, t] of ma) expect(await mb.get(i)!.toArray()).toEqual(await t.toArray());
    // One tensor file per checkpoint name; `best` shares `last`'s bytes.
    expect(readdirSync(checkpointDir(dir)).sort()).toEqual(
      ['best.json', 'last.json', ckpt.meta.tensors, (await readCheckpoint(dir, 'last'))!.meta.tensors].sort(),
    );
  });

  it('a save interrupted before its sidecar leaves the previous checkpoint whole; the next save removes the orphan', async () => {
    const dir = join(root, 'orphan');
    const s = trained(3);
    await saveCheckpoint(dir, input(s, 1), ['last']);
    const before = (await readCheckpoint(dir, 'last'))!;
    // What a kill between the two renames leaves: a new tensor file no sidecar names yet.
    const orphan = join(checkpointDir(dir), 'last-e0002b0000-deadbeef.safetensors');
    writeFileSync(orphan, 'partial');
    const again = (await readCheckpoint(dir, 'last'))!;
    expect(again.meta).toEqual(before.meta);
    expect(again.model.get('weight')).toEqual(before.model.get('weight'));
    await saveCheckpoint(dir, input(s, 2), ['last']);
    const files = readdirSync(checkpointDir(dir));
    expect(files).not.toContain('last-e0002b0000-deadbeef.safetensors');
    expect(files).not.toContain(before.meta.tensors);
    expect(files.filter((f) => f.endsWith('.safetensors'))).toHaveLength(1);
    expect((await readCheckpoint(dir, 'last'))!.meta.epoch).toBe(2);
  });

  it('a sidecar naming a missing or corrupt tensor file is a clear error', async () => {
    const dir = join(root, 'corrupt');
    const s = trained(4);
    const meta = await saveCheckpoint(dir, input(s, 1), ['last']);
    writeFileSync(join(checkpointDir(dir), meta.tensors), 'garbage');
    await expect(readCheckpoint(dir, 'last')).rejects.toMatchObject({
      code: 'bad-checkpoint',
      message: expect.stringContaining(meta.tensors),
    });
    writeFileSync(join(checkpointDir(dir), 'last.json'), '{"format":"other"}');
    await expect(readCheckpoint(dir, 'last')).rejects.toMatchObject({ code: 'bad-checkpoint' });
  });

  it('a truncated tensor file or a damaged sidecar is a bad-checkpoint error naming the file once', async () => {
    const dir = join(root, 'damaged');
    const meta = await saveCheckpoint(dir, input(trained(5), 1), ['last']);
    const tensors = join(checkpointDir(dir), meta.tensors);
    const sidecar = join(checkpointDir(dir), 'last.json');
    const good = readFileSync(sidecar, 'utf8');
    truncateSync(tensors, meta.tensorsBytes - 7);
    const cut = await readCheckpoint(dir, 'last').catch((e: unknown) => e as TrainingError);
    expect(cut).toMatchObject({ code: 'bad-checkpoint', file: tensors });
    expect((cut as Error).message).toContain('truncated');
    expect((cut as Error).message.split(tensors)).toHaveLength(2);
    for (const [text, words] of [
      [good.slice(0, 40), 'not valid JSON'],
      ['null', 'not a spine checkpoint'],
      [JSON.stringify({ ...JSON.parse(good), tensors: undefined }), "'tensors'"],
      [JSON.stringify({ ...JSON.parse(good), tensors: '../../elsewhere.safetensors' }), "'tensors'"],
      [JSON.stringify({ ...JSON.parse(good), epoch: -1 }), "'epoch'"],
      [JSON.stringify({ ...JSON.parse(good), history: 3 }), "'history'"],
    ] as const) {
      writeFileSync(sidecar, text);
      const e = await readCheckpoint(dir, 'last').catch((err: unknown) => err as TrainingError);
      expect(e).toMatchObject({ name: 'TrainingError', code: 'bad-checkpoint', file: sidecar });
      expect((e as Error).message).toContain(words);
      expect((e as Error).message.split(sidecar)).toHaveLength(2);
    }
  });

  it('a checkpoint of another network is a wrong-model error naming the file', async () => {
    const dir = join(root, 'other-model');
    const meta = await saveCheckpoint(dir, input(trained(6), 1), ['best']);
    const ckpt = (await readCheckpoint(dir, 'best'))!;
    const other = new Linear(4, 2);
    expect(() => applyCheckpointTensors(ckpt, other)).toThrow(
      expect.objectContaining({
        name: 'TrainingError',
        code: 'wrong-model',
        file: join(checkpointDir(dir), meta.tensors),
      }),
    );
    expect(() => applyCheckpointTensors(ckpt, other)).toThrow(
      /'weight' has shape \[2, 3\] in the checkpoint but \[2, 4\] in the model/,
    );
    other.dispose();
  });
});
