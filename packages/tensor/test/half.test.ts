// f16 tensors: the f32 <-> f16 conversions against a float64 round-to-nearest-even reference
// (host and device, every f16 value and random f32 bit patterns with ties, subnormals,
// overflow), f16 storage of odd sizes, copies, and the errors without 'shader-f16'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { checkF16Support, f16Bits, f16Value, roundToF16 } from '../src/half.js';
import { withF16Toggle } from '../src/node.js';
import { refRoundF16 } from './reference/half.js';
import { rng, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

const hasF16 = () => T.getEngine().device.features.has('shader-f16');

/** Random f32 values from random bit patterns (every binade equally likely), plus f16 ties. */
function awkwardF32(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const sign = r() < 0.5 ? 0x80000000 : 0;
    // Exponents from below the f16 subnormals to past the f16 maximum.
    const exponent = 127 - 27 + Math.floor(r() * 46);
    let mantissa = Math.floor(r() * 0x800000);
    // A quarter are exact ties between two f16 neighbours (the 13 dropped bits are 1000...0).
    if (i % 4 === 0) mantissa = (mantissa & ~0x1fff) | 0x1000;
    bits[i] = (sign | (exponent << 23) | mantissa) >>> 0;
  }
  const values = new Float32Array(bits.buffer);
  values.set([
    0,
    -0,
    65504,
    65519.996,
    65520,
    -65520,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    2 ** -14,
    Infinity,
    -Infinity,
    NaN,
  ]);
  return values;
}

const same = (a: number, b: number) => (Number.isNaN(a) ? Number.isNaN(b) : Object.is(a, b));

function expectAllSame(actual: ArrayLike<number>, expected: ArrayLike<number>, inputs: ArrayLike<number>): void {
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++)
    if (!same(actual[i]!, expected[i]!) && bad.length < 5)
      bad.push(`${inputs[i]} -> ${actual[i]}, expected ${expected[i]}`);
  expect(bad).toEqual([]);
}

describe('f16 conversions on the host', () => {
  it('round to nearest even like the float64 reference', () => {
    const x = awkwardF32(50000, seedFor('host f16'));
    const got = Array.from(x, roundToF16);
    expectAllSame(got, Array.from(x, refRoundF16), x);
  });

  it('f16Value inverts f16Bits on every f16 pattern but NaNs', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
        expect(Number.isNaN(f16Value(h))).toBe(true);
        continue;
      }
      if (f16Bits(f16Value(h)) !== h) expect.fail(`pattern ${h.toString(16)}`);
    }
  });
});

