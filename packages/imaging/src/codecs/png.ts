import pngjs from 'pngjs';
import { ImagingError } from '../errors.js';
import { checkDimensions, type Channels, type Image } from '../image.js';

const { PNG } = pngjs;

/** Reads the IHDR size without inflating, so absurd sizes are refused before allocation. */
function pngHeaderSize(bytes: Uint8Array, file: string): { width: number; height: number } {
  if (bytes.length < 33) throw new ImagingError(file, 'PNG is truncated (no complete IHDR chunk)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (type !== 'IHDR') throw new ImagingError(file, 'PNG is corrupt (first chunk is not IHDR)');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * PNG via pngjs. pngjs always expands to RGBA, so the source colour type decides how many channels
 * we keep: grey stays 1 channel (x-rays), grey+alpha 2, RGB 3, RGBA 4; palette becomes RGB(A).
 */
export function decodePng(bytes: Uint8Array, file: string): Image {
  const { width, height } = pngHeaderSize(bytes, file);
  checkDimensions(width, height, file);
  let png: pngjs.PNGWithMetadata;
  try {
    // skipRescale keeps 16-bit samples as 0..65535 instead of cutting them to 8 bits.
    png = PNG.sync.read(toBuffer(bytes), { skipRescale: true });
  } catch (e) {
    throw new ImagingError(file, `PNG is corrupt or truncated (${(e as Error).message})`, { cause: e });
  }
  const depth = png.depth;
  const palette = png.palette;
  const src = png.data as unknown as ArrayLike<number>;
  // Palette entries come out already expanded to 8 bits; sub-byte greys keep their raw values.
  const max = palette ? 255 : 2 ** depth - 1;
  const colorType = png.colorType as number;
  const channels: Channels =
    colorType === 0 ? 1 : colorType === 4 ? 2 : colorType === 2 ? 3 : colorType === 6 ? 4 : png.alpha ? 4 : 3;
  const n = width * height;
  if (src.length < n * 4) throw new ImagingError(file, 'PNG is truncated (too few pixels decoded)');
  const data = new Float32Array(n * channels);
  const inv = 1 / max;
  for (let i = 0; i < n; i++) {
    const s = i * 4;
    const o = i * channels;
    if (channels === 1) data[o] = src[s]! * inv;
    else if (channels === 2) {
      data[o] = src[s]! * inv;
      data[o + 1] = src[s + 3]! * inv;
    } else {
      data[o] = src[s]! * inv;
      data[o + 1] = src[s + 1]! * inv;
      data[o + 2] = src[s + 2]! * inv;
      if (channels === 4) data[o + 3] = src[s + 3]! * inv;
    }
  }
  return { width, height, channels, data, bitDepth: palette ? 8 : depth };
}

export interface PngEncodeOptions {
  /** 8 (default) or 16 bits per sample. */
  bitDepth?: 8 | 16;
  /** zlib level 0-9; 6 is the usual size/speed balance (pngjs defaults to a slow 9). */
  deflateLevel?: number;
  /** PNG row filter; 1 ("sub") is fast and compresses smooth radiographs well. -1 tries all. */
  filterType?: number;
}

const COLOR_TYPE: Record<Channels, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** Encodes samples in [0, 1] (clamped) as an 8- or 16-bit PNG of the image's channel layout. */
export function encodePng(image: Image, options: PngEncodeOptions = {}): Uint8Array {
  const bitDepth = options.bitDepth ?? 8;
  const { width, height, channels } = image;
  const d = image.data;
  const max = bitDepth === 16 ? 65535 : 255;
  const samples = bitDepth === 16 ? new Uint16Array(d.length) : new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    samples[i] = v > 0 ? (v >= 1 ? max : Math.round(v * max)) : 0;
  }
  const colorType = COLOR_TYPE[channels];
  const png = new PNG({ width, height, colorType, inputColorType: colorType, bitDepth, inputHasAlpha: channels % 2 === 0 } as pngjs.PNGOptions);
  // pngjs reinterprets 16-bit input through `new Uint16Array(buffer)`, so hand it a fresh buffer.
  png.data = Buffer.from(samples.buffer, 0, samples.byteLength);
  const out = PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    bitDepth,
    inputHasAlpha: channels % 2 === 0,
    deflateLevel: options.deflateLevel ?? 6,
    filterType: options.filterType ?? 1,
  } as pngjs.PNGOptions);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
