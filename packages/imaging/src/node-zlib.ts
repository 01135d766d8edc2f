import { constants, deflateSync, inflateSync } from 'node:zlib';
import type { ZlibBackend } from './codecs/zlib-backend.js';

/**
 * node:zlib as the codecs' zlib: native inflate and deflate. Reached only from the Node entry, so
 * browser bundles never see node:zlib.
 */
export const nodeZlibBackend: ZlibBackend = {
  name: 'node:zlib',
  deflate: (raw, level, strategy) =>
    deflateSync(raw, {
      level,
      strategy: strategy === 'huffman-only' ? constants.Z_HUFFMAN_ONLY : constants.Z_DEFAULT_STRATEGY,
    }),
  inflateExact(parts, size) {
    const input = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    try {
      // maxOutputLength bounds a bomb at the expected size: longer output throws instead of growing.
      const out = inflateSync(input, { maxOutputLength: Math.max(1, size) });
      return out.length === size ? out : undefined;
    } catch {
      return undefined;
    }
  },
};
