import { Unzlib } from 'fflate';
import { formatCount, ImagingError } from '../errors.js';
import { checkDimensions, decodeLimit, type DecodeOptions, type Image } from '../image.js';
import { pngChunks } from './png-chunks.js';
import { COLOUR_TYPES, PngRowDecoder, rawSize, type PngHeader } from './png-rows.js';
import { inflateExact, ONE_SHOT_INFLATE_LIMIT, zlibBackend } from './zlib-backend.js';

/** Compressed bytes handed to the inflater at a time, so a bomb's excess is never inflated past the last row. */
const INFLATE_SLICE = 1 << 16;

/**
 * PNG of any colour type and depth, interlaced or not. The size is checked against the pixel
 * limit from IHDR before anything is allocated; the image data is then inflated a slice at a time
 * and converted row by row (see PngRowDecoder), so no full-size raw, RGBA or float intermediate
 * exists. Grey stays 1 channel (x-rays), grey+alpha 2, RGB 3, RGBA 4, palette RGB; with
 * `options.grey` always 1. Truncation, CRC and zlib errors are reported in their own words.
 * Where the zlib backend inflates in one shot (node:zlib) and the raw scanlines are modest, a
 * well-formed file takes that faster path instead (see decodeOneShot).
 */
export function decodePng(bytes: Uint8Array, file = '<memory>', options: DecodeOptions = {}): Image {
  return decodeOneShot(bytes, file, options) ?? decodeStreaming(bytes, file, options);
}

/**
 * The image data of a plainly laid-out PNG inflated in one call, bounded at exactly the size its
 * rows need. Anything unusual (a damaged, short or over-long stream, odd chunk order, an error of
 * any kind) gives undefined and the streaming path decodes the file from the start, so the pixels
 * accepted and every error message are the streaming path's.
 */
function decodeOneShot(bytes: Uint8Array, file: string, options: DecodeOptions): Image | undefined {
  if (!zlibBackend().inflateExact) return undefined;
  try {
    let header: PngHeader | undefined;
    let palette: Uint8Array | undefined;
    const idat: Uint8Array[] = [];
    for (const { type, data } of pngChunks(bytes, file)) {
      if (idat.length > 0 && type !== 'IDAT') break;
      if (!header) {
        if (type !== 'IHDR') return undefined;
        header = readHeader(data, file, decodeLimit(options));
        // Too big to inflate at once: stream it from the start, without a pass over its chunks first.
        if (rawSize(header) > ONE_SHOT_INFLATE_LIMIT) return undefined;
      } else if (type === 'IDAT') idat.push(data);
      else if (type === 'PLTE') palette = data;
      else if (type === 'IHDR' || type === 'IEND' || isCritical(type)) return undefined;
    }
    if (!header || idat.length === 0) return undefined;
    if (
      header.colourType === 3 &&
      (!palette || palette.length === 0 || palette.length % 3 !== 0 || palette.length > 768)
    )
      return undefined;
    const raw = inflateExact(idat, rawSize(header));
    if (!raw) return undefined;
    const rows = new PngRowDecoder(header, palette, options.grey === true, file);
    rows.write(raw);
    return rows.done ? rows.image : undefined;
  } catch {
    return undefined;
  }
}

function decodeStreaming(bytes: Uint8Array, file: string, options: DecodeOptions): Image {
  const maxPixels = decodeLimit(options);
  let header: PngHeader | undefined;
  let palette: Uint8Array | undefined;
  let rows: PngRowDecoder | undefined;
  let inflater: Unzlib | undefined;
  let sawEnd = false;
  const corrupt = (why: string): ImagingError => new ImagingError(file, `PNG is corrupt (${why})`);
  const inflate = (data: Uint8Array, final: boolean): void => {
    try {
      inflater!.push(data, final);
    } catch (e) {
      if (e instanceof ImagingError) throw e; // from the row decoder
      const why = (e as Error).message;
      // A stream that ends cleanly or is cut short both leave rows missing.
      throw corrupt(
        final && why === 'unexpected EOF'
          ? `the compressed image data ends at ${rows!.position}`
          : `its compressed image data is damaged: ${why}, at ${rows!.position}`,
      );
    }
  };
  for (const chunk of pngChunks(bytes, file)) {
    const { type, data } = chunk;
    if (rows && !rows.done && type !== 'IDAT') {
      // The image data is over (IDAT chunks are consecutive): whatever the inflater still holds
      // goes to the rows, and a complete stream that is still short of them ends too early.
      inflate(new Uint8Array(0), true);
      if (!rows.done) throw corrupt(`the compressed image data ends at ${rows.position}`);
    }
    if (!header) {
      if (type !== 'IHDR') throw corrupt(`the first chunk is ${type}, not IHDR`);
      header = readHeader(data, file, maxPixels);
    } else if (type === 'IHDR') {
      throw corrupt('a second IHDR chunk');
    } else if (type === 'PLTE') {
      if (data.length === 0 || data.length % 3 !== 0 || data.length > 768)
        throw corrupt(`PLTE chunk of ${data.length} bytes`);
      palette = data;
    } else if (type === 'IDAT') {
      if (!rows) {
        if (header.colourType === 3 && !palette) throw corrupt('a palette image without a PLTE chunk before its data');
        rows = new PngRowDecoder(header, palette, options.grey === true, file);
        const sink = rows;
        inflater = new Unzlib((out) => sink.write(out));
      }
      for (let at = 0; at < data.length && !rows.done; at += INFLATE_SLICE)
        inflate(data.subarray(at, at + INFLATE_SLICE), false);
      if (rows.done) break;
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
  if (data.length !== 13)
    throw new ImagingError(file, `PNG is corrupt (IHDR chunk of ${data.length} bytes, expected 13)`);
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
    throw new ImagingError(
      file,
      `PNG is corrupt (unknown compression ${compression}, filter ${filter} or interlace ${interlace} method)`,
    );
  }
  return { width, height, bitDepth, colourType, interlaced: interlace === 1 };
}

/** Chunks whose type starts with a capital letter must be understood to read the image. */
function isCritical(type: string): boolean {
  return type.charCodeAt(0) < 0x61;
}
