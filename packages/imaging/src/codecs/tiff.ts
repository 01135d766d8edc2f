import { ImagingError } from '../errors.js';
import { checkDimensions, type Channels, type Image } from '../image.js';
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
 * planar, float and JPEG-compressed TIFFs are refused with a reason.
 */
export function decodeTiff(bytes: Uint8Array, file: string): Image {
  const { tags, littleEndian } = readFirstDirectory(bytes, file);
  const one = (id: number, fallback: number): number => tags[`t${id}`]?.[0] ?? fallback;
  const many = (id: number): number[] => tags[`t${id}`] ?? [];
  const width = one(256, 0);
  const height = one(257, 0);
  checkDimensions(width, height, file);
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
  const rowBytes = width * spp * (bits / 8);
  const raw = new Uint8Array(rowBytes * height);
  const stripCount = Math.ceil(height / rowsPerStrip);
  for (let s = 0; s < stripCount; s++) {
    const start = offsets[s]!;
    const end = start + counts[s]!;
    if (end > bytes.length) throw new ImagingError(file, 'TIFF is truncated (strip data past end of file)');
    const rows = Math.min(rowsPerStrip, height - s * rowsPerStrip);
    const target = raw.subarray(s * rowsPerStrip * rowBytes, (s * rowsPerStrip + rows) * rowBytes);
    let got: number;
    try {
      got = codec[1](bytes.subarray(start, end), target);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ImagingError(file, `TIFF ${codec[0]} data is corrupt in strip ${s} (${msg})`, { cause: e });
    }
    if (got < target.length) throw new ImagingError(file, `TIFF is truncated (strip ${s} is short)`);
  }
  if (bits === 16 && !littleEndian) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const t = raw[i]!;
      raw[i] = raw[i + 1]!;
      raw[i + 1] = t;
    }
  }
  if (predictor === 2) undoHorizontalPredictor(raw, width, height, spp, bits);

  const n = width * height * spp;
  const data = new Float32Array(n);
  if (bits === 8) for (let i = 0; i < n; i++) data[i] = raw[i]! / 255;
  else for (let i = 0; i < n; i++) data[i] = (raw[2 * i]! | (raw[2 * i + 1]! << 8)) / 65535;
  // PhotometricInterpretation 0 (WhiteIsZero) is the TIFF twin of DICOM MONOCHROME1.
  if (one(262, 1) === 0 && spp <= 2) for (let i = 0; i < n; i += spp) data[i] = 1 - data[i]!;
  return { width, height, channels: spp as Channels, data, bitDepth: bits };
}
