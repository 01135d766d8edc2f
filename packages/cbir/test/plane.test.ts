import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodePngSamples, imageFromData, resize } from '@spine/imaging';
import { describe, expect, it } from 'vitest';
import { readGreyPlane } from '../src/node.js';
import { cropPlane, resizePlane, workingPlane, type GreyPlane } from '../src/index.js';

/** A seeded plane with structure and noise, at an awkward size. */
function plane(width: number, height: number, seed = 1): GreyPlane {
  let s = seed;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      data[y * width + x] = Math.max(
        0,
        Math.min(255, Math.round(120 + 80 * Math.sin(x / 7) * Math.cos(y / 11) + ((s >>> 16) % 31) - 15)),
      );
    }
  }
  return { width, height, data };
}

describe('grey planes through @spine/imaging', () => {
  it('a plane written as an 8-bit grey PNG reads back exactly', async () => {
    const p = plane(97, 61);
    const dir = mkdtempSync(join(tmpdir(), 'cbir-plane-'));
    try {
      writeFileSync(join(dir, 'film.png'), encodePngSamples({ ...p, channels: 1 }));
      const back = await readGreyPlane(join(dir, 'film.png'));
      expect([back.width, back.height]).toEqual([97, 61]);
      expect(Buffer.from(back.data).equals(Buffer.from(p.data))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a film above the pixel limit from its header, naming the file', async () => {
    // 20000x20000 claimed over one row of data: inflating it all would be the bomb.
    const bomb = Buffer.from(encodePngSamples({ ...plane(20000, 1), channels: 1 }));
    bomb.writeUInt32BE(20000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    const dir = mkdtempSync(join(tmpdir(), 'cbir-limit-'));
    try {
      writeFileSync(join(dir, 'bomb.png'), bomb);
      await expect(readGreyPlane(join(dir, 'bomb.png'))).rejects.toThrow(
        /bomb\.png: image size 20000x20000 \(400,000,000 pixels\) is above the limit of 30,000,000 pixels/,
      );
      writeFileSync(join(dir, 'film.png'), encodePngSamples({ ...plane(50, 40), channels: 1 }));
      expect((await readGreyPlane(join(dir, 'film.png'), 2000)).width).toBe(50);
      await expect(readGreyPlane(join(dir, 'film.png'), 1999)).rejects.toThrow(
        /image size 50x40 \(2,000 pixels\) is above the limit of 1,999 pixels/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('plane operations', () => {
  it('resizePlane agrees with @spine/imaging resize to within rounding, shrinking and enlarging', () => {
    const p = plane(301, 173);
    const img = imageFromData(
      301,
      173,
      1,
      Float32Array.from(p.data, (v) => v / 255),
    );
    for (const [w, h] of [
      [64, 37],
      [128, 74],
      [450, 259],
    ] as const) {
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
