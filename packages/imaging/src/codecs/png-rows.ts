import { ImagingError } from '../errors.js';
import type { Channels, Image } from '../image.js';

/** The IHDR fields the row decoder needs. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
}

/** Samples per pixel and the bit depths PNG allows, by colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
export const COLOUR_TYPES: Record<number, { samples: number; depths: readonly number[] }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] },
  2: { samples: 3, depths: [8, 16] },
  3: { samples: 1, depths: [1, 2, 4, 8] },
  4: { samples: 2, depths: [8, 16] },
  6: { samples: 4, depths: [8, 16] },
};

/** Channels kept per colour type: alpha stays, a palette becomes RGB (tRNS transparency is dropped). */
const CHANNELS: Record<number, Channels> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of inflated image data (filter byte plus packed samples per row, over every pass). */
export function rawSize(header: PngHeader): number {
  const { width, height, bitDepth, colourType } = header;
  const bitsPerPixel = COLOUR_TYPES[colourType]!.samples * bitDepth;
  let size = 0;
  for (const [x0, y0, dx, dy] of header.interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const)) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) size += h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  }
  return size;
}

/**
 * Turns inflated PNG scanlines into an Image as they arrive: each row is unfiltered against the
 * previous one and converted straight into the float output, so memory is the output plus two
 * rows, whatever the source depth or colour type. With `grey`, colour is reduced to BT.601 luma
 * per pixel (the formula and float32 rounding of `toGrey`) and alpha is dropped.
 */
export class PngRowDecoder {
  readonly image: Image;
  private readonly samples: number;
  private readonly channels: Channels;
  private readonly scale: number;
  private readonly passes: (readonly [number, number, number, number])[];
  private pass = -1;
  private passWidth = 0;
  private passHeight = 0;
  private row = 0;
  private rowBytes = 0;
  private cur = new Uint8Array(0);
  private prev = new Uint8Array(0);
  private filled = 0;

  constructor(
    private readonly header: PngHeader,
    private readonly palette: Uint8Array | undefined,
    grey: boolean,
    private readonly file: string,
  ) {
    const { width, height, bitDepth, colourType } = header;
    this.samples = COLOUR_TYPES[colourType]!.samples;
    this.channels = grey ? 1 : CHANNELS[colourType]!;
    this.scale = 1 / (colourType === 3 ? 255 : 2 ** bitDepth - 1);
    this.passes = header.interlaced ? [...ADAM7] : [[0, 0, 1, 1]];
    const data = new Float32Array(width * height * this.channels);
    this.image = { width, height, channels: this.channels, data, bitDepth: colourType === 3 ? 8 : bitDepth };
    this.nextPass();
  }

  /** True once every row of every pass is in the image. */
  get done(): boolean {
    return this.pass >= this.passes.length;
  }

  /** Where the data stopped, for messages: "row 37 of 120" or "interlace pass 3 of 7". */
  get position(): string {
    return this.header.interlaced ? `interlace pass ${this.pass + 1} of 7` : `row ${this.row} of ${this.header.height}`;
  }

