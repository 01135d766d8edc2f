// The PNG writer against an independent reader: chunk CRCs and the inflated scanlines checked
// with node:zlib, every filter type undone by hand, and round trips through our decoder.
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng, encodePngSamples, imageFromData, type Channels } from '../src/index.js';

/** Chunks of a PNG, each CRC checked with node:zlib. */
function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    expect(view.getUint32(at + 8 + length), `${type} CRC`).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

/** The rows unfiltered from the zlib data as node:zlib inflates it, and the filter types seen. */
function rowsOf(png: Uint8Array, rowBytes: number, bpp: number): { bytes: Uint8Array; filters: Set<number> } {
  const idat = chunks(png).filter((c) => c.type === 'IDAT');
  const raw = inflateSync(Buffer.concat(idat.map((c) => c.data)));
  const height = raw.length / (rowBytes + 1);
  const out = new Uint8Array(rowBytes * height);
  const filters = new Set<number>();
  for (let y = 0; y < height; y++) {
    const f = raw[y * (rowBytes + 1)]!;
    filters.add(f);
    for (let x = 0; x < rowBytes; x++) {
      const v = raw[y * (rowBytes + 1) + 1 + x]!;
      const a = x >= bpp ? out[y * rowBytes + x - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * rowBytes + x]! : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * rowBytes + x - bpp]! : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      out[y * rowBytes + x] = (v + [0, a, b, (a + b) >> 1, paeth][f]!) & 255;
    }
  }
  return { bytes: out, filters };
}

function noise(n: number, seed: number, max: number): number[] {
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) >>> 0;
    return Math.round(max * (0.5 + 0.3 * Math.sin(i / 9))) + ((s >>> 16) % 17) - 8;
  });
}

describe('encodePngSamples', () => {
  for (const channels of [1, 2, 3, 4] as Channels[]) {
    for (const wide of [false, true]) {
      it(`${channels} channel(s), ${wide ? 16 : 8}-bit, every filter type: valid chunks, exact samples`, () => {
        const [w, h] = [13, 9];
        const max = wide ? 65535 : 255;
        const values = noise(w * h * channels, channels * 10 + (wide ? 1 : 0), max).map((v) =>
          Math.min(max, Math.max(0, v)),
        );
        const data = wide ? Uint16Array.from(values) : Uint8Array.from(values);
        for (const filterType of [0, 1, 2, 3, 4, -1]) {
          const png = encodePngSamples({ width: w, height: h, channels, data }, { filterType });
          const ihdr = chunks(png)[0]!;
          expect(ihdr.type).toBe('IHDR');
          expect([...ihdr.data.subarray(8, 13)]).toEqual([
            wide ? 16 : 8,
            { 1: 0, 2: 4, 3: 2, 4: 6 }[channels],
            0,
            0,
            0,
          ]);
          const bpp = channels * (wide ? 2 : 1);
          const { bytes, filters } = rowsOf(png, w * bpp, bpp);
          const want = wide ? Uint8Array.from(values.flatMap((v) => [v >> 8, v & 255])) : Uint8Array.from(values);
          expect(Buffer.from(bytes).equals(Buffer.from(want)), `filter ${filterType}`).toBe(true);
          if (filterType >= 0) expect([...filters]).toEqual([filterType]);
          const img = decodePng(png);
          expect([img.width, img.height, img.channels, img.bitDepth]).toEqual([w, h, channels, wide ? 16 : 8]);
          expect(Array.from(img.data, (v) => Math.round(v * max))).toEqual(values);
        }
      });
    }
  }

  it('the adaptive filter picks among all five on a varied image', () => {
    const [w, h] = [64, 40];
    const data = Uint8Array.from(
      { length: w * h },
      (_, i) => ((i % w) * 3 + Math.floor(i / w) * ((i % 7) + 1) + (i % 13 === 0 ? 90 : 0)) & 255,
    );
    const { filters } = rowsOf(encodePngSamples({ width: w, height: h, channels: 1, data }, { filterType: -1 }), w, 1);
    expect(filters.size).toBeGreaterThan(1);
  });

  it('refuses a sample count that does not fit the size, and unknown filters', () => {
    expect(() => encodePngSamples({ width: 3, height: 3, channels: 1, data: new Uint8Array(8) })).toThrow(
      /8 samples for 3x3x1/,
    );
    expect(() =>
      encodePngSamples({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }, { filterType: 5 }),
    ).toThrow(/filterType/);
  });
});

describe('encodePng', () => {
  it('clamps to [0, 1] and rounds to the bit depth', () => {
    const img = imageFromData(4, 1, 1, Float32Array.from([-0.5, 0.2, 0.5, 1.7]));
    expect(Array.from(decodePng(encodePng(img)).data, (v) => Math.round(v * 255))).toEqual([0, 51, 128, 255]);
    expect(Array.from(decodePng(encodePng(img, { bitDepth: 16 })).data, (v) => Math.round(v * 65535))).toEqual([
      0, 13107, 32768, 65535,
    ]);
  });
});
