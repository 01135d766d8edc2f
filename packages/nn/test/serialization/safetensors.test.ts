// safetensors in memory: the byte layout the spec fixes, round trips, every dtype we read, and
// each kind of corrupt header giving a SerializationError that names the key.
import { describe, expect, test } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  isSerializationError,
  type SerializationError,
} from '../../src/serialization/index.js';

/** Build a file from a header object and raw data bytes (no validation: for corrupt cases). */
function rawFile(header: unknown, data: Uint8Array | number[] = [], pad = true): Uint8Array {
  let json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && json.length % 8) json = new Uint8Array([...json, ...new Array<number>(8 - (json.length % 8)).fill(0x20)]);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('encodeSafetensors', () => {
  test('lays out the spec: u64 length, space-padded JSON, tensors in order, little-endian', () => {
    const w = new Float32Array([1, -2.5, 3, 0.125, 5, 6]);
    const b = new Int32Array([7, -8]);
    const file = encodeSafetensors(
      new Map([
        ['w', { shape: [2, 3], data: w }],
        ['b', { shape: [2], data: b }],
      ]),
      { format: 'pt' },
    );
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const json = new TextDecoder().decode(file.subarray(8, 8 + n));
    expect(json.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"I32","shape":[2],"data_offsets":[24,32]}}',
    );
    expect(json.slice(json.trimEnd().length)).toMatch(/^ *$/);
    expect(file.subarray(8 + n)).toEqual(new Uint8Array([...bytesOf(w), ...bytesOf(b)]));
  });

  test('round-trips F32, I32, I64, scalars, empty tensors, metadata and file order', () => {
    const tensors = new Map<string, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }>([
      ['10', { shape: [3], data: new Float32Array([Infinity, -0, 1e-45]) }],
      ['2', { shape: [], data: new Float32Array([NaN]) }],
      ['layer.weight', { shape: [2, 2], data: new Float32Array([1.5, 2.5, 3.5, 4.5]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
      ['steps', { shape: [], data: new BigInt64Array([2n ** 40n]) }],
      ['labels', { shape: [2, 1], data: new Int32Array([-1, 2147483647]) }],
    ]);
    const meta = { note: 'ünïcode ✓', epoch: '3' };
    const { metadata, tensors: got } = decodeSafetensors(encodeSafetensors(tensors, meta), { int64: 'bigint' });
    expect(metadata).toEqual(meta);
    // Integer-like names keep their place (a JS object would hoist them).
    expect([...got.keys()]).toEqual([...tensors.keys()]);
    for (const [k, t] of tensors) {
      const dtype = t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : 'I64';
      expect(got.get(k)).toEqual({ dtype, shape: t.shape, data: t.data });
    }
  });

  test('accepts a plain object and checks value counts against shapes', () => {
    expect(
      decodeSafetensors(encodeSafetensors({ a: { shape: [1], data: new Float32Array([1]) } })).tensors.get('a')!.data,
    ).toEqual(new Float32Array([1]));
    expect(() => encodeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      "tensor 'a': has 3 values but shape [2, 2] needs 4",
    );
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(
      'not a usable tensor name',
    );
  });
});

describe('decodeSafetensors dtypes', () => {
  test('F64, F16, BF16 widen to Float32Array; I16, I8, U8, BOOL to Int32Array; I64 range-checked', () => {
    const f64 = new Float64Array([1 / 3, -1e300, 2.5]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0xfc00, 0x8000, 0x7e00]);
    const bf16 = new Uint16Array([0x3f80, 0xc049]);
    const i16 = new Int16Array([-32768, 5]);
    const i8 = new Int8Array([-128, 127]);
    const u8 = new Uint8Array([0, 255]);
    const bool = new Uint8Array([1, 0]);
    const i64 = new BigInt64Array([-5n, 2147483647n]);
    const parts: Array<[string, string, number[], ArrayBufferView]> = [
      ['f64', 'F64', [3], f64],
      ['f16', 'F16', [7], f16],
      ['bf16', 'BF16', [2], bf16],
      ['i16', 'I16', [2], i16],
      ['i8', 'I8', [2], i8],
      ['u8', 'U8', [2], u8],
      ['bool', 'BOOL', [2], bool],
      ['i64', 'I64', [2], i64],
    ];
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const [name, dtype, shape, a] of parts) {
      header[name] = { dtype, shape, data_offsets: [at, at + a.byteLength] };
      at += a.byteLength;
    }
    const got = decodeSafetensors(
      rawFile(
        header,
        parts.flatMap(([, , , a]) => [...bytesOf(a)]),
      ),
    ).tensors;
    expect(got.get('f64')!.data).toEqual(Float32Array.from(f64));
    expect(Array.from(got.get('f16')!.data as Float32Array)).toEqual([1, -2, 2 ** -24, 65504, -Infinity, -0, NaN]);
    expect(Array.from(got.get('bf16')!.data as Float32Array)).toEqual([1, Math.fround(-3.140625)]);
    expect(got.get('i16')!.data).toEqual(new Int32Array([-32768, 5]));
    expect(got.get('i8')!.data).toEqual(new Int32Array([-128, 127]));
    expect(got.get('u8')!.data).toEqual(new Int32Array([0, 255]));
    expect(got.get('bool')).toEqual({ dtype: 'BOOL', shape: [2], data: new Int32Array([1, 0]) });
    expect(got.get('i64')).toEqual({ dtype: 'I64', shape: [2], data: new Int32Array([-5, 2147483647]) });
  });

  test('I64 outside int32 is an error naming the key unless read as bigint', () => {
    const file = encodeSafetensors({ big: { shape: [1], data: new BigInt64Array([-(2n ** 31n) - 1n]) } });
    expect(() => decodeSafetensors(file, { file: 'm.safetensors' })).toThrow(
      /^m\.safetensors: tensor 'big': int64 value -2147483649 at index 0 does not fit/,
    );
    expect(decodeSafetensors(file, { int64: 'bigint' }).tensors.get('big')!.data).toEqual(
      new BigInt64Array([-(2n ** 31n) - 1n]),
    );
  });
});

