import { zlibSync } from 'fflate';

/** zlib strategies the PNG writer can ask for; 'huffman-only' skips LZ77 string matching. */
export type DeflateStrategy = 'default' | 'huffman-only';

/**
 * The zlib implementation the codecs use. The default is fflate, which runs everywhere (browsers
 * included); `@spine/imaging/node` installs node:zlib on import, whose native inflate and deflate
 * are several times faster. Only this file and that entry know which is in use.
 */
export interface ZlibBackend {
  /** For messages and tests. */
  readonly name: string;
  /** A complete zlib stream of `raw` at `level` 0-9. Backends without the strategy compress as 'default'. */
  deflate(raw: Uint8Array, level: number, strategy: DeflateStrategy): Uint8Array;
  /**
   * One-shot inflate of a zlib stream (the concatenation of `parts`) that must produce exactly
   * `size` bytes, never allocating more. Returns undefined when it cannot (damaged, short or longer
   * data): the callers then take fflate's streaming path, which words the error precisely and
   * accepts whatever that path accepts. Absent: always stream.
   */
  inflateExact?(parts: readonly Uint8Array[], size: number): Uint8Array | undefined;
}

/** Above this many raw bytes the decoders stream through fflate, so no full-size intermediate exists. */
export const ONE_SHOT_INFLATE_LIMIT = 64 * 1024 * 1024;

export const fflateBackend: ZlibBackend = {
  name: 'fflate',
  deflate: (raw, level) => zlibSync(raw, { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 }),
};

let backend: ZlibBackend = fflateBackend;

/** Replaces the zlib implementation for every codec in this realm; returns the previous one. */
export function setZlibBackend(next: ZlibBackend): ZlibBackend {
  const previous = backend;
  backend = next;
  return previous;
}

export function zlibBackend(): ZlibBackend {
  return backend;
}

/** The backend's one-shot inflate where it has one and the output is modest, else undefined. */
export function inflateExact(parts: readonly Uint8Array[], size: number): Uint8Array | undefined {
  if (!backend.inflateExact || size > ONE_SHOT_INFLATE_LIMIT) return undefined;
  return backend.inflateExact(parts, size);
}
