import { formatCount, ImagingError } from '../errors.js';
import { crc32 } from './crc32.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export interface PngChunk {
  type: string;
  /** Byte offset of the chunk (its length field) in the file, for messages. */
  at: number;
  data: Uint8Array;
}

/**
 * The chunks of a PNG in file order, each checked before it is handed out: a type of four
 * letters, a length that fits the file (else the file is truncated, and the message says how long
 * it should have been), and its CRC. Ends quietly when the bytes end exactly between chunks; the
 * caller decides whether what it got by then was enough.
 */
export function* pngChunks(bytes: Uint8Array, file: string): Generator<PngChunk> {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b))
    throw new ImagingError(file, 'not a PNG (signature missing)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = bytes.length;
  let at = 8;
  while (at < total) {
    if (at + 8 > total) {
      throw new ImagingError(
        file,
        `PNG is truncated after ${formatCount(total)} of at least ${formatCount(at + 12)} bytes (a chunk header is cut off)`,
      );
    }
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (!/^[A-Za-z]{4}$/.test(type))
      throw new ImagingError(file, `PNG is corrupt (no valid chunk at byte ${formatCount(at)})`);
    if (length > 0x7fffffff)
      throw new ImagingError(
        file,
        `PNG is corrupt (the ${type} chunk at byte ${formatCount(at)} claims ${formatCount(length)} bytes)`,
      );
    const end = at + 12 + length;
    if (end > total) {
      // A well-formed file still needs its IEND chunk (12 bytes) after this one.
      const expected = end + (type === 'IEND' ? 0 : 12);
      throw new ImagingError(
        file,
        `PNG is truncated after ${formatCount(total)} of at least ${formatCount(expected)} bytes (the ${type} chunk at byte ${formatCount(at)} is cut off)`,
      );
    }
    const body = bytes.subarray(at + 8, end - 4);
    if (crc32(bytes.subarray(at + 4, end - 4)) !== view.getUint32(end - 4)) {
      throw new ImagingError(file, `PNG is corrupt (the ${type} chunk at byte ${formatCount(at)} fails its CRC check)`);
    }
    yield { type, at, data: body };
    at = end;
  }
}
