import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageFromData, type Image } from '@spine/imaging';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_AUGMENT,
  PreprocessCache,
  augmentImage,
  drawAugment,
  loadNetworkInput,
  preprocess,
  preprocessKey,
  resolveTransform,
  toNetworkInput,
  transformKey,
} from '../../src/data/index.js';
import { pngBytes, put, tempDir, tiffBytes } from './fixtures.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** A grey image whose value is x / (w - 1): easy to predict after resizing. */
function ramp(w: number, h: number): Image {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x / (w - 1);
  return imageFromData(w, h, 1, data);
}

describe('preprocess and toNetworkInput', () => {
  it('stretches to the input size with area averaging (2x2 blocks become their mean)', () => {
    const img = imageFromData(4, 2, 1, Float32Array.from([0, 1, 0.2, 0.4, 1, 0, 0.6, 0.8]));
    const out = preprocess(img, { width: 2, height: 1 });
    expect(out.width).toBe(2);
    expect(out.channels).toBe(1);
    expect(Array.from(out.data)).toEqual([expect.closeTo(0.5, 6), expect.closeTo(0.5, 6)]);
  });

  it('turns colour into grey and replicates it into three normalised planes (ImageNet by default)', () => {
    const rgb = imageFromData(1, 1, 3, Float32Array.from([1, 1, 1]));
    const grey = preprocess(rgb, { width: 1, height: 1 });
    const x = toNetworkInput(grey, { width: 1, height: 1 });
    expect(Array.from(x)).toEqual(
      [(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225].map((v) => expect.closeTo(v, 5)),
    );
    const plain = toNetworkInput(grey, { width: 1, height: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(Array.from(plain)).toEqual([1, 1, 1].map((v) => expect.closeTo(v, 5)));
  });

  it('shorter-side-crop scales to cover 256/224 of the target and cuts the centre', () => {
    const img = ramp(300, 600); // portrait: width is the shorter side
    const out = preprocess(img, { width: 224, height: 224, resize: 'shorter-side-crop' });
    expect([out.width, out.height]).toEqual([224, 224]);
    // Shorter side 256 -> the crop drops 16 columns on each side: values run ~16/255 .. ~239/255.
    expect(out.data[0]).toBeCloseTo(16 / 255, 2);
    expect(out.data[223]).toBeCloseTo(239 / 255, 2);
    const stretch = preprocess(img, { width: 224, height: 224 });
    expect(stretch.data[0]).toBeCloseTo(0, 2);
  });

  it('resolves defaults and validates configs; keys are stable and separate cached from per-epoch settings', () => {
    expect(resolveTransform({ width: 227, height: 227 })).toEqual({
      width: 227,
      height: 227,
      resize: 'stretch',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      augment: null,
    });
    expect(resolveTransform({ width: 8, height: 8, augment: true }).augment).toEqual(DEFAULT_AUGMENT);
    expect(() => resolveTransform({ width: 0, height: 8 })).toThrow(/width must be an integer/);
    expect(() => resolveTransform({ width: 8, height: 8, std: [1, 0, 1] })).toThrow(/std must be/);
    const a = { width: 8, height: 8, augment: { rotation: 3, scale: 0.1 } };
    const b = { augment: { scale: 0.1, rotation: 3 }, height: 8, width: 8 };
    expect(transformKey(a)).toBe(transformKey(b));
    expect(transformKey(a)).not.toBe(transformKey({ width: 8, height: 8 }));
    expect(preprocessKey(a)).toBe(preprocessKey({ width: 8, height: 8, mean: [0, 0, 0] }));
    expect(preprocessKey(a)).not.toBe(preprocessKey({ width: 8, height: 8, resize: 'shorter-side-crop' }));
  });
});

describe('augmentImage', () => {
  const cfg = { ...DEFAULT_AUGMENT, rotation: 10, shift: 0.1, brightness: 0.1, contrast: 0.2 };
  it('is a function of the seed, stays in [0, 1], and never flips by default', () => {
    const img = ramp(32, 24);
    const a = augmentImage(img, cfg, 5);
    expect(augmentImage(img, cfg, 5).data).toEqual(a.data);
    expect(augmentImage(img, cfg, 6).data).not.toEqual(a.data);
    expect(a.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    for (let s = 0; s < 200; s++) expect(drawAugment(cfg, s).flip).toBe(false);
    const d = drawAugment(cfg, 5);
    expect(Math.abs(d.rotation)).toBeLessThanOrEqual(10);
    expect(Math.abs(d.scale - 1)).toBeLessThanOrEqual(0.05);
  });

  it('with zero magnitudes is the identity, and a certain flip mirrors the film', () => {
    const img = ramp(9, 5);
    const none = { rotation: 0, scale: 0, shift: 0, brightness: 0, contrast: 0, flip: 0 };
    expect(augmentImage(img, none, 1).data).toEqual(img.data);
    const flipped = augmentImage(img, { ...none, flip: 1 }, 1);
    expect(flipped.data[0]).toBeCloseTo(1, 6);
    expect(flipped.data[8]).toBeCloseTo(0, 6);
  });
});

describe('PreprocessCache', () => {
  it('decodes a film once, then serves it from <sha256>-<key>.bin; content, not path, is the key', async () => {
    const d = dir();
    const film = put(d, 'a.png', pngBytes(40, 30, 1));
    const cache = new PreprocessCache(join(d, 'cache'));
    const config = { width: 8, height: 6 };
    const first = await cache.load(film, config);
    const again = await cache.load(film, config);
    expect(again.data).toEqual(first.data);
    expect(cache.stats).toEqual({ hits: 1, decodes: 1, corrupt: 0 });
    const names = readdirSync(join(d, 'cache'));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(new RegExp(`^[0-9a-f]{64}-${preprocessKey(config)}\\.bin$`));
    // A copy elsewhere hits the same entry; a new size is a new entry.
    const copy = put(d, 'b/copy.png', pngBytes(40, 30, 1));
    await cache.load(copy, config);
    expect(cache.stats.hits).toBe(2);
    await cache.load(film, { width: 4, height: 4 });
    expect(cache.stats.decodes).toBe(2);
    // Pre-augmentation and pre-normalisation: the cached pixels equal a fresh preprocess.
    const fresh = await loadNetworkInput(film, { ...config, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(fresh.subarray(0, 48)).toEqual(first.data);
  });

  it('ignores and rewrites a corrupt entry, and sees an edited file as new content', async () => {
    const d = dir();
    const film = put(d, 'a.tif', tiffBytes(20, 10, 2));
    const cacheDir = join(d, 'cache');
    const config = { width: 5, height: 5 };
    const good = await new PreprocessCache(cacheDir).load(film, config);
    const entry = join(cacheDir, readdirSync(cacheDir)[0]!);
    for (const junk of ['', 'SPC1 short', Buffer.alloc(20 + 100)]) {
      writeFileSync(entry, junk);
      const cache = new PreprocessCache(cacheDir);
      expect((await cache.load(film, config)).data).toEqual(good.data);
      expect(cache.stats).toEqual({ hits: 0, decodes: 1, corrupt: 1 });
      expect((await new PreprocessCache(cacheDir).load(film, config)).data).toEqual(good.data);
    }
    const cache = new PreprocessCache(cacheDir);
    await cache.load(film, config);
    writeFileSync(film, tiffBytes(20, 10, 3));
    await cache.load(film, config);
    expect(cache.stats.decodes).toBe(1);
    expect(readdirSync(cacheDir)).toHaveLength(2);
  });

  it('holds a hit to the pixel limit in force: a film cached under a higher limit is refused under a lower one', async () => {
    const d = dir();
    const film = put(d, 'a.png', pngBytes(40, 30, 1));
    const cacheDir = join(d, 'cache');
    const config = { width: 8, height: 6 };
    const cached = await new PreprocessCache(cacheDir).load(film, config, { grey: true, maxPixels: 1200 });
    const lower = new PreprocessCache(cacheDir);
    await expect(lower.load(film, config, { grey: true, maxPixels: 1199 })).rejects.toThrow(
      /image size 40x30 \(1,200 pixels\) is above the limit of 1,199 pixels/,
    );
    expect(lower.stats).toEqual({ hits: 0, decodes: 0, corrupt: 0 });
    // The entry stays, and serves the film again wherever the limit allows it.
    expect((await lower.load(film, config, { grey: true, maxPixels: 1200 })).data).toEqual(cached.data);
    expect(lower.stats).toEqual({ hits: 1, decodes: 0, corrupt: 0 });
  });
});
