import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, type Image } from '../src/index.js';

// Fixtures come from Pillow/libtiff/libjpeg and a hand-written DICOM writer
// (fixtures/make_fixtures.py); these formulas mirror the ones there.
const W = 37;
const H = 23;
const dir = join(import.meta.dirname, 'fixtures');
const load = (name: string): Image => decodeImage(readFileSync(join(dir, name)), name);

const grey8 = (x: number, y: number): number => (x * 7 + y * 13) % 256;
const grey16 = (x: number, y: number): number => (x * 1021 + y * 4099) % 65536;
const rgb8 = (x: number, y: number): number[] => {
  const g = grey8(x, y);
  return [g, (g * 3) % 256, 255 - g];
};
const value12 = (x: number, y: number): number => (x * 97 + y * 173) % 4096;

function expectPattern(img: Image, channels: number, f: (x: number, y: number) => number[], max: number): void {
  expect([img.width, img.height, img.channels]).toEqual([W, H, channels]);
  let worst = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const want = f(x, y);
      for (let c = 0; c < channels; c++) {
        worst = Math.max(worst, Math.abs(img.data[(y * W + x) * channels + c]! * max - want[c]!));
      }
    }
  }
  expect(worst).toBeLessThan(1e-2);
}

describe('PNG written by Pillow', () => {
  it('8-bit grey', () => {
    const img = load('grey8.png');
    expect(img.bitDepth).toBe(8);
    expectPattern(img, 1, (x, y) => [grey8(x, y)], 255);
  });
  it('16-bit grey keeps all 16 bits', () => {
    const img = load('grey16.png');
    expect(img.bitDepth).toBe(16);
    expectPattern(img, 1, (x, y) => [grey16(x, y)], 65535);
  });
  it('grey + alpha', () => expectPattern(load('grey-alpha8.png'), 2, (x, y) => [grey8(x, y), 255 - grey8(x, y)], 255));
  it('RGB', () => expectPattern(load('rgb8.png'), 3, rgb8, 255));
  it('RGBA', () => expectPattern(load('rgba8.png'), 4, (x, y) => [...rgb8(x, y), grey8(x, y)], 255));
  it('palette expands to RGB', () => {
    const img = load('palette.png');
    expect(img.channels).toBe(3);
    expect(img.width).toBe(W);
  });
});

describe('TIFF written by libtiff', () => {
  for (const c of ['raw', 'lzw', 'deflate', 'packbits']) {
    it(`8-bit grey, ${c}`, () => expectPattern(load(`grey8-${c}.tif`), 1, (x, y) => [grey8(x, y)], 255));
  }
  for (const c of ['raw', 'lzw']) {
    it(`16-bit grey, ${c}`, () => {
      const img = load(`grey16-${c}.tif`);
      expect(img.bitDepth).toBe(16);
      expectPattern(img, 1, (x, y) => [grey16(x, y)], 65535);
    });
  }
  it('RGB LZW', () => expectPattern(load('rgb8-lzw.tif'), 3, rgb8, 255));
  it('RGB Deflate', () => expectPattern(load('rgb8-deflate.tif'), 3, rgb8, 255));
  it('refuses JPEG-in-TIFF with a clear reason', () => {
    expect(() => load('grey8-jpeg.tif')).toThrow(/unsupported TIFF compression 7/);
  });
});

describe('JPEG written by libjpeg', () => {
  const meanAbs = (a: Image, b: Image): number => {
    let s = 0;
    for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
    return (s / a.data.length) * 255;
  };
  it('baseline grey is one channel, close to the lossless source', () => {
    const img = load('grey-baseline.jpg');
    expect(img.channels).toBe(1);
    expect(meanAbs(img, load('smooth8.png'))).toBeLessThan(2);
  });
  it('progressive grey', () => expect(meanAbs(load('grey-progressive.jpg'), load('smooth8.png'))).toBeLessThan(2));
  it('baseline RGB', () => {
    const img = load('rgb-baseline.jpg');
    expect(img.channels).toBe(3);
    expect(meanAbs(img, load('rgb-smooth8.png'))).toBeLessThan(2);
  });
});

describe('DICOM (explicit VR little endian, native pixels)', () => {
  it('12-bit MONOCHROME2 without window is stretched min..max', () => {
    const img = load('mono2-12bit.dcm');
    expect(img.bitDepth).toBe(12);
    let lo = 4096;
    let hi = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        lo = Math.min(lo, value12(x, y));
        hi = Math.max(hi, value12(x, y));
      }
    expectPattern(img, 1, (x, y) => [((value12(x, y) - lo) / (hi - lo)) * 4095], 4095);
  });
  it('applies rescale slope/intercept then the VOI window', () => {
    const img = load('mono2-rescale-window.dcm');
    const win = (v: number): number => {
      const hu = 2 * v - 1024;
      const c = 1000;
      const w = 2000;
      if (hu <= c - 0.5 - (w - 1) / 2) return 0;
      if (hu > c - 0.5 + (w - 1) / 2) return 1;
      return (hu - (c - 0.5)) / (w - 1) + 0.5;
    };
    expectPattern(img, 1, (x, y) => [win(value12(x, y)) * 1000], 1000);
  });
  it('inverts MONOCHROME1', () => {
    const a = load('mono1-12bit.dcm');
    const b = load('mono2-12bit.dcm');
    for (let i = 0; i < a.data.length; i++) expect(a.data[i]).toBeCloseTo(1 - b.data[i]!, 5);
  });
  it('8-bit', () => expectPattern(load('mono2-8bit.dcm'), 1, (x, y) => [grey8(x, y)], 255));
  it('refuses encapsulated (JPEG) pixel data', () => {
    expect(() => load('jpeg-encapsulated.dcm')).toThrow(/unsupported DICOM compression/);
  });
});
