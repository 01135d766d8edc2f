// PNG writer: row filters, zlib (the codecs' zlib backend: fflate, or node:zlib under
// @spine/imaging/node) and chunk CRCs. Every image is written as one IDAT chunk, non-interlaced.
import type { Channels, Image } from '../image.js';
import { crc32 } from './crc32.js';
import { zlibBackend, type DeflateStrategy } from './zlib-backend.js';

export interface PngEncodeOptions {
  /** 8 (default) or 16 bits per sample. */
  bitDepth?: 8 | 16;
  /** zlib level 0-9 (default 6). */
  deflateLevel?: number;
  /**
   * zlib strategy (default 'default'). 'huffman-only' suits noisy images such as film crops, whose
   * grain defeats string matching; fflate (the browser backend) has no such mode and ignores it.
   */
  strategy?: DeflateStrategy;
  /** PNG row filter 0-4; 1 ("sub", default) is fast and compresses smooth radiographs well. -1 picks per row. */
  filterType?: number;
}

/** Raw samples to write: interleaved channels, 8-bit in a Uint8Array, 16-bit in a Uint16Array. */
export interface PngSamples {
  width: number;
  height: number;
  channels: Channels;
  data: Uint8Array | Uint16Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const COLOUR_TYPE: Record<Channels, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** Encodes samples in [0, 1] (clamped) as an 8- or 16-bit PNG of the image's channel layout. */
export function encodePng(image: Image, options: PngEncodeOptions = {}): Uint8Array {
  const bitDepth = options.bitDepth ?? 8;
  const d = image.data;
  const max = bitDepth === 16 ? 65535 : 255;
  const samples = bitDepth === 16 ? new Uint16Array(d.length) : new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    samples[i] = v > 0 ? (v >= 1 ? max : Math.round(v * max)) : 0;
  }
  return encodePngSamples(
    { width: image.width, height: image.height, channels: image.channels, data: samples },
    options,
  );
}

/** Encodes raw 8- or 16-bit samples (the bit depth follows the array type) as a PNG. */
export function encodePngSamples(s: PngSamples, options: Omit<PngEncodeOptions, 'bitDepth'> = {}): Uint8Array {
  const { width, height, channels, data } = s;
  if (data.length !== width * height * channels)
    throw new RangeError(`encodePngSamples: ${data.length} samples for ${width}x${height}x${channels}`);
  const filter = options.filterType ?? 1;
  if (!Number.isInteger(filter) || filter < -1 || filter > 4)
    throw new RangeError(`filterType must be -1 or 0-4, got ${filter}`);
  const level = options.deflateLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9)
    throw new RangeError(`deflateLevel must be 0-9, got ${level}`);
  const strategy = options.strategy ?? 'default';
  if (strategy !== 'default' && strategy !== 'huffman-only')
    throw new RangeError(`strategy must be 'default' or 'huffman-only', got ${String(strategy)}`);
  const wide = data instanceof Uint16Array;
  const bpp = channels * (wide ? 2 : 1);
  const rowBytes = width * bpp;
  const raw = new Uint8Array((rowBytes + 1) * height);
  let prev = new Uint8Array(rowBytes);
  let cur = new Uint8Array(rowBytes);
  const trial = filter === -1 ? new Uint8Array(rowBytes) : cur;
  for (let y = 0; y < height; y++) {
    // The row as big-endian bytes, then filtered into the output after its filter byte.
    if (wide) {
      for (let i = 0, k = y * width * channels; i < rowBytes; i += 2, k++) {
        cur[i] = data[k]! >> 8;
        cur[i + 1] = data[k]! & 255;
      }
    } else cur.set((data as Uint8Array).subarray(y * rowBytes, (y + 1) * rowBytes));
    const o = y * (rowBytes + 1);
    const out = raw.subarray(o + 1, o + 1 + rowBytes);
    if (filter >= 0) {
      raw[o] = filter;
      filterRow(filter, cur, prev, bpp, out);
    } else {
      // The heuristic of the PNG spec: the filter whose output has the smallest sum of |signed bytes|.
      let best = Infinity;
      for (let f = 0; f <= 4; f++) {
        filterRow(f, cur, prev, bpp, trial);
        let sum = 0;
        for (let i = 0; i < rowBytes; i++) sum += trial[i]! < 128 ? trial[i]! : 256 - trial[i]!;
        if (sum < best) {
          best = sum;
          raw[o] = f;
          out.set(trial);
        }
      }
    }
    [prev, cur] = [cur, prev];
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = wide ? 16 : 8;
  ihdr[9] = COLOUR_TYPE[channels]; // compression 0, filter 0, interlace 0 follow as zeros
  const idat = zlibBackend().deflate(raw, level, strategy);
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    png.set(p, at);
    at += p.length;
  }
  return png;
}

/** Writes filter `f` of row `cur` (the row above: `prev`, zeros for the first) into `out`. */
function filterRow(f: number, cur: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): void {
  const n = cur.length;
  if (f === 0) out.set(cur);
  else if (f === 1) {
    for (let x = 0; x < bpp; x++) out[x] = cur[x]!;
    for (let x = bpp; x < n; x++) out[x] = (cur[x]! - cur[x - bpp]!) & 255;
  } else if (f === 2) {
    for (let x = 0; x < n; x++) out[x] = (cur[x]! - prev[x]!) & 255;
  } else if (f === 3) {
    for (let x = 0; x < n; x++) out[x] = (cur[x]! - (((x >= bpp ? cur[x - bpp]! : 0) + prev[x]!) >> 1)) & 255;
  } else {
    for (let x = 0; x < n; x++) {
      const a = x >= bpp ? cur[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      out[x] = (cur[x]! - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
    }
  }
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}
