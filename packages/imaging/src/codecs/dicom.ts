import dicomParser from 'dicom-parser';
import { formatCount, ImagingError } from '../errors.js';
import { checkDimensions, decodeLimit, type DecodeOptions, type Image } from '../image.js';

/** Transfer syntaxes whose pixel data is stored raw ("native"), the only ones we decode. */
const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);

/**
 * DICOM with native pixel data. Pixels go through the modality LUT (rescale slope/intercept), then
 * the first VOI window (centre/width) when present, else a min-max stretch of the frame; MONOCHROME1
 * (white = 0, common for CR films) is inverted so 1 is always bright bone. Only the first frame.
 * The size is checked against the pixel limit before the pixel data is converted.
 */
export function decodeDicom(bytes: Uint8Array, file = '<memory>', options: DecodeOptions = {}): Image {
  const maxPixels = decodeLimit(options);
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch (e) {
    throw parseError(e, bytes, file);
  }
  const syntax = ds.string('x00020010')?.trim() ?? '1.2.840.10008.1.2';
  const pixel = ds.elements['x7fe00010'];
  if (!pixel) throw new ImagingError(file, 'DICOM has no pixel data (7FE0,0010)');
  if (!NATIVE_SYNTAXES.has(syntax) || pixel.encapsulatedPixelData) {
    throw new ImagingError(
      file,
      `unsupported DICOM compression (transfer syntax ${syntax}); convert to native/uncompressed pixel data, e.g. with dcmdjpeg`,
    );
  }
  const bigEndian = syntax === '1.2.840.10008.1.2.2';
  const height = ds.uint16('x00280010') ?? 0;
  const width = ds.uint16('x00280011') ?? 0;
  checkDimensions(width, height, file, maxPixels);
  const spp = ds.uint16('x00280002') ?? 1;
  const allocated = ds.uint16('x00280100') ?? 16;
  const stored = ds.uint16('x00280101') ?? allocated;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const planar = (ds.uint16('x00280006') ?? 0) === 1;
  const photometric = ds.string('x00280004')?.trim() ?? 'MONOCHROME2';
  if (allocated !== 8 && allocated !== 16) {
    throw new ImagingError(file, `unsupported DICOM bits allocated ${allocated} (need 8 or 16)`);
  }
  if (spp !== 1 && spp !== 3) throw new ImagingError(file, `unsupported DICOM samples per pixel ${spp}`);
  if (spp === 3 && photometric !== 'RGB') {
    throw new ImagingError(file, `unsupported DICOM colour space ${photometric}`);
  }
  const n = width * height * spp;
  const bytesPer = allocated / 8;
  if (pixel.dataOffset + n * bytesPer > bytes.length) {
    throw new ImagingError(
      file,
      `DICOM is truncated after ${formatCount(bytes.length)} of ${formatCount(pixel.dataOffset + n * bytesPer)} bytes (the pixel data is cut off)`,
    );
  }
  if (pixel.length < n * bytesPer) {
    throw new ImagingError(
      file,
      `DICOM is corrupt (the pixel data holds ${formatCount(pixel.length)} bytes, ${width}x${height} needs ${formatCount(n * bytesPer)})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + pixel.dataOffset, n * bytesPer);
  const shift = 32 - stored;
  // Only the stored bits, sign-extended when pixel representation is two's complement.
  const storedValue = (i: number): number => {
    const v = allocated === 8 ? view.getUint8(i) : view.getUint16(2 * i, !bigEndian);
    return signed ? (v << shift) >> shift : (v << shift) >>> shift;
  };
  const slope = ds.floatString('x00281053') ?? 1;
  const intercept = ds.floatString('x00281052') ?? 0;
  // The modality LUT, rounded to float32 as the samples are stored.
  const modality =
    slope !== 1 || intercept !== 0 ? (i: number) => Math.fround(storedValue(i) * slope + intercept) : storedValue;
  const centre = ds.floatString('x00281050', 0);
  const widthW = ds.floatString('x00281051', 0);
  const voi =
    centre !== undefined && widthW !== undefined && Number.isFinite(centre) && widthW >= 1
      ? linearWindow(centre, widthW)
      : minMaxStretch(modality, n);
  if (spp === 3 && options.grey) {
    // Luma per pixel straight from the stored samples: no three-plane float copy.
    const plane = width * height;
    const [dr, dg, db, step] = planar ? [0, plane, 2 * plane, 1] : [0, 1, 2, 3];
    const out = new Float32Array(plane);
    const f = Math.fround;
    for (let p = 0; p < plane; p++) {
      const s = p * step;
      out[p] = 0.299 * f(voi(modality(s + dr))) + 0.587 * f(voi(modality(s + dg))) + 0.114 * f(voi(modality(s + db)));
    }
    return { width, height, channels: 1, data: out, bitDepth: stored };
  }
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = voi(modality(i));
  if (photometric === 'MONOCHROME1') for (let i = 0; i < n; i++) data[i] = 1 - data[i]!;
  const out = spp === 3 && planar ? interleavePlanes(data, width * height) : data;
  return { width, height, channels: spp === 3 ? 3 : 1, data: out, bitDepth: stored };
}

/**
 * dicom-parser throws strings, Errors, or `{ exception, dataSet }` with what it read so far. A
 * read past the end is truncation: the elements read so far (or the meta header's group length)
 * say how long the file should be.
 */
function parseError(e: unknown, bytes: Uint8Array, file: string): ImagingError {
  const detail =
    typeof e === 'string' ? e : e instanceof Error ? e.message : String((e as { exception?: unknown })?.exception ?? e);
  const partial = (e as { dataSet?: dicomParser.DataSet } | undefined)?.dataSet;
  let expected = metaHeaderEnd(bytes);
  let last = '';
  for (const el of Object.values(partial?.elements ?? {})) {
    if (!el.hadUndefinedLength && el.dataOffset + el.length > expected) {
      expected = el.dataOffset + el.length;
      last = el.tag;
    }
  }
  if (expected > bytes.length || /past end|overrun/.test(detail)) {
    const of = expected > bytes.length ? ` of at least ${formatCount(expected)}` : '';
    const what = expected > bytes.length && last === 'x7fe00010' ? ' (the pixel data is cut off)' : '';
    return new ImagingError(file, `DICOM is truncated after ${formatCount(bytes.length)}${of} bytes${what}`, {
      cause: e,
    });
  }
  return new ImagingError(file, `DICOM is corrupt (${detail.replace(/^dicomParser[.:]\w+: /, '')})`, { cause: e });
}

/** End of the Part 10 meta header from its group length (0002,0000), or 0 when unreadable. */
function metaHeaderEnd(bytes: Uint8Array): number {
  // 128-byte preamble, "DICM", then (0002,0000) UL with a 2-byte length and a 4-byte value.
  if (bytes.length < 144 || bytes[132] !== 2 || bytes[133] !== 0 || bytes[134] !== 0 || bytes[135] !== 0) return 0;
  return 144 + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(140, true);
}

/** DICOM PS3.3 C.11.2.1.2.1 "LINEAR" VOI function, mapped to [0, 1]. */
function linearWindow(c: number, w: number): (x: number) => number {
  const lo = c - 0.5 - (w - 1) / 2;
  const hi = c - 0.5 + (w - 1) / 2;
  return (x) => (x <= lo ? 0 : x > hi ? 1 : (x - (c - 0.5)) / (w - 1) + 0.5);
}

/** Without a VOI window, the frame's own range (over every sample after the modality LUT) maps to [0, 1]. */
function minMaxStretch(value: (i: number) => number, n: number): (x: number) => number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  return (x) => (x - lo) * scale;
}

function interleavePlanes(data: Float32Array, plane: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < plane; i++) {
    out[3 * i] = data[i]!;
    out[3 * i + 1] = data[plane + i]!;
    out[3 * i + 2] = data[2 * plane + i]!;
  }
  return out;
}
