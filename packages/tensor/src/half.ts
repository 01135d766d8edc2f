// Half precision (f16) storage: the bit-exact conversions between f32 and f16 (PyTorch's
// `.half()` / `.float()`: round to nearest, ties to even; overflow to infinity; subnormals kept;
// NaN stays NaN), on the host for uploads and reads and in WGSL for the cast kernels.
//
// An f16 tensor's buffer holds its values packed two per 32-bit word, element 2i in the low
// half (what `array<f16>` reads on a little-endian device), padded to a whole word. The casts
// work on the bits as u32, so no device rounding mode, denormal flushing or fast-math folding
// of infinities can change a value; kernels read f16 operands as `array<f16>` (or `vec4<f16>`),
// which needs the device feature 'shader-f16'.
import { getEngine } from './device.js';
import { TensorError } from './errors.js';

/** Bytes an f16 tensor of `n` elements takes: two per element, rounded up to a whole word. */
export function f16ByteLength(n: number): number {
  return Math.ceil(n / 2) * 4;
}

/** Throws a clear error unless the device can run f16 kernels ('shader-f16'). */
export function requireF16(what: string): void {
  const engine = getEngine();
  checkF16Support(engine.device.features, `${engine.info.vendor} ${engine.info.device}`.trim(), what);
}

/** The check behind requireF16, on a feature set (tests pass one without 'shader-f16'). */
export function checkF16Support(features: ReadonlySet<string>, adapter: string, what: string): void {
  if (features.has('shader-f16')) return;
  throw new TensorError(
    `${what}: f16 tensors need the WebGPU feature 'shader-f16', which this device (${adapter || 'unnamed adapter'}) does not offer; use f32 (on NVIDIA's Vulkan driver Dawn offers it only with the toggle vulkan_enable_f16_on_nvidia, which @spine/tensor/node sets).`,
  );
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The f16 bit pattern nearest to `x` as an f32 (ties to even), like PyTorch's `.half()`. */
export function f16Bits(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // f16 subnormal (or zero): the 24-bit significand shifted right by 14 - e, rounded.
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const h = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (h + (rest > halfway || (rest === halfway && (h & 1) === 1) ? 1 : 0));
  }
  // A carry out of the mantissa rounds into the exponent, and past the largest finite value to
  // infinity (0x7c00), as it should.
  const h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (h + (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? 1 : 0));
}

/** The value of an f16 bit pattern. */
export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** `x` rounded to the nearest f16 value (the host's `.half().float()`). */
export function roundToF16(x: number): number {
  return f16Value(f16Bits(x));
}

/** Values packed as f16 words for an upload (a whole number of 32-bit words). */
export function packF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(f16ByteLength(values.length) / 2);
  for (let i = 0; i < values.length; i++) out[i] = f16Bits(values[i]!);
  return out;
}

/** The first `n` f16 values of a read-back buffer, as f32. */
export function unpackF16(bytes: ArrayBuffer, n: number): Float32Array {
  const bits = new Uint16Array(bytes, 0, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f16Value(bits[i]!);
  return out;
}

/**
 * WGSL: `f16_bits(b)` rounds the f32 with bits `b` to f16 bits (as f16Bits above);
 * `f32_bits_of_f16(h)` widens f16 bits to f32 bits (exact). Integer arithmetic only.
 */
export const F16_BITS_WGSL = `
fn f16_bits(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let exponent = (b >> 23u) & 0xffu;
  let mantissa = b & 0x7fffffu;
  if (exponent == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u | (mantissa >> 13u), mantissa != 0u); }
  let e = i32(exponent) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    let m = mantissa | 0x800000u;
    let shift = u32(14 - e);
    let h = m >> shift;
    let rest = m & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    return sign | (h + select(0u, 1u, rest > halfway || (rest == halfway && (h & 1u) == 1u)));
  }
  let h = (u32(e) << 10u) | (mantissa >> 13u);
  let rest = mantissa & 0x1fffu;
  return sign | (h + select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)));
}
fn f32_bits_of_f16(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let exponent = (h >> 10u) & 0x1fu;
  let mantissa = h & 0x3ffu;
  if (exponent == 0x1fu) { return sign | 0x7f800000u | (mantissa << 13u); }
  if (exponent == 0u) {
    if (mantissa == 0u) { return sign; }
    // Subnormal: shift the leading 1 out of the 10-bit field and lower the exponent to match.
    let s = countLeadingZeros(mantissa) - 21u;
    return sign | ((113u - s) << 23u) | (((mantissa << s) & 0x3ffu) << 13u);
  }
  return sign | ((exponent + 112u) << 23u) | (mantissa << 13u);
}
`;
