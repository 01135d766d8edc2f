import { Unzlib } from 'fflate';
import { inflateExact } from './zlib-backend.js';

/**
 * Strip decompressors for TIFF. They are written here rather than borrowed from utif2 because
 * utif2's LZW shares its string table across calls and follows corrupt prefix chains forever; a
 * fuzzed file hung the process. Each function writes at most `out.length` bytes, never reads
 * outside `src`, and returns how many bytes it produced (the caller treats short strips as
 * truncation).
 */

/** TIFF 6 LZW: MSB-first codes of 9-12 bits, code width grows one code early ("early change"). */
export function decodeLzw(src: Uint8Array, out: Uint8Array): number {
  const CLEAR = 256;
  const EOI = 257;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const length = new Int32Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    length[i] = 1;
  }
  let next = 258;
  let width = 9;
  let bitPos = 0;
  const totalBits = src.length * 8;
  let written = 0;
  let prev = -1;
  const readCode = (): number => {
    if (bitPos + width > totalBits) return EOI;
    let code = 0;
    for (let k = 0; k < width; k++) {
      const bit = (src[(bitPos + k) >> 3]! >> (7 - ((bitPos + k) & 7))) & 1;
      code = (code << 1) | bit;
    }
    bitPos += width;
    return code;
  };
  // Writes the string for `code` at `written`; returns its first byte.
  const emit = (code: number): number => {
    const len = length[code]!;
    let c = code;
    let first = 0;
    for (let k = len - 1; k >= 0; k--) {
      if (written + k < out.length) out[written + k] = suffix[c]!;
      first = suffix[c]!;
      c = prefix[c]!;
    }
    written += len;
    return first;
  };
  while (written < out.length) {
    const code = readCode();
    if (code === EOI) break;
    if (code === CLEAR) {
      next = 258;
      width = 9;
      prev = -1;
      continue;
    }
    if (prev === -1) {
      if (code > 255) throw new Error(`LZW code ${code} after clear`);
      emit(code);
      prev = code;
      continue;
    }
    if (code > next || next >= 4096) throw new Error(`LZW code ${code} out of sequence`);
    let first: number;
    if (code < next) {
      first = emit(code);
    } else {
      // KwKwK case: the new string is prev + first byte of prev.
      const p = prev;
      let c = p;
      while (prefix[c]! !== -1) c = prefix[c]!;
      first = suffix[c]!;
      prefix[next] = p;
      suffix[next] = first;
      length[next] = length[p]! + 1;
      next++;
      emit(code);
      prev = code;
      if (next + 1 >= 1 << width && width < 12) width++;
      continue;
    }
    prefix[next] = prev;
    suffix[next] = first;
    length[next] = length[prev]! + 1;
    next++;
    if (next + 1 >= 1 << width && width < 12) width++;
    prev = code;
  }
  return Math.min(written, out.length);
}

/** Apple PackBits run-length coding. */
export function decodePackBits(src: Uint8Array, out: Uint8Array): number {
  let i = 0;
  let o = 0;
  while (i < src.length && o < out.length) {
    const n = (src[i++]! << 24) >> 24;
    if (n >= 0) {
      for (let k = 0; k <= n && i < src.length && o < out.length; k++) out[o++] = src[i++]!;
    } else if (n !== -128) {
      if (i >= src.length) break;
      const v = src[i++]!;
      for (let k = 0; k < 1 - n && o < out.length; k++) out[o++] = v;
    }
  }
  return o;
}

/**
 * zlib-wrapped Deflate (compression 8 and the old 32946). A strip that the zlib backend inflates in
 * one shot to exactly its size is copied in; otherwise (fflate, a huge strip, a short or damaged
 * stream) it is inflated a slice at a time straight into `out`: no second strip-sized buffer, and
 * nothing inflated past the strip's end.
 */
export function decodeDeflate(src: Uint8Array, out: Uint8Array): number {
  const whole = inflateExact([src], out.length);
  if (whole) {
    out.set(whole);
    return out.length;
  }
  const SLICE = 1 << 16;
  let n = 0;
  const inflater = new Unzlib((chunk) => {
    const take = Math.min(chunk.length, out.length - n);
    out.set(chunk.subarray(0, take), n);
    n += take;
  });
  for (let at = 0; at < src.length && n < out.length; at += SLICE) inflater.push(src.subarray(at, at + SLICE), false);
  if (n < out.length) {
    // Whatever the inflater still holds once every byte is in; a stream cut short is a short
    // strip, which the caller reports with its byte counts.
    try {
      inflater.push(new Uint8Array(0), true);
    } catch (e) {
      if ((e as Error).message !== 'unexpected EOF') throw e;
    }
  }
  return n;
}

/** Undoes TIFF predictor 2 (horizontal differencing) on little-endian samples, in place. */
export function undoHorizontalPredictor(
  data: Uint8Array,
  width: number,
  height: number,
  samples: number,
  bits: 8 | 16,
): void {
  const rowBytes = width * samples * (bits / 8);
  for (let y = 0; y < height; y++) {
    const r = y * rowBytes;
    if (bits === 8) {
      for (let i = samples; i < width * samples; i++) data[r + i] = (data[r + i]! + data[r + i - samples]!) & 255;
    } else {
      for (let i = samples; i < width * samples; i++) {
        const o = r + 2 * i;
        const p = o - 2 * samples;
        const v = ((data[o]! | (data[o + 1]! << 8)) + (data[p]! | (data[p + 1]! << 8))) & 0xffff;
        data[o] = v & 255;
        data[o + 1] = v >> 8;
      }
    }
  }
}
