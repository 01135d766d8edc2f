import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataLoader,
  isDatasetError,
  loadCsvDataset,
  loadNetworkInput,
  workerScript,
  type Batch,
  type DatasetRecord,
} from '../../src/data/index.js';
import { SAMPLE, pngBytes, put, tempDir } from './fixtures.js';

const transform = { width: 24, height: 28 };
let records: DatasetRecord[] = [];
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  const ds = await loadCsvDataset(join(SAMPLE, 'cervical'), { imageCheck: 'header' });
  records = ds.records.slice(0, 22).map((r) => ({ ...r }));
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

async function collect(loader: DataLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch()) out.push(b);
  return out;
}

describe('workerScript', () => {
  it('bundles worker.ts from sources into a content-addressed file under the package', async () => {
    const script = await workerScript();
    expect(script).toMatch(/node_modules\/\.cache\/spine-workers\/worker-[0-9a-f]{16}\.mjs$/);
    expect(existsSync(script)).toBe(true);
    expect(readFileSync(script, 'utf8')).toMatch(/from "@spine\/imaging"/); // packages stay external
    expect(await workerScript()).toBe(script);
  });
});

describe('DataLoader', () => {
  it('gives [B,3,H,W] planar batches with labels and files; workers equal the inline path', async () => {
    const threaded = new DataLoader(records, { batchSize: 5, transform, seed: 3, workers: 2, prefetch: 3 });
    const inline = new DataLoader(records, { batchSize: 5, transform, seed: 3, workers: 0 });
    try {
      const a = await collect(threaded);
      const b = await collect(inline);
      expect(a.map((x) => x.shape)).toEqual([
        [5, 3, 28, 24],
        [5, 3, 28, 24],
        [5, 3, 28, 24],
        [5, 3, 28, 24],
        [2, 3, 28, 24],
      ]);
      expect(threaded.batchesPerEpoch).toBe(5);
      expect(a.flatMap((x) => x.files).sort()).toEqual(records.map((r) => r.file).sort());
      for (let k = 0; k < a.length; k++) {
        expect(a[k]!.files).toEqual(b[k]!.files);
        expect(a[k]!.images).toEqual(b[k]!.images);
        expect(Array.from(a[k]!.labels)).toEqual(a[k]!.files.map((f) => records.find((r) => r.file === f)!.label));
      }
      // The second plane of image 0 is the first one re-normalised with the green mean/std.
      const one = await loadNetworkInput(records.find((r) => r.file === a[0]!.files[0])!.path, transform);
      expect(a[0]!.images.subarray(0, 3 * 24 * 28)).toEqual(one);
      expect(threaded.state()).toEqual({ seed: 3, epoch: 1, batch: 0 });
    } finally {
      await threaded.close();
    }
  });

  it('reshuffles per epoch reproducibly, keeps file order without shuffle, and drops the last batch on request', async () => {
    const mk = (seed: number) => new DataLoader(records, { batchSize: 4, transform, seed, workers: 0, dropLast: true });
    const a = mk(9);
    expect(a.batchesPerEpoch).toBe(5);
    expect(a.order(0)).toEqual(mk(9).order(0));
    expect(a.order(0)).not.toEqual(a.order(1));
    expect(a.order(0)).not.toEqual(mk(10).order(0));
    // Input order does not matter: records are sorted first.
    expect(new DataLoader([...records].reverse(), { batchSize: 4, transform, seed: 9 }).order(0)).toEqual(a.order(0));
    const plain = new DataLoader(records, { batchSize: 4, transform, shuffle: false, workers: 0 });
    expect(Array.from(plain.order(0))).toEqual(records.map((_, i) => i));
    const batches = await collect(a);
    expect(batches).toHaveLength(5);
    expect(batches.every((b) => b.labels.length === 4)).toBe(true);
  });

  it('resumes exactly from a saved state, mid-epoch, with augmentation', async () => {
    const opts = { batchSize: 6, transform: { ...transform, augment: true }, seed: 21, workers: 0 };
    const full = new DataLoader(records, opts);
    const reference = [...(await collect(full)), ...(await collect(full))];
    const first = new DataLoader(records, opts);
    await collect(first);
    const seen: Batch[] = [];
    for await (const b of first.epoch()) {
      seen.push(b);
      if (seen.length === 2) break;
    }
    const saved = JSON.parse(JSON.stringify(first.state()));
    expect(saved).toEqual({ seed: 21, epoch: 1, batch: 2 });
    const resumed = new DataLoader(records, { ...opts, seed: 0 });
    resumed.restore(saved);
    const rest = await collect(resumed);
    const replay = [...seen, ...rest];
    expect(replay.map((b) => b.files)).toEqual(reference.slice(4).map((b) => b.files));
    replay.forEach((b, k) => expect(b.images).toEqual(reference[4 + k]!.images));
    // Augmentation differs between epochs for the same image.
    expect(reference[0]!.images).not.toEqual(reference[4]!.images);
    expect(() => resumed.restore({ seed: 1, epoch: 0, batch: 99 })).toThrow(/invalid loader state/);
  });

  it('with a disk cache decodes each film once: the second epoch only reads cache entries', async () => {
    const cacheDir = join(tmp.dir, 'cache');
    const loader = new DataLoader(records, { batchSize: 8, transform, seed: 1, workers: 2, cacheDir });
    try {
      const e0 = await collect(loader);
      expect(await loader.cacheStats()).toMatchObject({ decodes: records.length, hits: 0 });
      const e1 = await collect(loader);
      expect(await loader.cacheStats()).toMatchObject({ decodes: records.length, hits: records.length });
      // Cached pixels give the same inputs as decoding (no augmentation here, so equal per file).
      const byFile = (bs: Batch[]) =>
        new Map(bs.flatMap((b) => b.files.map((f, i) => [f, b.images.slice(i * 2016, (i + 1) * 2016)] as const)));
      const m0 = byFile(e0);
      for (const [f, x] of byFile(e1)) expect(x).toEqual(m0.get(f));
    } finally {
      await loader.close();
    }
  });

  it('a file that breaks after validation surfaces as a DatasetError naming it, from workers and inline', async () => {
    const d = tempDir();
    try {
      const good = put(d.dir, 'good.png', pngBytes(10, 10));
      const bad = put(d.dir, 'bad.png', pngBytes(10, 10, 1));
      const rs: DatasetRecord[] = [
        { path: good, file: 'good.png', label: 0 },
        { path: bad, file: 'bad.png', label: 1, line: 3 },
      ];
      writeFileSync(bad, 'no longer a png');
      for (const workers of [1, 0]) {
        const loader = new DataLoader(rs, { batchSize: 2, transform, workers });
        const err = await collect(loader).catch((e: unknown) => e);
        await loader.close();
        expect(isDatasetError(err)).toBe(true);
        expect((err as { problems: unknown[] }).problems).toEqual([
          { file: 'bad.png', line: 3, problem: expect.stringMatching(/^could not load image: not a recognised image/) },
        ]);
      }
      rmSync(bad);
      const loader = new DataLoader(rs, { batchSize: 1, transform, workers: 1, shuffle: false });
      // The path once (the problem's file), the reason in words rather than Node's ENOENT message.
      await expect(collect(loader)).rejects.toThrow(/ bad\.png: could not load image: file not found$/);
      await loader.close();
    } finally {
      d.cleanup();
    }
  });

  it('a batch loaded ahead that fails is reported when its turn comes, not as an unhandled rejection meanwhile', async () => {
    const d = tempDir();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const good = put(d.dir, 'a.png', pngBytes(10, 10));
      const bad = put(d.dir, 'b.png', 'not a png');
      const rs: DatasetRecord[] = [
        { path: good, file: 'a.png', label: 0 },
        { path: bad, file: 'b.png', label: 1 },
      ];
      const loader = new DataLoader(rs, { batchSize: 1, transform, workers: 1, shuffle: false, prefetch: 2 });
      const it = loader.epoch();
      expect((await it.next()).value.files).toEqual(['a.png']);
      // The consumer is busy with batch 0 while batch 1 fails in the worker.
      await new Promise((r) => setTimeout(r, 500));
      const err = await it.next().catch((e: unknown) => e);
      await loader.close();
      expect(isDatasetError(err)).toBe(true);
      expect(loader.state()).toEqual({ seed: 0, epoch: 0, batch: 1 });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      d.cleanup();
    }
  });

  it('maxPixels reaches the decoder, from workers and inline, and the dataset check', async () => {
    const d = tempDir();
    try {
      const path = put(d.dir, 'film.png', pngBytes(40, 30));
      const rs: DatasetRecord[] = [{ path, file: 'film.png', label: 0 }];
      for (const workers of [1, 0]) {
        const refusing = new DataLoader(rs, { batchSize: 1, transform, workers, maxPixels: 1199 });
        const err = await collect(refusing).catch((e: unknown) => e);
        await refusing.close();
        expect((err as { problems: unknown[] }).problems).toEqual([
          {
            file: 'film.png',
            problem: expect.stringMatching(
              /^could not load image: image size 40x30 \(1,200 pixels\) is above the limit of 1,199 pixels/,
            ),
          },
        ]);
        const accepting = new DataLoader(rs, { batchSize: 1, transform, workers, maxPixels: 1200 });
        expect((await collect(accepting))[0]!.images).toEqual(await loadNetworkInput(path, transform));
        await accepting.close();
      }
      put(d.dir, 'labels.csv', 'file,sex\nfilm.png,F\n');
      const check = await loadCsvDataset(d.dir, { imageCheck: 'decode', maxPixels: 1199 }).catch((e: unknown) => e);
      expect(isDatasetError(check)).toBe(true);
      expect(JSON.stringify((check as { problems: unknown[] }).problems)).toMatch(/above the limit of 1,199 pixels/);
    } finally {
      d.cleanup();
    }
  });
});
