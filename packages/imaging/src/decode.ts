import { decodeDicom } from './codecs/dicom.js';
import { decodeJpeg } from './codecs/jpeg.js';
import { decodePng } from './codecs/png.js';
import { decodeTiff } from './codecs/tiff.js';
import { ImagingError, isImagingError } from './errors.js';
import type { Image } from './image.js';
import { sniffFormat, type ImageFormat } from './sniff.js';

const DECODERS: Record<ImageFormat, (bytes: Uint8Array, file: string) => Image> = {
  png: decodePng,
  tiff: decodeTiff,
  jpeg: decodeJpeg,
  dicom: decodeDicom,
};

/**
 * Decodes PNG, TIFF, JPEG or DICOM bytes, choosing the decoder from the content. `file` only
 * names the source in errors. Every failure, including a surprise from a third-party decoder on
 * hostile input, surfaces as an ImagingError.
 */
export function decodeImage(bytes: Uint8Array, file = '<memory>'): Image {
  if (bytes.length === 0) throw new ImagingError(file, 'file is empty');
  const format = sniffFormat(bytes);
  if (!format) {
    throw new ImagingError(file, 'not a recognised image (expected PNG, TIFF, JPEG or DICOM content)');
  }
  try {
    return DECODERS[format](bytes, file);
  } catch (e) {
    if (isImagingError(e)) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ImagingError(file, `${format.toUpperCase()} could not be decoded (${msg})`, { cause: e });
  }
}
