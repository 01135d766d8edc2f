/**
 * A test-only PNG writer that can produce what the fixtures do not cover: every colour type and
 * bit depth, Adam7 interlacing, every row filter, image data split across IDAT chunks, and
 * hand-made headers (a bomb's IHDR over a tiny IDAT). Independent of the decoder under test.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface PngSpec {
  width: number;
  height: number;
  bitDepth: number;
  colourType: 0 | 2 | 3 | 4 | 6;
  interlaced?: boolean;
  /** RGB triples, for colour type 3. */
  palette?: Uint8Array;
  /** Sample `c` of pixel (x, y), already in 0..2^bitDepth-1 (a palette index for type 3). */
  sample: (x: number, y: number, c: number) => number;
  /** IDAT chunk size in bytes; default one chunk. */
  idatSize?: number;
}

export const SAMPLES = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

export function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

export function ihdr(width: number, height: number, bitDepth: number, colourType: number, interlace = 0): Uint8Array {
  const body = new Uint8Array(13);
  const view = new DataView(body.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  body.set([bitDepth, colourType, 0, 0, interlace], 8);
  return chunk('IHDR', body);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** The scanlines (filter byte + filtered row), pass by pass; row y uses filter type y % 5. */
export function scanlines(spec: PngSpec): Uint8Array {
  const { width, height, bitDepth, colourType } = spec;
  const spp = SAMPLES[colourType];
  const bpp = Math.max(1, (spp * bitDepth) >> 3);
  const passes = spec.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const rows: Uint8Array[] = [];
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * spp * bitDepth) / 8);
    let prev = new Uint8Array(rowBytes);
    for (let j = 0; j < ph; j++) {
      const raw = new Uint8Array(rowBytes);
      for (let i = 0; i < pw; i++) {
        for (let c = 0; c < spp; c++) {
          const v = spec.sample(x0 + i * dx, y0 + j * dy, c);
          const k = i * spp + c;
          if (bitDepth === 16) {
            raw[2 * k] = v >> 8;
            raw[2 * k + 1] = v & 255;
          } else if (bitDepth === 8) raw[k] = v;
          else raw[(k * bitDepth) >> 3]! |= v << (8 - bitDepth - ((k * bitDepth) & 7));
        }
      }
      const filter = j % 5;
      const line = new Uint8Array(rowBytes + 1);
      line[0] = filter;
      for (let x = 0; x < rowBytes; x++) {
        const a = x >= bpp ? raw[x - bpp]! : 0;
        const b = prev[x]!;
        const c = x >= bpp ? prev[x - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
        line[x + 1] = (raw[x]! - predictor) & 255;
      }
      rows.push(line);
      prev = raw;
    }
  }
  return concat(rows);
}

export function writePng(spec: PngSpec): Uint8Array {
  const z = deflateSync(scanlines(spec));
  const size = spec.idatSize ?? z.length;
  const idats: Uint8Array[] = [];
  for (let at = 0; at < z.length; at += size) idats.push(chunk('IDAT', z.subarray(at, at + size)));
  return concat([
    SIGNATURE,
    ihdr(spec.width, spec.height, spec.bitDepth, spec.colourType, spec.interlaced ? 1 : 0),
    ...(spec.palette ? [chunk('PLTE', spec.palette)] : []),
    ...idats,
    chunk('IEND', new Uint8Array(0)),
  ]);
}
