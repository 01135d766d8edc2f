import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeImage, encodePng, imageFromData, resize } from '@spine/imaging';
import { describe, expect, it } from 'vitest';
import { decodeGreyPng, encodeGreyPng } from '../src/grey-png.js';
import { readGreyPlane } from '../src/node.js';
import { cropPlane, greyPlaneFromImage, resizePlane, workingPlane, type GreyPlane } from '../src/index.js';

const sample = join(import.meta.dirname, '..', '..', '..', 'test-data', 'sample');

/** A seeded plane with structure and noise, at an awkward size. */
function plane(width: number, height: number, seed = 1): GreyPlane {
  let s = seed;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      data[y * width + x] = Math.max(0, Math.min(255, Math.round(120 + 80 * Math.sin(x / 7) * Math.cos(y / 11) + ((s >>> 16) % 31) - 15)));
    }
  }
  return { width, height, data };
}

describe('grey PNG fast path', () => {
  it('decodes committed films exactly as @spine/imaging does', () => {
    for (const rel of ['cervical/cervical-0001-00000.png', 'cervical-roi/cervical-0003-00005.png', 'lumbar/lumbar-0002-00003.png']) {
      const bytes = readFileSync(join(sample, rel));
      const fast = decodeGreyPng(bytes)!;
      expect(fast).not.toBeNull();
      const slow = greyPlaneFromImage(decodeImage(bytes, rel));
      expect([fast.width, fast.height]).toEqual([slow.width, slow.height]);
      expect(Buffer.from(fast.data).equals(Buffer.from(slow.data))).toBe(true);
    }
  });

  it('round-trips through its own encoder and through @spine/imaging', () => {
    const p = plane(97, 61);
    const png = encodeGreyPng(p);
    expect(Buffer.from(decodeGreyPng(png)!.data).equals(Buffer.from(p.data))).toBe(true);
    expect(Buffer.from(greyPlaneFromImage(decodeImage(png, 'x.png')).data).equals(Buffer.from(p.data))).toBe(true);
  });

  it('declines what it does not handle (RGB, 16-bit, not a PNG, truncated), leaving it to @spine/imaging', () => {
    const rgb = encodePng(imageFromData(4, 3, 3, new Float32Array(36).fill(0.5)));
    const deep = encodePng(imageFromData(4, 3, 1, new Float32Array(12).fill(0.5)), { bitDepth: 16 });
    const good = encodeGreyPng(plane(20, 10));
    for (const bytes of [rgb, deep, new Uint8Array(100), good.subarray(0, good.length - 30)]) expect(decodeGreyPng(bytes)).toBeNull();
  });

  it('leaves a film above the pixel limit to @spine/imaging, which refuses it from the header', async () => {
    // 20000x20000 claimed over one row of data: inflating it all would be the bomb.
    const bomb = Buffer.from(encodeGreyPng(plane(20000, 1)));
    bomb.writeUInt32BE(20000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    expect(decodeGreyPng(bomb)).toBeNull();
    const small = encodeGreyPng(plane(50, 40));
    expect(decodeGreyPng(small, 2000)?.width).toBe(50);
    expect(decodeGreyPng(small, 1999)).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'cbir-limit-'));
    try {
      writeFileSync(join(dir, 'bomb.png'), bomb);
      await expect(readGreyPlane(join(dir, 'bomb.png'))).rejects.toThrow(/bomb\.png: image size 20000x20000 \(400,000,000 pixels\) is above the limit of 30,000,000 pixels/);
      writeFileSync(join(dir, 'film.png'), encodeGreyPng(plane(50, 40)));
      expect((await readGreyPlane(join(dir, 'film.png'), 2000)).width).toBe(50);
      await expect(readGreyPlane(join(dir, 'film.png'), 1999)).rejects.toThrow(/image size 50x40 \(2,000 pixels\) is above the limit of 1,999 pixels/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes all five PNG row filters (pngjs writes them when asked to try each)', () => {
    const p = plane(64, 40, 7);
    const img = imageFromData(64, 40, 1, Float32Array.from(p.data, (v) => v / 255));
    const png = encodePng(img, { filterType: -1 });
    expect(Buffer.from(decodeGreyPng(png)!.data).equals(Buffer.from(p.data))).toBe(true);
  });
});

describe('plane operations', () => {
  it('resizePlane agrees with @spine/imaging resize to within rounding, shrinking and enlarging', () => {
    const p = plane(301, 173);
    const img = imageFromData(301, 173, 1, Float32Array.from(p.data, (v) => v / 255));
    for (const [w, h] of [[64, 37], [128, 74], [450, 259]] as const) {
      const ours = resizePlane(p, w, h);
      const ref = resize(img, w, h).data;
      let worst = 0;
      for (let i = 0; i < ours.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - ref[i]! * 255));
      expect(worst).toBeLessThanOrEqual(0.5001);
    }
  });

  it('workingPlane keeps the aspect and returns the plane itself at its own width or with null', () => {
    const p = plane(300, 360);
    expect(workingPlane(p, 100)).toMatchObject({ width: 100, height: 120 });
    expect(workingPlane(p, null)).toBe(p);
    expect(workingPlane(p, 300)).toBe(p);
  });

  it('cropPlane pads outside the plane with the fill value', () => {
    const p = plane(10, 8);
    const c = cropPlane(p, { x: -2, y: 5, width: 5, height: 6 }, 9);
    expect([c.width, c.height]).toEqual([5, 6]);
    expect(c.data[0]).toBe(9); // (-2, 5) is outside
    expect(c.data[2]).toBe(p.data[5 * 10 + 0]); // (0, 5)
    expect(c.data[3 * 5 + 4]).toBe(9); // (2, 8) is below the plane
    expect(() => cropPlane(p, { x: 0, y: 0, width: 0, height: 3 })).toThrow(/positive size/);
  });
});
