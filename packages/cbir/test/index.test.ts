import { mkdtempSync, rmSync, writeFileSync, mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, deflateSync, inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CbirError, RoiIndex, phogLength, type ReferenceFilm } from '../src/index.js';
import {
  CropPool,
  buildIndexFromFolder,
  cropFilm,
  readGreyPlane,
  readIndex,
  readRoiBoxes,
  writeIndex,
} from '../src/node.js';

const sample = join(import.meta.dirname, '..', '..', '..', 'test-data', 'sample');
const refs = join(sample, 'cervical-roi');
const dir = mkdtempSync(join(tmpdir(), 'spine-cbir-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function randomIndex(n: number, d: number, seed: number): RoiIndex {
  const rnd = seeded(seed);
  const references: ReferenceFilm[] = Array.from({ length: n }, (_, i) => ({
    file: `f${i}.png`,
    width: 100,
    height: 120,
    roi: { x: 10, y: 20, width: 30, height: 40 },
    descriptor: Float64Array.from({ length: d }, () => rnd()),
  }));
  return new RoiIndex({ bins: 2, angle: 360, levels: 1, workingWidth: null }, references);
}

describe('RoiIndex', () => {
  it('nearest is the exact Euclidean top-k, nearest first, for a batch of queries', () => {
    const index = randomIndex(57, phogLength(2, 1), 3);
    const rnd = seeded(9);
    const queries = Array.from({ length: 5 }, () => Float64Array.from({ length: 10 }, () => rnd()));
    const results = index.nearest(queries, 4);
    queries.forEach((q, qi) => {
      const brute = index.references
        .map((r, i) => ({ i, d: Math.sqrt(r.descriptor.reduce((s, v, j) => s + (v - q[j]!) ** 2, 0)) }))
        .sort((a, b) => a.d - b.d);
      expect(results[qi]!.map((m) => m.index)).toEqual(brute.slice(0, 4).map((b) => b.i));
      results[qi]!.forEach((m, k) => expect(m.distance).toBeCloseTo(brute[k]!.d, 12));
    });
  });

  it('a reference is its own nearest neighbour at distance 0; k is clamped to the index size', () => {
    const index = randomIndex(6, 10, 4);
    const [m] = index.nearest([index.references[4]!.descriptor], 100);
    expect(m).toHaveLength(6);
    expect(m![0]).toMatchObject({ index: 4, distance: 0 });
  });

  it('round-trips through its versioned JSON and rejects what it cannot read, naming the file', () => {
    const index = randomIndex(3, 10, 5);
    const back = RoiIndex.fromJSON(JSON.parse(JSON.stringify(index.toJSON())), 'i.json');
    expect(back.settings).toEqual(index.settings);
    expect(back.references.map((r) => Array.from(r.descriptor))).toEqual(
      index.references.map((r) => Array.from(r.descriptor)),
    );
    const json = index.toJSON() as Record<string, unknown>;
    expect(() => RoiIndex.fromJSON({ ...json, version: 99 }, 'i.json')).toThrow(
      /i\.json: ROI index version 99 is not supported/,
    );
    expect(() => RoiIndex.fromJSON({ hello: 1 }, 'i.json')).toThrow(/not an ROI index/);
    const refsJson = (json.references as Record<string, unknown>[]).map((r) => ({ ...r }));
    refsJson[1]!.descriptor = [1, 2];
    expect(() => RoiIndex.fromJSON({ ...json, references: refsJson }, 'i.json')).toThrow(CbirError);
    expect(() => RoiIndex.fromJSON({ ...json, references: refsJson }, 'i.json')).toThrow(
      /f1\.png: descriptor has 2 values, the index settings give 10/,
    );
    expect(() => index.nearest([new Float64Array(3)])).toThrow(/query 0 has 3 values, the index expects 10/);
  });
});

describe('building an index from a reference folder', () => {
  it('describes the 136 committed ROI-marked films at their own width (128) and finds each film itself', async () => {
    const index = await buildIndexFromFolder(refs);
    expect(index.references).toHaveLength(136);
    expect(index.settings).toEqual({ bins: 8, angle: 360, levels: 3, workingWidth: 128 });
    const boxes = await readRoiBoxes(refs);
    expect(index.references[7]!.roi).toEqual(boxes.get(index.references[7]!.file));
    const film = await readGreyPlane(join(refs, index.references[20]!.file));
    const [m] = index.nearest([index.describe(film)], 2)[0]!;
    expect(m).toMatchObject({ index: 20, distance: 0 });
    const out = join(dir, 'index.json');
    await writeIndex(out, index);
    const back = await readIndex(out);
    expect(back.nearest([index.describe(film)], 1)[0]![0]!.index).toBe(20);
  });

  it('cropFilm writes its crop with the sub filter and Huffman-only deflate (node:zlib, level 6)', async () => {
    const index = await buildIndexFromFolder(refs);
    const out = join(dir, 'crop.png');
    await cropFilm({ source: join(refs, index.references[3]!.file), out }, index);
    const png = readFileSync(out);
    const idat = png.subarray(8 + 25 + 8, png.length - 12 - 4);
    expect(png.toString('latin1', 8 + 25 + 4, 8 + 25 + 8)).toBe('IDAT');
    const raw = inflateSync(idat);
    const side = png.readUInt32BE(16);
    for (let y = 0; y < side; y++) expect(raw[y * (side + 1)]).toBe(1);
    // The same scanlines deflated Huffman-only by the same zlib give the same bytes.
    expect(Buffer.compare(deflateSync(raw, { level: 6, strategy: constants.Z_HUFFMAN_ONLY }), idat)).toBe(0);
  });

  it('describing on worker threads gives the same index as inline', async () => {
    const small = join(dir, 'small');
    mkdirSync(small);
    const boxes = await readRoiBoxes(refs);
    const names = [...boxes.keys()].sort().slice(0, 6);
    for (const n of names) copyFileSync(join(refs, n), join(small, n));
    writeFileSync(join(small, 'rois.json'), JSON.stringify(Object.fromEntries(names.map((n) => [n, boxes.get(n)]))));
    const inline = await buildIndexFromFolder(small);
    const pool = await CropPool.create(null, {}, 2);
    try {
      const threaded = await buildIndexFromFolder(small, { pool });
      expect(threaded.toJSON()).toEqual(inline.toJSON());
      // A film that cannot be read fails as inline: a CbirError, its file and reason apart.
      const bad = join(small, 'bad.png');
      writeFileSync(bad, 'not an image');
      const e = (await pool.describe(bad, inline.settings).then(
        () => undefined,
        (x: unknown) => x,
      )) as CbirError;
      expect(e).toBeInstanceOf(CbirError);
      expect(e.file).toBe(bad);
      expect(e.reason).not.toContain('bad.png');
      expect(e.message.split('bad.png')).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  it('bad reference folders are clear errors naming the file', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    await expect(readRoiBoxes(bad)).rejects.toThrow(
      /rois\.json: not found: a reference folder holds its films and a rois\.json/,
    );
    writeFileSync(join(bad, 'rois.json'), '{"a.png": {"x": 1}}');
    await expect(readRoiBoxes(bad)).rejects.toThrow(/entry "a\.png" must be \{x, y, width, height\}/);
    writeFileSync(join(bad, 'rois.json'), '{"a.png": {"x": 1, "y": 1, "width": 5, "height": 5}}');
    await expect(buildIndexFromFolder(bad)).rejects.toThrow(/a\.png: file not found/);
    copyFileSync(join(refs, 'cervical-0003-00000.png'), join(bad, 'a.png'));
    writeFileSync(join(bad, 'rois.json'), '{"a.png": {"x": 100, "y": 1, "width": 50, "height": 5}}');
    await expect(buildIndexFromFolder(bad)).rejects.toThrow(
      /a\.png: ROI 50x5 at \(100, 1\) in rois\.json leaves the 128x154 film/,
    );
    writeFileSync(join(bad, 'i.json'), 'nope');
    await expect(readIndex(join(bad, 'i.json'))).rejects.toThrow(/i\.json: is not valid JSON/);
  });
});
