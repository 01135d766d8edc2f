/**
 * The entry of @spine/imaging that touches Node APIs (fs, path, zlib; worker threads through
 * worker-pool.ts and worker-script.ts, reached only from here). Everything else works on
 * Uint8Array so a web page can import the package root; Node callers add `@spine/imaging/node`.
 * Importing it makes node:zlib the codecs' zlib (native, several times faster than fflate).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { encodePng, type PngEncodeOptions } from './codecs/png-encode.js';
import { decodeImage } from './decode.js';
import { ImagingError } from './errors.js';
import type { DecodeOptions, Image } from './image.js';
import { setZlibBackend } from './codecs/zlib-backend.js';
import { nodeZlibBackend } from './node-zlib.js';

setZlibBackend(nodeZlibBackend);

export { WorkerPool, type WithoutId, type WorkerPoolOptions } from './worker-pool.js';
export { workerScript } from './worker-script.js';
export { nodeZlibBackend } from './node-zlib.js';

/**
 * Reads and decodes an image file, with ImagingErrors for missing files, directories and empties.
 * Every error names `path` once (in `file` and at the start of the message), never in `reason`.
 */
export async function readImage(path: string, options: DecodeOptions = {}): Promise<Image> {
  let bytes: Uint8Array;
  try {
    const stat = await fs.stat(path);
    if (stat.isDirectory()) throw new ImagingError(path, 'is a directory, expected an image file');
    bytes = await fs.readFile(path);
  } catch (e) {
    if (e instanceof ImagingError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ImagingError(path, reason, { cause: e });
  }
  return decodeImage(bytes, path, options);
}

/** fsync a directory so a rename into it is on disk (a no-op where directories cannot be opened). */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open directories; its renames are durable enough for our purpose.
  } finally {
    await fh?.close();
  }
}

/**
 * Replaces `path` with `bytes` atomically and durably, creating its folder: a temp file in the
 * same folder (same filesystem, so the rename is atomic) is written and fsynced, renamed over
 * the target, and the folder fsynced so the rename itself survives a crash. A reader sees the
 * old file or the new one, never a mix; a failed write leaves no temp file behind.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

/** Encodes as PNG (8- or 16-bit) and writes atomically. */
export async function writePng(path: string, image: Image, options?: PngEncodeOptions): Promise<void> {
  await writeFileAtomic(path, encodePng(image, options));
}
