// The page's loader over films in memory hands out the DataLoader's batches: same order, same
// augmentation per image, same planes, for every epoch and from a restored position.
import { readFileSync } from 'node:fs';
import { decodeImage, type Image } from '@spine/imaging';
import { describe, expect, it } from 'vitest';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { preprocess, resolveTransform } from '../../src/data/transform.js';
import { MemoryLoader } from '../../src/train/memory-loader.js';
import { sampleRecords } from './helpers.js';

const records = sampleRecords(6);
const transform = { width: 24, height: 24, resize: 'stretch' as const, augment: true };
const grey = new Map<string, Image>(
  records.map((r) => [
    r.file,
    preprocess(decodeImage(readFileSync(r.path), r.path, { grey: true }), resolveTransform(transform)),
  ]),
);

async function collect(loader: { epoch(): AsyncGenerator<Batch> }): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch()) out.push(b);
  return out;
}

describe('MemoryLoader', () => {
  it("gives the DataLoader's batches epoch after epoch and after a restore", async () => {
    const options = { batchSize: 5, transform, seed: 7, workers: 0 };
    const files = new DataLoader(records, options);
    const memory = new MemoryLoader(records, (r) => grey.get(r.file)!, options);
    expect(memory.batchesPerEpoch).toBe(files.batchesPerEpoch);
    for (let epoch = 0; epoch < 2; epoch++) {
      const [a, b] = [await collect(files), await collect(memory)];
      expect(b.map((x) => x.files)).toEqual(a.map((x) => x.files));
      b.forEach((x, i) => {
        expect(x.labels).toEqual(a[i]!.labels);
        expect(x.shape).toEqual(a[i]!.shape);
        expect(x.images).toEqual(a[i]!.images);
      });
    }
    // Augmentation differs between epochs, so equal batches are not equal by accident.
    expect(memory.state()).toEqual(files.state());
    const resumed = new MemoryLoader(records, (r) => grey.get(r.file)!, options);
    resumed.restore({ seed: 7, epoch: 2, batch: 1 });
    files.restore({ seed: 7, epoch: 2, batch: 1 });
    const [a, b] = [await collect(files), await collect(resumed)];
    expect(b.map((x) => x.index)).toEqual([1, 2]);
    b.forEach((x, i) => expect(x.images).toEqual(a[i]!.images));
    await files.close();
  });

  it('waits for beforeBatch before each batch (a pause)', async () => {
    let release: () => void = () => undefined;
    let held = true;
    const loader = new MemoryLoader(records, (r) => grey.get(r.file)!, {
      batchSize: 4,
      transform,
      beforeBatch: () => (held ? new Promise<void>((r) => (release = r)) : undefined),
    });
    const it = loader.epoch();
    let got = false;
    const next = it.next().then(() => (got = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toBe(false);
    held = false;
    release();
    await next;
    expect(got).toBe(true);
    await it.return(undefined);
  });
});
