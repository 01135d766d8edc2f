import { formatCount, ImagingError } from '../errors.js';

/** Tags of the first image directory that the TIFF decoder needs. */
const WANTED = new Set([256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 322, 323, 324, 325, 339]);
const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4, 6: 1, 8: 2, 9: 4, 16: 8 };
const MAX_ENTRIES = 4096;
const MAX_VALUES = 1 << 20;

export interface TiffDirectory {
  littleEndian: boolean;
  /** Tag number -> values, in the "tNNN" shape utif2's decodeImage expects. */
  tags: Record<string, number[]>;
}

/**
 * Parses only IFD0 and only the tags listed above, checking every count and offset against the
 * file length. utif2's own directory walker trusts counts (a flipped byte makes it push 4 billion
 * values, which hangs or throws) and also follows EXIF/sub-IFD links we never need.
 */
export function readFirstDirectory(bytes: Uint8Array, file: string): TiffDirectory {
  const corrupt = (why: string): ImagingError => new ImagingError(file, `TIFF is corrupt (${why})`);
  const truncated = (needed: number, what: string): ImagingError =>
    new ImagingError(
      file,
      `TIFF is truncated after ${formatCount(bytes.length)} of at least ${formatCount(needed)} bytes (${what} runs past the end)`,
    );
  if (bytes.length < 8) throw truncated(8, 'the header');
  const le = bytes[0] === 0x49;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number): number => v.getUint16(o, le);
  const u32 = (o: number): number => v.getUint32(o, le);
  const ifd = u32(4);
  if (ifd < 8) throw corrupt(`the image directory offset ${ifd} points into the header`);
  if (ifd + 2 > bytes.length) throw truncated(ifd + 2, 'the image directory');
  const n = u16(ifd);
  if (n === 0 || n > MAX_ENTRIES) throw corrupt(`the image directory claims ${n} entries`);
  if (ifd + 2 + n * 12 > bytes.length) throw truncated(ifd + 2 + n * 12, 'the image directory');
  const tags: Record<string, number[]> = {};
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    const tag = u16(e);
    if (!WANTED.has(tag)) continue;
    const type = u16(e + 2);
    const count = u32(e + 4);
    const size = TYPE_SIZE[type];
    if (size === undefined) throw corrupt(`tag ${tag} has type ${type}`);
    if (count === 0 || count > MAX_VALUES) throw corrupt(`tag ${tag} has ${count} values`);
    const inline = count * size <= 4;
    const at = inline ? e + 8 : u32(e + 8);
    if (at + count * size > bytes.length) throw truncated(at + count * size, `the values of tag ${tag}`);
    const values = new Array<number>(count);
    for (let k = 0; k < count; k++) {
      const o = at + k * size;
      values[k] =
        size === 1 ? v.getUint8(o) : size === 2 ? u16(o) : size === 4 ? u32(o) : Number(v.getBigUint64(o, le));
    }
    tags[`t${tag}`] = values;
  }
  return { littleEndian: le, tags };
}
