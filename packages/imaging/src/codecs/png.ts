import pako, { type Inflate } from 'pako';
import pngjs from 'pngjs';
import { formatCount, ImagingError } from '../errors.js';
import { checkDimensions, decodeLimit, type Channels, type DecodeOptions, type Image } from '../image.js';
import { pngChunks } from './png-chunks.js';
import { COLOUR_TYPES, PngRowDecoder, type PngHeader } from './png-rows.js';

const { PNG } = pngjs;

/** Compressed bytes handed to the inflater at a time, so a bomb's excess is never inflated past the last row. */
const INFLATE_SLICE = 1 << 16;
const Z_SYNC_FLUSH = 2;

/**
 * PNG of any colour type and depth, interlaced or not. The size is checked against the pixel
 * limit from IHDR before anything is allocated; the image data is then inflated a slice at a time
 * and converted row by row (see PngRowDecoder), so no full-size raw, RGBA or float intermediate
 * exists. Grey stays 1 channel (x-rays), grey+alpha 2, RGB 3, RGBA 4, palette RGB; with
 * `options.grey` always 1. Truncation, CRC and zlib errors are reported in their own words.
 */
export function decodePng(bytes: Uint8Array, file = '<memory>', options: DecodeOptions = {}): Image {
  const maxPixels = decodeLimit(options);
  let header: PngHeader | undefined;
  let palette: Uint8Array | undefined;
  let rows: PngRowDecoder | undefined;
  let inflater: Inflate | undefined;
  let inflateError = '';
  let sawEnd = false;
  const corrupt = (why: string): ImagingError => new ImagingError(file, `PNG is corrupt (${why})`);
  for (const chunk of pngChunks(bytes, file)) {
    const { type, data } = chunk;
    if (!header) {
      if (type !== 'IHDR') throw corrupt(`the first chunk is ${type}, not IHDR`);
      header = readHeader(data, file, maxPixels);
    } else if (type === 'IHDR') {
      throw corrupt('a second IHDR chunk');
    } else if (type === 'PLTE') {
      if (data.length === 0 || data.length % 3 !== 0 || data.length > 768) throw corrupt(`PLTE chunk of ${data.length} bytes`);
      palette = data;
    } else if (type === 'IDAT') {
      if (!rows) {
        if (header.colourType === 3 && !palette) throw corrupt('a palette image without a PLTE chunk before its data');
        rows = new PngRowDecoder(header, palette, options.grey === true, file);
        const sink = rows;
        inflater = new pako.Inflate({ chunkSize: INFLATE_SLICE });
        inflater.onData = (out) => sink.write(out);
        inflater.onEnd = (status) => {
          if (status < 0) inflateError = inflater!.strm.msg || `zlib status ${status}`;
        };
      }
      for (let at = 0; at < data.length && !rows.done && !inflater!.ended; at += INFLATE_SLICE) {
        inflater!.push(data.subarray(at, at + INFLATE_SLICE), Z_SYNC_FLUSH);
      }
      if (inflateError) throw corrupt(`its compressed image data is damaged: ${inflateError}, at ${rows.position}`);
      if (rows.done) break;
      if (inflater!.ended) throw corrupt(`the compressed image data ends at ${rows.position}`);
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    } else if (isCritical(type)) {
      throw new ImagingError(file, `PNG uses an unsupported critical chunk '${type}'`);
    }
  }
  if (rows?.done) return rows.image;
  const where = !header ? 'no IHDR chunk' : rows ? `the image data stops at ${rows.position}` : 'no image data';
  if (!sawEnd) throw new ImagingError(file, `PNG is truncated after ${formatCount(bytes.length)} bytes (${where})`);
  if (!rows) throw new ImagingError(file, 'PNG has no image data (no IDAT chunk)');
  throw corrupt(where);
}

function readHeader(data: Uint8Array, file: string, maxPixels: number): PngHeader {
  if (data.length !== 13) throw new ImagingError(file, `PNG is corrupt (IHDR chunk of ${data.length} bytes, expected 13)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  checkDimensions(width, height, file, maxPixels);
  const [bitDepth, colourType, compression, filter, interlace] = [data[8]!, data[9]!, data[10]!, data[11]!, data[12]!];
  const kind = COLOUR_TYPES[colourType];
  if (!kind) throw new ImagingError(file, `PNG is corrupt (unknown colour type ${colourType})`);
  if (!kind.depths.includes(bitDepth)) {
    throw new ImagingError(file, `PNG is corrupt (bit depth ${bitDepth} is not allowed for colour type ${colourType})`);
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw new ImagingError(file, `PNG is corrupt (unknown compression ${compression}, filter ${filter} or interlace ${interlace} method)`);
  }
  return { width, height, bitDepth, colourType, interlaced: interlace === 1 };
}

/** Chunks whose type starts with a capital letter must be understood to read the image. */
function isCritical(type: string): boolean {
  return type.charCodeAt(0) < 0x61;
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
