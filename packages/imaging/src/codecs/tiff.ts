import { formatCount, ImagingError } from '../errors.js';
import { checkDimensions, decodeLimit, type Channels, type DecodeOptions, type Image } from '../image.js';
import { readFirstDirectory } from './tiff-ifd.js';
import { decodeDeflate, decodeLzw, decodePackBits, undoHorizontalPredictor } from './tiff-strips.js';

type StripDecoder = (src: Uint8Array, out: Uint8Array) => number;

/** TIFF compression codes we decode. */
const COMPRESSION: Record<number, [string, StripDecoder]> = {
  1: ['uncompressed', (src, out) => (out.set(src.subarray(0, out.length)), Math.min(src.length, out.length))],
  5: ['LZW', decodeLzw],
  8: ['Deflate', decodeDeflate],
  32946: ['Deflate', decodeDeflate],
  32773: ['PackBits', decodePackBits],
};

/**
 * First image of a TIFF: 8- or 16-bit, grey or RGB(A), strips, interleaved samples, either byte
 * order. This is the common output of film digitisers and of Pillow/ImageMagick/libtiff; tiled,
 * planar, float and JPEG-compressed TIFFs are refused with a reason. Strips are decoded one at a
 * time into a strip-sized buffer and converted straight into the float output (one grey channel
 * with `options.grey`), so no full-size raw copy is made.
 */
export function decodeTiff(bytes: Uint8Array, file = '<memory>', options: DecodeOptions = {}): Image {
  const maxPixels = decodeLimit(options);
  const { tags, littleEndian } = readFirstDirectory(bytes, file);
  const one = (id: number, fallback: number): number => tags[`t${id}`]?.[0] ?? fallback;
  const many = (id: number): number[] => tags[`t${id}`] ?? [];
  const width = one(256, 0);
  const height = one(257, 0);
  checkDimensions(width, height, file, maxPixels);
  const compression = one(259, 1);
  const codec = COMPRESSION[compression];
  if (!codec) {
    throw new ImagingError(
      file,
      `unsupported TIFF compression ${compression}; re-save as uncompressed, LZW, Deflate or PackBits`,
    );
  }
  const spp = one(277, 1);
  const bps = many(258);
  const bits = bps[0] ?? 1;
  if (bits !== 8 && bits !== 16) throw new ImagingError(file, `unsupported TIFF bit depth ${bits} (need 8 or 16)`);
  if (bps.some((b) => b !== bits)) throw new ImagingError(file, 'TIFF samples have mixed bit depths');
  if (spp < 1 || spp > 4) throw new ImagingError(file, `unsupported TIFF samples per pixel ${spp}`);
  if (one(284, 1) !== 1) throw new ImagingError(file, 'planar (non-interleaved) TIFF is not supported');
  if (one(339, 1) === 3) throw new ImagingError(file, 'floating-point TIFF is not supported');
  if (tags['t322']) throw new ImagingError(file, 'tiled TIFF is not supported; save with strips');
  const predictor = one(317, 1);
  if (predictor !== 1 && predictor !== 2) throw new ImagingError(file, `unsupported TIFF predictor ${predictor}`);

  const offsets = many(273);
  const counts = many(279);
  if (offsets.length === 0) throw new ImagingError(file, 'TIFF has no strip offsets');
  if (counts.length !== offsets.length) throw new ImagingError(file, 'TIFF strip offsets and byte counts disagree');
  const rowsPerStrip = Math.min(one(278, height), height);
  if (rowsPerStrip < 1 || offsets.length * rowsPerStrip < height) {
    throw new ImagingError(file, 'TIFF is corrupt (strips do not cover the image)');
  }
  const stripCount = Math.ceil(height / rowsPerStrip);
  let expected = 0;
  for (let s = 0; s < stripCount; s++) expected = Math.max(expected, offsets[s]! + counts[s]!);
  if (expected > bytes.length) {
    throw new ImagingError(
      file,
      `TIFF is truncated after ${formatCount(bytes.length)} of ${formatCount(expected)} bytes (the image data runs past the end)`,
    );
  }
  const rowBytes = width * spp * (bits / 8);
  const out = new StripConverter(width, height, spp, bits, options.grey === true, one(262, 1) === 0);
  const strip = new Uint8Array(rowBytes * rowsPerStrip);
  for (let s = 0; s < stripCount; s++) {
    const rows = Math.min(rowsPerStrip, height - s * rowsPerStrip);
    const target = strip.subarray(0, rows * rowBytes);
    let got: number;
    try {
      got = codec[1](bytes.subarray(offsets[s]!, offsets[s]! + counts[s]!), target);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ImagingError(file, `TIFF ${codec[0]} data is corrupt in strip ${s} (${msg})`, { cause: e });
    }
    if (got < target.length) {
      throw new ImagingError(
        file,
        `TIFF is corrupt (strip ${s} holds ${formatCount(got)} of its ${formatCount(target.length)} bytes of pixels)`,
      );
    }
    if (bits === 16 && !littleEndian) {
      for (let i = 0; i + 1 < target.length; i += 2) {
        const t = target[i]!;
        target[i] = target[i + 1]!;
        target[i + 1] = t;
      }
    }
    if (predictor === 2) undoHorizontalPredictor(target, width, rows, spp, bits);
    out.convert(target, s * rowsPerStrip, rows);
  }
  return out.image;
}

/**
 * Little-endian 8/16-bit interleaved rows -> float samples in [0, 1]; one grey channel when asked
 * (BT.601 luma with `toGrey`'s rounding, alpha dropped). PhotometricInterpretation 0
 * (WhiteIsZero), the TIFF twin of DICOM MONOCHROME1, is inverted.
 */
class StripConverter {
  readonly image: Image;

  constructor(
    width: number,
    height: number,
    private readonly spp: number,
    private readonly bits: 8 | 16,
    grey: boolean,
    private readonly whiteIsZero: boolean,
  ) {
    const channels = (grey ? 1 : spp) as Channels;
    this.image = { width, height, channels, data: new Float32Array(width * height * channels), bitDepth: bits };
  }

  convert(raw: Uint8Array, firstRow: number, rows: number): void {
    const { spp, bits, whiteIsZero } = this;
    const { width, channels, data } = this.image;
    const scale = 1 / (bits === 8 ? 255 : 65535);
    const at =
      bits === 8 ? (k: number) => raw[k]! * scale : (k: number) => (raw[2 * k]! | (raw[2 * k + 1]! << 8)) * scale;
    const n = width * rows;
    const base = firstRow * width;
    const f = Math.fround;
    for (let i = 0; i < n; i++) {
      const k = i * spp;
      const o = (base + i) * channels;
      if (spp <= 2) {
        const v = at(k);
        data[o] = whiteIsZero ? 1 - f(v) : v;
        if (channels === 2) data[o + 1] = at(k + 1);
      } else if (channels === 1) {
        data[o] = 0.299 * f(at(k)) + 0.587 * f(at(k + 1)) + 0.114 * f(at(k + 2));
      } else {
        for (let c = 0; c < channels; c++) data[o + c] = at(k + c);
      }
    }
  }
}
