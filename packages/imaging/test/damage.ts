// Seeded damage for decoder tests: a PRNG a failing case can be replayed from, and PNGs damaged or
// rebuilt around given image data.
import { crc32 } from 'node:zlib';
import { chunk, concat, ihdr, SIGNATURE, type PngSpec } from './png-writer.js';

/** mulberry32: a tiny seeded PRNG, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Flips bytes inside chunk bodies (header included) and rewrites each CRC, so the damage reaches the header checks, the inflater and the row filters. */
export function damageChunks(png: Uint8Array, rand: () => number): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  for (let at = 8; at + 12 <= out.length; ) {
    const length = view.getUint32(at);
    for (let k = 0; k < length; k++) if (rand() < 0.01) out[at + 8 + k] = Math.floor(rand() * 256);
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
  return out;
}

/** A PNG of `spec`'s header (and palette) whose one IDAT chunk holds `zlibData` as given. */
export function pngWithImageData(spec: PngSpec, zlibData: Uint8Array): Uint8Array {
  return concat([
    SIGNATURE,
    ihdr(spec.width, spec.height, spec.bitDepth, spec.colourType, spec.interlaced ? 1 : 0),
    ...(spec.palette ? [chunk('PLTE', spec.palette)] : []),
    chunk('IDAT', zlibData),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