  /** Feeds inflated bytes; anything after the last row is ignored. */
  write(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length && !this.done) {
      const take = Math.min(this.rowBytes + 1 - this.filled, bytes.length - i);
      this.cur.set(bytes.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === this.rowBytes + 1) this.finishRow();
    }
  }

  private nextPass(): void {
    const { width, height, bitDepth } = this.header;
    do {
      this.pass++;
      if (this.done) return;
      const [x0, y0, dx, dy] = this.passes[this.pass]!;
      this.passWidth = Math.ceil((width - x0) / dx);
      this.passHeight = Math.ceil((height - y0) / dy);
    } while (this.passWidth <= 0 || this.passHeight <= 0);
    this.row = 0;
    this.rowBytes = Math.ceil((this.passWidth * this.samples * bitDepth) / 8);
    // Index 0 holds the filter byte; the row above the first is zeros.
    this.cur = new Uint8Array(this.rowBytes + 1);
    this.prev = new Uint8Array(this.rowBytes + 1);
    this.filled = 0;
  }

  private finishRow(): void {
    const filter = this.cur[0]!;
    if (filter > 4) {
      throw new ImagingError(this.file, `PNG is corrupt (${this.position} has unknown filter type ${filter})`);
    }
    unfilter(this.cur, this.prev, filter, Math.max(1, (this.samples * this.header.bitDepth) >> 3));
    const [x0, y0, dx, dy] = this.passes[this.pass]!;
    this.convertRow((y0 + this.row * dy) * this.header.width + x0, dx);
    [this.cur, this.prev] = [this.prev, this.cur];
    this.filled = 0;
    if (++this.row === this.passHeight) this.nextPass();
  }

  /** Writes the current row's pixels to the output, starting at pixel `start`, `step` pixels apart. */
  private convertRow(start: number, step: number): void {
    const { bitDepth, colourType } = this.header;
    const row = this.cur;
    const out = this.image.data;
    const { samples, channels, scale, palette } = this;
    if (colourType === 0 && bitDepth >= 8) {
      // Grey films, the common case, without the per-sample reader.
      const n = this.passWidth;
      if (bitDepth === 8) for (let i = 0; i < n; i++) out[start + i * step] = row[i + 1]! * scale;
      else for (let i = 0; i < n; i++) out[start + i * step] = ((row[2 * i + 1]! << 8) | row[2 * i + 2]!) * scale;
      return;
    }
    const sample = sampleReader(bitDepth);
    const f = Math.fround;
    for (let i = 0; i < this.passWidth; i++) {
      const o = (start + i * step) * channels;
      const k = i * samples;
      if (colourType === 3) {
        const index = sample(row, k);
        if (3 * index + 2 >= palette!.length) {
          throw new ImagingError(
            this.file,
            `PNG is corrupt (a pixel uses palette entry ${index} of ${palette!.length / 3})`,
          );
        }
        const r = f(palette![3 * index]! * scale);
        const g = f(palette![3 * index + 1]! * scale);
        const b = f(palette![3 * index + 2]! * scale);
        if (channels === 1) out[o] = 0.299 * r + 0.587 * g + 0.114 * b;
        else {
          out[o] = r;
          out[o + 1] = g;
          out[o + 2] = b;
        }
      } else if (samples <= 2) {
        out[o] = sample(row, k) * scale;
        if (channels === 2) out[o + 1] = sample(row, k + 1) * scale;
      } else {
        const r = f(sample(row, k) * scale);
        const g = f(sample(row, k + 1) * scale);
        const b = f(sample(row, k + 2) * scale);
        if (channels === 1) out[o] = 0.299 * r + 0.587 * g + 0.114 * b;
        else {
          out[o] = r;
          out[o + 1] = g;
          out[o + 2] = b;
          if (channels === 4) out[o + 3] = sample(row, k + 3) * scale;
        }
      }
    }
  }
}

/** Reads sample `k` of a row whose byte 0 is the filter byte (big-endian 16-bit, MSB-first packed sub-byte samples). */
function sampleReader(bitDepth: number): (row: Uint8Array, k: number) => number {
  if (bitDepth === 8) return (row, k) => row[k + 1]!;
  if (bitDepth === 16) return (row, k) => (row[2 * k + 1]! << 8) | row[2 * k + 2]!;
  const mask = (1 << bitDepth) - 1;
  return (row, k) => {
    const bit = k * bitDepth;
    return (row[(bit >> 3) + 1]! >> (8 - bitDepth - (bit & 7))) & mask;
  };
}

/** PNG filter types 0-4, undone in place; `bpp` is bytes per complete pixel (at least 1). */
function unfilter(cur: Uint8Array, prev: Uint8Array, filter: number, bpp: number): void {
  const n = cur.length;
  if (filter === 1) {
    for (let x = 1 + bpp; x < n; x++) cur[x] = (cur[x]! + cur[x - bpp]!) & 255;
  } else if (filter === 2) {
    for (let x = 1; x < n; x++) cur[x] = (cur[x]! + prev[x]!) & 255;
  } else if (filter === 3) {
    for (let x = 1; x < n; x++) {
      const a = x > bpp ? cur[x - bpp]! : 0;
      cur[x] = (cur[x]! + ((a + prev[x]!) >> 1)) & 255;
    }
  } else if (filter === 4) {
    for (let x = 1; x < n; x++) {
      const a = x > bpp ? cur[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x > bpp ? prev[x - bpp]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      cur[x] = (cur[x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
    }
  }
}
