import { decodeDicom } from './codecs/dicom.js';
import { decodeJpeg } from './codecs/jpeg.js';
import { decodePng } from './codecs/png.js';
import { decodeTiff } from './codecs/tiff.js';
import { ImagingError, isImagingError } from './errors.js';
import { decodeLimit, type DecodeOptions, type Image } from './image.js';
import { sniffFormat, type ImageFormat } from './sniff.js';

const DECODERS: Record<ImageFormat, (bytes: Uint8Array, file: string, options: DecodeOptions) => Image> = {
  png: decodePng,
  tiff: decodeTiff,
  jpeg: decodeJpeg,
  dicom: decodeDicom,
};

/**
 * Decodes PNG, TIFF, JPEG or DICOM bytes, choosing the decoder from the content. `file` only
 * names the source in errors: an ImagingError's `reason` never contains it, and its message
 * names it once. `options` sets the pixel limit (checked from the header, before allocating) and
 * can ask for one grey channel directly. Every failure, including a surprise from a third-party
 * decoder on hostile input, surfaces as an ImagingError.
 */
export function decodeImage(bytes: Uint8Array, file = '<memory>', options: DecodeOptions = {}): Image {
  decodeLimit(options);
  if (bytes.length === 0) throw new ImagingError(file, 'file is empty');
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImagingError(file, 'not a recognised image (expected PNG, TIFF, JPEG or DICOM content)');
  }
  try {
    return DECODERS[format](bytes, file, options);
  } catch (e) {
    if (isImagingError(e)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ImagingError(file, `${format.toUpperCase()} could not be decoded (${msg})`, { cause: e });
  }
}
