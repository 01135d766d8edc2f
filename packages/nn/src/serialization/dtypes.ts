// Element types on disk and their conversion to the arrays we hand out. Shared by the
// safetensors and PyTorch readers, so both formats give the same TensorRecord.
import { SerializationError } from './errors.js';

/** Element types as safetensors names them (PyTorch storages map onto the same names). */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/**
 * What a tensor's values come back as: Float32Array for every floating type (F64 is rounded,
 * F16/BF16 widen exactly), Int32Array for the integer and bool types, and for I64 either an
 * Int32Array (range-checked: a value outside int32 is an error naming the key) or, when asked
 * for, the lossless BigInt64Array.
 */
export type TensorData = Float32Array | Int32Array | BigInt64Array;

/** One tensor as read from a file. `dtype` is what the file stored; `data` is row-major. */
export interface TensorRecord {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** How I64 values are returned: 'int32' (default, range-checked) or 'bigint' (BigInt64Array). */
export type Int64Mode = 'int32' | 'bigint';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

export function isFloatDType(d: DType): boolean {
  return d === 'F64' || d === 'F32' || d === 'F16' || d === 'BF16';
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Number of elements of a shape; throws nothing (shapes are validated by the callers). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** IEEE half-precision bits to a number, subnormals, infinities, NaN and -0 included. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export interface DecodeContext {
  file: string;
  key?: string;
  /** True when the bytes are big-endian (legacy checkpoints record it; torch >= 2 may too). */
  bigEndian?: boolean;
}

/**
 * Decode `count` elements of `dtype` from `bytes` (which must hold exactly count * size bytes)
 * into the widened array type. I64 always comes back as BigInt64Array here; callers narrow it
 * with int64To32 once they know which elements are used.
 */
export function decodeElements(bytes: Uint8Array, dtype: DType, count: number, ctx: DecodeContext): TensorData {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength !== count * size) {
    throw new SerializationError(
      ctx.file,
      `expected ${count * size} bytes of ${dtype}, found ${bytes.byteLength}`,
      ctx.key,
    );
  }
  const le = !ctx.bigEndian;
  // Fast path: same byte order as the host, so one copy into an aligned buffer is the decode.
  if (le === HOST_LITTLE_ENDIAN) {
    if (dtype === 'F32') return new Float32Array(copyBuffer(bytes));
    if (dtype === 'I32') return new Int32Array(copyBuffer(bytes));
    if (dtype === 'I64') return new BigInt64Array(copyBuffer(bytes));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      return fill(new Float32Array(count), (i) => view.getFloat64(i * 8, le));
    case 'F32':
      return fill(new Float32Array(count), (i) => view.getFloat32(i * 4, le));
    case 'F16':
      return fill(new Float32Array(count), (i) => halfToFloat(view.getUint16(i * 2, le)));
    case 'BF16': {
      // bfloat16 is the top half of a float32: widen by shifting the bits into place.
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, le) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(i * 8, le);
      return out;
    }
    case 'I32':
      return fill(new Int32Array(count), (i) => view.getInt32(i * 4, le));
    case 'I16':
      return fill(new Int32Array(count), (i) => view.getInt16(i * 2, le));
    case 'I8':
      return fill(new Int32Array(count), (i) => view.getInt8(i));
    case 'U8':
      return fill(new Int32Array(count), (i) => view.getUint8(i));
    case 'BOOL':
      return fill(new Int32Array(count), (i) => (view.getUint8(i) ? 1 : 0));
  }
}

/** Narrow I64 values to int32, or fail naming the key and the first value that does not fit. */
export function int64To32(data: BigInt64Array, ctx: DecodeContext): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v > 2147483647n || v < -2147483648n) {
      throw new SerializationError(
        ctx.file,
        `int64 value ${v} at index ${i} does not fit in int32; read with { int64: 'bigint' } to keep it`,
        ctx.key,
      );
    }
    out[i] = Number(v);
  }
  return out;
}

/** The dtype an array is written as: Float32Array -> F32, Int32Array -> I32, BigInt64Array -> I64. */
export function dtypeOfArray(data: TensorData): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  return 'I64';
}

/**
 * The little-endian bytes of an array: a view (no copy) on little-endian hosts, which is every
 * host we know of; a byte-swapped copy otherwise.
 */
export function littleEndianBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LITTLE_ENDIAN) return bytes;
  const size = data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  }
  return out;
}

function copyBuffer(bytes: Uint8Array): ArrayBuffer {
  // Uint8Array's slice, not the argument's own: a Node buffer's slice() is a view of its (pooled)
  // memory, whose .buffer would be the whole pool.
  return Uint8Array.prototype.slice.call(bytes).buffer;
}

function fill<A extends Float32Array | Int32Array>(out: A, at: (i: number) => number): A {
  for (let i = 0; i < out.length; i++) out[i] = at(i);
  return out;
}
