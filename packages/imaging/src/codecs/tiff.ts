import UTIF from 'utif2';
import { ImagingError } from '../errors.js';
import { checkDimensions, type Channels, type Image } from '../image.js';

/** TIFF compression codes we accept; utif2 knows more, but these are the ones we test. */
const COMPRESSION: Record<number, string> = {
  1: 'uncompressed',
  5: 'LZW',
  8: 'Deflate',
  32946: 'Deflate',
  32773: 'PackBits',
};

function tag(ifd: UTIF.IFD, id: number): number | undefined {
  const v = ifd[`t${id}`] as ArrayLike<number> | undefined;
  return v && v.length > 0 ? Number(v[0]) : undefined;
}

function tagArray(ifd: UTIF.IFD, id: number): number[] {
  const v = ifd[`t${id}`] as ArrayLike<number> | undefined;
  return v ? Array.from(v, Number) : [];
}

/**
 * First image of a TIFF (8- or 16-bit, grey or RGB(A), strips, chunky) through utif2. utif2 is
 * lenient: it logs and carries on for unknown compressions and reads past the end of truncated
 * strips, so the header is validated here before any pixel work.
 */
export function decodeTiff(bytes: Uint8Array, file: string): Image {
  // utif2 views the ArrayBuffer from offset 0, so give it one that starts at our first byte.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let ifds: UTIF.IFD[];
  try {
    ifds = UTIF.decode(buffer);
  } catch (e) {
    throw new ImagingError(file, `TIFF is corrupt (${(e as Error).message})`, { cause: e });
  }
  const ifd = ifds.find((d) => d['t256'] !== undefined);
  if (!ifd) throw new ImagingError(file, 'TIFF contains no image directory');
  const width = tag(ifd, 256) ?? 0;
  const height = tag(ifd, 257) ?? 0;
  checkDimensions(width, height, file);
  const compression = tag(ifd, 259) ?? 1;
  if (!(compression in COMPRESSION)) {
    throw new ImagingError(
      file,
      `unsupported TIFF compression ${compression}; re-save as uncompressed, LZW, Deflate or PackBits`,
    );
  }
  const spp = tag(ifd, 277) ?? 1;
  const bps = tagArray(ifd, 258);
  const bits = bps[0] ?? 1;
  if (bits !== 8 && bits !== 16) throw new ImagingError(file, `unsupported TIFF bit depth ${bits} (need 8 or 16)`);
  if (bps.some((b) => b !== bits)) throw new ImagingError(file, 'TIFF samples have mixed bit depths');
  if (spp < 1 || spp > 4) throw new ImagingError(file, `unsupported TIFF samples per pixel ${spp}`);
  if ((tag(ifd, 284) ?? 1) !== 1) throw new ImagingError(file, 'planar (non-interleaved) TIFF is not supported');
  if ((tag(ifd, 339) ?? 1) === 3) throw new ImagingError(file, 'floating-point TIFF is not supported');
  if (ifd['t322'] !== undefined) throw new ImagingError(file, 'tiled TIFF is not supported; save with strips');
  const offsets = tagArray(ifd, 273);
  const counts = tagArray(ifd, 279);
  if (offsets.length === 0) throw new ImagingError(file, 'TIFF has no strip offsets');
  for (let i = 0; i < offsets.length; i++) {
    const end = offsets[i]! + (counts[i] ?? 0);
    if (end > bytes.length) throw new ImagingError(file, 'TIFF is truncated (strip data past end of file)');
  }
  try {
    UTIF.decodeImage(buffer, ifd);
  } catch (e) {
    throw new ImagingError(file, `TIFF ${COMPRESSION[compression]} data is corrupt (${(e as Error).message})`, {
      cause: e,
    });
  }
  const raw = ifd.data;
  const channels = spp as Channels;
  const n = width * height * channels;
  const bytesPer = bits / 8;
  if (!raw || raw.length < n * bytesPer) throw new ImagingError(file, 'TIFF is truncated (too few pixels)');
  const data = new Float32Array(n);
  if (bits === 8) {
    for (let i = 0; i < n; i++) data[i] = raw[i]! / 255;
  } else {
    // utif2 has already converted big-endian 16-bit strips to little-endian.
    for (let i = 0; i < n; i++) data[i] = (raw[2 * i]! | (raw[2 * i + 1]! << 8)) / 65535;
  }
  // PhotometricInterpretation 0 (WhiteIsZero) is the TIFF twin of DICOM MONOCHROME1.
  if (tag(ifd, 262) === 0 && channels <= 2) {
    for (let i = 0; i < n; i += channels) data[i] = 1 - data[i]!;
  }
  return { width, height, channels, data, bitDepth: bits };
}
