// The trainer over a MemoryRunStore (a web page's run) writes what it writes into a run
// directory: the same sidecars and tensors, the same metrics.jsonl; and a store rebuilt from those
// files (a page reloaded from the browser's storage) resumes to the same weights.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { decodeSafetensors } from '@spine/nn';
import { stableKey } from '../../src/data/stable-key.js';
import {
  MemoryRunStore,
  checkpointDir,
  readCheckpointMeta,
  train,
  trainInStore,
  type CheckpointMeta,
} from '../../src/train/index.js';
import { sampleRecords, setup, type Setup } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'spine-memory-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await T.ready();
});

const trainSet = sampleRecords(8);
const valSet = sampleRecords(4, 8);
const CONFIG = { test: 'memory-store' };
const fresh = () => setup(trainSet, valSet, { initSeed: 3, augment: true });
const common = (s: Setup, epochs: number) => ({
  model: s.model,
  optimizer: s.optimizer,
  scheduler: s.scheduler,
  trainLoader: s.trainLoader,
  valLoader: s.valLoader,
  epochs,
  lossEvery: 2,
});

/** A sidecar without its wall-clock fields and random file name. */
function timeless(m: CheckpointMeta) {
  return {
    ...m,
    tensors: m.tensors.replace(/-[0-9a-f]{8}\.safetensors$/, ''),
    savedAt: undefined,
    history: m.history.map((h) => ({ ...h, seconds: undefined, imagesPerSecond: undefined })),
  };
}
const metricsOf = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => ({ ...JSON.parse(l), seconds: undefined, imagesPerSecond: undefined }));

describe('MemoryRunStore', () => {
  it("holds the run directory's files after the same training", async () => {
    const dir = join(root, 'disk');
    let s = fresh();
    await train({ ...common(s, 2), runDir: dir, config: CONFIG, stopSignals: [] }).finally(() => s.close());
    s = fresh();
    const store = new MemoryRunStore({ name: 'page run' });
    await trainInStore({ ...common(s, 2), store, configHash: stableKey(CONFIG) }).finally(() => s.close());
    for (const name of ['last', 'best'] as const) {
      const disk = (await readCheckpointMeta(dir, name))!;
      const memory = (await store.readMeta(name))!;
      expect(timeless(memory)).toEqual(timeless(disk));
      const bytes = store.files.get(`checkpoints/${memory.tensors}`)!;
      expect(bytes.byteLength).toBe(memory.tensorsBytes);
      expect(Buffer.from(bytes).equals(readFileSync(join(checkpointDir(dir), disk.tensors)))).toBe(true);
    }
    expect(metricsOf(new TextDecoder().decode(store.files.get('metrics.jsonl')))).toEqual(
      metricsOf(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')),
    );
    // One tensor file per checkpoint name: the previous epoch's are gone.
    expect([...store.files.keys()].filter((k) => k.endsWith('.safetensors'))).toHaveLength(2);
    expect(await store.readMeta('last').then((m) => m?.epoch)).toBe(2);
  });

  it('resumes from its files in a new store to the weights of an uninterrupted run', async () => {
    let s = fresh();
    const whole = new MemoryRunStore({ name: 'whole' });
    await trainInStore({ ...common(s, 3), store: whole, configHash: 'h' }).finally(() => s.close());
    s = fresh();
    let persisted = new Map<string, Uint8Array>();
    const first = new MemoryRunStore({ name: 'first', persist: async (files) => void (persisted = new Map(files)) });
    await trainInStore({ ...common(s, 1), store: first, configHash: 'h' }).finally(() => s.close());
    s = fresh();
    const reloaded = new MemoryRunStore({ name: 'reloaded', files: persisted });
    const r = await trainInStore({ ...common(s, 3), store: reloaded, configHash: 'h', resume: true }).finally(() =>
      s.close(),
    );
    expect(r.resumedFrom).toEqual({ epoch: 1, batch: 0 });
    const tensors = async (st: MemoryRunStore) => {
      const m = (await st.readMeta('last'))!;
      return decodeSafetensors(st.files.get(`checkpoints/${m.tensors}`)!).tensors;
    };
    expect(await tensors(reloaded)).toEqual(await tensors(whole));
    s = fresh();
    await expect(
      trainInStore({ ...common(s, 3), store: reloaded, configHash: 'other', resume: true }).finally(() => s.close()),
    ).rejects.toThrow(/the checkpoint in reloaded\/checkpoints was written with config h, this run has other/);
  });

  it('names a damaged or missing tensor file, and a damaged sidecar, as bad-checkpoint errors', async () => {
    const s = fresh();
    const store = new MemoryRunStore({ name: 'run' });
    await trainInStore({ ...common(s, 1), store, configHash: 'h' }).finally(() => s.close());
    const meta = (await store.readMeta('last'))!;
    const files = new Map(store.files);
    const tensors = `checkpoints/${meta.tensors}`;
    files.set(tensors, files.get(tensors)!.subarray(0, 100));
    await expect(new MemoryRunStore({ name: 'run', files }).read('last')).rejects.toThrow(
      new RegExp(
        `^run/checkpoints/${meta.tensors} \\(named by last\\.json\\): the file is 100 bytes, last\\.json records \\d+; it is truncated$`,
      ),
    );
    files.delete(tensors);
    await expect(new MemoryRunStore({ name: 'run', files }).read('last')).rejects.toThrow(/: the file is missing$/);
    files.set('checkpoints/last.json', new TextEncoder().encode('{"format": "spine-checkpoint"'));
    await expect(new MemoryRunStore({ name: 'run', files }).readMeta('last')).rejects.toMatchObject({
      code: 'bad-checkpoint',
      message: expect.stringMatching(
        /^run\/checkpoints\/last\.json: not valid JSON .*; the checkpoint sidecar is damaged$/,
      ),
    });
  });
});
