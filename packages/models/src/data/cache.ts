import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { checkDimensions, decodeImage, decodeLimit, type DecodeOptions, type Image } from '@spine/imaging';
import { writeFileAtomic } from '@spine/imaging/node';
import { preprocess, preprocessKey, resolveTransform, type TransformConfig } from './transform.js';

/**
 * Cache file layout: 'SPC2', then u32 little-endian width, height, channels, dtype (1 = float32),
 * the source film's width and height, then samples. An entry of another layout ('SPC1', before the
 * source size was recorded) counts as corrupt and is rewritten.
 */
const MAGIC = 0x32435053; // 'SPC2' read as little-endian u32
const HEADER_BYTES = 28;
const DTYPE_F32 = 1;

export interface CacheStats {
  /** Images served from the cache. */
  hits: number;
  /** Images decoded from their source file (a miss, or no cache). */
  decodes: number;
  /** Cache entries that existed but were unreadable and were rewritten. */
  corrupt: number;
}

/**
 * Disk cache of preprocessed images (decoded, grey, resized; before augmentation and
 * normalisation, which change per epoch or per config): `<dir>/<sha256 of the file>-<preprocessKey>.bin`.
 * Keying by content, not path or mtime, means a renamed folder still hits and an edited file
 * never serves stale pixels. Samples stay float32 so a cached image equals a fresh one exactly.
 * The file's hash is remembered per path while its size, mtime and inode are unchanged, so later
 * epochs read neither the film nor its hash input again, only the small cache entry.
 */
export class PreprocessCache {
  readonly stats: CacheStats = { hits: 0, decodes: 0, corrupt: 0 };
  private readonly hashes = new Map<string, { size: number; mtimeMs: number; ino: number; hash: string }>();

  constructor(readonly dir: string) {}

  /**
   * The preprocessed grey image for `path` under `config`, from cache or by decoding with
   * `decodeOptions` (then cached). The options only decide whether a film is accepted, not its
   * pixels, so they are not part of the key; a hit is held to their pixel limit through the source
   * size the entry records, so a film cached under a higher limit is refused as its decode would be.
   */
  async load(path: string, config: TransformConfig, decodeOptions: DecodeOptions = { grey: true }): Promise<Image> {
    const key = preprocessKey(config);
    const stat = await fs.stat(path);
    const known = this.hashes.get(path);
    let bytes: Uint8Array | undefined;
    let hash: string;
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs && known.ino === stat.ino) {
      hash = known.hash;
    } else {
      bytes = await fs.readFile(path);
      hash = createHash('sha256').update(bytes).digest('hex');
      this.hashes.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, hash });
    }
    const entry = join(this.dir, `${hash}-${key}.bin`);
    const cached = await readEntry(entry);
    const r = resolveTransform(config);
    if (cached === 'corrupt') this.stats.corrupt++;
    else if (cached && cached.image.width === r.width && cached.image.height === r.height) {
      checkDimensions(cached.source.width, cached.source.height, path, decodeLimit(decodeOptions));
      this.stats.hits++;
      return cached.image;
    }
    bytes ??= await fs.readFile(path);
    this.stats.decodes++;
    const film = decodeImage(bytes, path, decodeOptions);
    const image = preprocess(film, r);
    await writeFileAtomic(entry, encodeEntry(image, film));
    return image;
  }
}

function encodeEntry(image: Image, source: { width: number; height: number }): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + image.data.byteLength);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, image.width, true);
  v.setUint32(8, image.height, true);
  v.setUint32(12, image.channels, true);
  v.setUint32(16, DTYPE_F32, true);
  v.setUint32(20, source.width, true);
  v.setUint32(24, source.height, true);
  out.set(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), HEADER_BYTES);
  return out;
}

/**
 * The cached image and its source film's size; undefined when absent, or 'corrupt' when present
 * but unusable (then it is rewritten).
 */
async function readEntry(
  path: string,
): Promise<{ image: Image; source: { width: number; height: number } } | undefined | 'corrupt'> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch {
    return undefined;
  }
  if (buf.length < HEADER_BYTES) return 'corrupt';
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const width = v.getUint32(4, true);
  const height = v.getUint32(8, true);
  const channels = v.getUint32(12, true);
  if (v.getUint32(0, true) !== MAGIC || v.getUint32(16, true) !== DTYPE_F32 || channels < 1 || channels > 4)
    return 'corrupt';
  if (buf.length !== HEADER_BYTES + width * height * channels * 4) return 'corrupt';
  // Copy into a fresh, aligned buffer (Buffer's pool offset need not be a multiple of 4).
  const data = new Float32Array(width * height * channels);
  new Uint8Array(data.buffer).set(buf.subarray(HEADER_BYTES));
  if (data.some((x) => !Number.isFinite(x))) return 'corrupt';
  const source = { width: v.getUint32(20, true), height: v.getUint32(24, true) };
  if (source.width === 0 || source.height === 0) return 'corrupt';
  return { image: { width, height, channels: channels as Image['channels'], data, bitDepth: 32 }, source };
}
