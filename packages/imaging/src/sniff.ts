/** Formats @spine/imaging can decode. */
export type ImageFormat = 'png' | 'tiff' | 'jpeg' | 'dicom';

/**
 * Recognises a format from its magic bytes; the file name is never consulted because NHANES
 * exports and user folders mislabel extensions (".img" DICOM, ".tif" that is really JPEG).
 * Returns undefined for anything unknown.
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 4 && b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0x00) return 'tiff';
  if (b.length >= 4 && b[0] === 0x4d && b[1] === 0x4d && b[2] === 0x00 && b[3] === 0x2a) return 'tiff';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  // DICOM Part 10: 128-byte preamble then "DICM".
  if (b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d) {
    return 'dicom';
  }
  return undefined;
}