describe.runIf(hasF16)('f16 tensors on the device', () => {
  it('cast(x, "f16") rounds f32 to nearest even like the reference, odd length', async () => {
    const x = awkwardF32(40001, seedFor('device f16'));
    const h = T.cast(T.tensor(x), 'f16');
    expect(h.dtype).toBe('f16');
    expectAllSame(await h.data(), Array.from(x, refRoundF16), x);
  });

  it('roundToHalfValues gives what the two casts give, bit for bit, as f32', async () => {
    const x = awkwardF32(4001, seedFor('round f16 values'));
    const t = T.roundToHalfValues(T.tensor(x));
    expect(t.dtype).toBe('f32');
    expectAllSame(await t.data(), Array.from(x, refRoundF16), x);
  });

  it('every f16 value widens exactly and narrows back to itself', async () => {
    const values = Float32Array.from({ length: 0x10000 }, (_, h) => f16Value(h));
    const h = T.tensor(values, [0x10000], 'f16');
    const wide = T.cast(h, 'f32');
    expect(wide.dtype).toBe('f32');
    expectAllSame(await wide.data(), values, values);
    expectAllSame(await T.cast(wide, 'f16').data(), values, values);
  });

  it('i32 and f16 convert through f32 (round to even one way, toward zero the other)', async () => {
    const ints = Int32Array.from([0, 1, -7, 2049, 2051, 65519, 70000, -70000]);
    const h = T.cast(T.tensor(ints), 'f16');
    expect(Array.from(await h.data())).toEqual([0, 1, -7, 2048, 2052, 65504, Infinity, -Infinity]);
    const back = T.cast(T.tensor([2.75, -2.75, 1000.5], [3], 'f16'), 'i32');
    expect(Array.from(await back.data())).toEqual([2, -2, 1000]);
  });

  it('f16 tensors of odd sizes fill, copy and transpose exactly', async () => {
    const full = T.full([3, 5], 0.1, 'f16');
    expect(Array.from(await full.data())).toEqual(new Array(15).fill(roundToF16(0.1)));
    const v = Float32Array.from({ length: 15 }, (_, i) => (i - 7) * 0.3);
    const t = T.tensor(v, [3, 5], 'f16');
    const tt = T.transpose(t, 0, 1);
    expect(tt.dtype).toBe('f16');
    const want: number[] = [];
    for (let c = 0; c < 5; c++) for (let r = 0; r < 3; r++) want.push(roundToF16(v[r * 5 + c]!));
    expect(Array.from(await tt.data())).toEqual(want);
    expect(t.toString()).toMatch(/^Tensor\(f16, \[3, 5\]/);
    // PyTorch: tensor([0.1000, 2.0000], dtype=torch.float16).
    expect(await T.tensor([0.1, 2], [2], 'f16').format()).toBe('tensor([0.1000, 2.0000], dtype=f16)');
    expect(await T.zeros([0], 'f16').format()).toBe('tensor([], dtype=f16)');
  });

  it('f16 tensors concatenate, assign and take host values exactly at odd offsets', async () => {
    const a = T.tensor([1, 2, 3], [3], 'f16');
    const b = T.tensor(
      Float32Array.from({ length: 4097 }, (_, i) => i / 3),
      [4097],
      'f16',
    );
    const c = T.concat([a, b], 0);
    const want = [1, 2, 3, ...Array.from({ length: 4097 }, (_, i) => roundToF16(i / 3))];
    expect(Array.from(await c.data())).toEqual(want);
    const d = T.zeros([4100], 'f16');
    T.assign(d, c);
    expect(Array.from(await d.data())).toEqual(want);
    T.writeData(a, Float32Array.from([0.1, 65520, -(2 ** -25)]));
    expect(Array.from(await a.data())).toEqual([roundToF16(0.1), Infinity, -0]);
  });

  it('elementwise ops on f16 compute in f32 and round once to nearest even, as PyTorch computes halves', async () => {
    const r = rng(seedFor('f16 elementwise'));
    // Odd length (scalar stores) and a multiple of 4 (vec4 stores); values over several binades.
    for (const n of [1001, 1024]) {
      const a = Float32Array.from({ length: n }, () => roundToF16((r() - 0.5) * 2 ** Math.floor(r() * 20 - 8)));
      const b = Float32Array.from({ length: n }, () => roundToF16((r() - 0.5) * 2 ** Math.floor(r() * 20 - 8)));
      const ta = T.tensor(a, [n], 'f16');
      const tb = T.tensor(b, [n], 'f16');
      const f32 = (x: number) => Math.fround(x);
      // add and mul: WGSL rounds f32 sums and products correctly, so the f16 result is exact.
      const cases: [string, T.Tensor, (i: number) => number][] = [
        ['add', T.add(ta, tb), (i) => refRoundF16(f32(a[i]! + b[i]!))],
        ['mul', T.mul(ta, tb), (i) => refRoundF16(f32(a[i]! * b[i]!))],
        // A Python-float scalar is not rounded to f16 first: 0.1 enters the sum as f32.
        ['add 0.1', T.add(ta, 0.1), (i) => refRoundF16(f32(a[i]! + f32(0.1)))],
        ['relu', T.relu(ta), (i) => Math.max(a[i]!, 0)],
      ];
      for (const [label, t, want] of cases) {
        expect(t.dtype, label).toBe('f16');
        const got = await t.data();
        const bad: string[] = [];
        for (let i = 0; i < n; i++)
          if (!same(got[i]!, want(i)) && !(got[i] === 0 && want(i) === 0) && bad.length < 3)
            bad.push(`${a[i]}, ${b[i]}: ${got[i]} vs ${want(i)}`);
        expect(bad, `${label} (${n})`).toEqual([]);
      }
    }
  });

  it('f16 tensors cannot require gradients or be reduced', () => {
    const t = T.zeros([2], 'f16');
    expect(() => T.sum(t)).toThrow(/sum: f16 tensors are not reduced; cast\(x, 'f32'\) first/);
    expect(() => {
      t.requiresGrad = true;
    }).toThrow(/only f32 tensors can require gradients/);
  });
});

describe('f16 without shader-f16', () => {
  it('says which feature is missing, naming the adapter', () => {
    expect(() => checkF16Support(new Set(['subgroups']), 'llvmpipe (LLVM 19)', 'tensor')).toThrow(
      /tensor: f16 tensors need the WebGPU feature 'shader-f16', which this device \(llvmpipe \(LLVM 19\)\) does not offer/,
    );
    expect(() => checkF16Support(new Set(['shader-f16']), 'x', 'tensor')).not.toThrow();
  });

  it("the NVIDIA f16 toggle joins the caller's enable-dawn-features flag", () => {
    expect(withF16Toggle([])).toEqual(['enable-dawn-features=vulkan_enable_f16_on_nvidia']);
    expect(withF16Toggle(['backend=vulkan', 'enable-dawn-features=allow_unsafe_apis'])).toEqual([
      'backend=vulkan',
      'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia',
    ]);
    expect(withF16Toggle(['enable-dawn-features=vulkan_enable_f16_on_nvidia'])).toEqual([
      'enable-dawn-features=vulkan_enable_f16_on_nvidia',
    ]);
  });
});