describe('decodeSafetensors rejects corrupt files with a SerializationError', () => {
  const good = encodeSafetensors(
    new Map([
      ['a', { shape: [2], data: new Float32Array([1, 2]) }],
      ['b', { shape: [1], data: new Float32Array([3]) }],
    ]),
  );
  const entry = (dtype: string, shape: number[], off: [number, number]) => ({ dtype, shape, data_offsets: off });
  const cases: Array<[string, Uint8Array, string | undefined, RegExp]> = [
    ['shorter than 8 bytes', new Uint8Array([1, 2, 3]), undefined, /truncated: 3 bytes is shorter than the 8-byte/],
    [
      'header length beyond the file',
      (() => {
        const f = good.slice();
        f[5] = 1;
        return f;
      })(),
      undefined,
      /header length \d+ runs past the end/,
    ],
    ['file cut inside the data', good.subarray(0, good.length - 2), 'b', /run 2 bytes past the end of the file/],
    ['trailing bytes', new Uint8Array([...good, 0, 0, 0, 0]), 'b', /leave 4 unused bytes/],
    ['bad JSON', rawFile('{"a": {"dtype": "F32",'), undefined, /header is not valid UTF-8 JSON/],
    [
      'invalid UTF-8',
      rawFile('{"\xff": 1}'.replace('\xff', '\u00ff')).map((b, i) => (i === 10 ? 0xff : b)),
      undefined,
      /not valid UTF-8 JSON/,
    ],
    ['JSON array', rawFile([]), undefined, /not a JSON object/],
    ['unknown dtype', rawFile({ a: entry('F8_E4M3', [2], [0, 2]) }, [0, 0]), 'a', /unknown dtype "F8_E4M3"/],
    [
      'missing dtype',
      rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      'a',
      /unknown dtype undefined/,
    ],
    [
      'negative shape',
      rawFile({ a: entry('F32', [-1], [0, 4]) }, [0, 0, 0, 0]),
      'a',
      /shape \[-1\] is not a list of non-negative integers/,
    ],
    [
      'reversed offsets',
      rawFile({ a: entry('F32', [1], [4, 0]) }, [0, 0, 0, 0]),
      'a',
      /data_offsets \[4,0\] is not \[begin, end\]/,
    ],
    [
      'wrong byte count',
      rawFile({ a: entry('F32', [2], [0, 4]) }, [0, 0, 0, 0]),
      'a',
      /hold 4 bytes but F32 \[2\] needs 8/,
    ],
    [
      'overlap',
      rawFile({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }, new Array(8).fill(0)),
      'b',
      /overlap the previous tensor/,
    ],
    [
      'gap',
      rawFile({ a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12]) }, new Array(12).fill(0)),
      'b',
      /leave a gap of 4 bytes/,
    ],
    [
      'non-string metadata',
      rawFile({ __metadata__: { epoch: 3 } }),
      undefined,
      /__metadata__ value 'epoch' is not a string/,
    ],
  ];
  for (const [what, bytes, key, message] of cases) {
    test(what, () => {
      let err: unknown;
      try {
        decodeSafetensors(bytes, { file: 'w.safetensors' });
      } catch (e) {
        err = e;
      }
      expect(isSerializationError(err), String(err)).toBe(true);
      const e = err as SerializationError;
      expect([e.file, e.key]).toEqual(['w.safetensors', key]);
      expect(e.message).toMatch(message);
      if (key) expect(e.message).toContain(`tensor '${key}'`);
    });
  }

  test('unpadded headers and zero-size tensors are still read', () => {
    const f = rawFile({ z: entry('F32', [0], [0, 0]), a: entry('I32', [1], [0, 4]) }, [5, 0, 0, 0], false);
    const t = decodeSafetensors(f).tensors;
    expect([...t.keys()]).toEqual(['z', 'a']);
    expect(t.get('a')!.data).toEqual(new Int32Array([5]));
  });
});
