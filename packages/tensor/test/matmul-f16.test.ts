// f16 matmul (f16 operands, f32 sums, f32 or f16 results) and the mixed-precision matmul
// (f32 in and out, f16 operands, differentiable) against float64 references, at sizes that
// divide no tile, all transposes and batch broadcasting, on both kernel families.
//
// Tolerances: with the operands rounded to f16 first, the kernels compute exactly the float64
// product of the rounded values up to f32 summation (1e-6·sqrt(K)·Σ|a||b|, as the f32 matmul
// tests). Against the exact product of the unrounded values each term a·b carries at most
// two f16 roundings, 2·2^-11 relative: 2^-10·Σ|a||b| (+1%) bounds the difference.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import * as tuning from '../src/tuning.js';
import { roundToF16 } from '../src/half.js';
import { refMatmul, refMatmulAbs } from './reference/matmul.js';
import { mapArr, type Arr } from './reference/ndarray.js';
import { refRoundF16 } from './reference/half.js';
import { download, expectClose, upload } from './helpers/gpu.js';
import { numericGrad } from './helpers/gradcheck.js';
import { randomArr, seedFor } from './helpers/random.js';

const hasF16 = () => T.getEngine().device.features.has('shader-f16');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));
afterEach(() => {
  T.setKernelFamily(null);
  tuning.setMatmulTextures('auto');
});

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 17],
  [17, 31, 33],
  [5, 3, 130],
  [64, 64, 64],
  [127, 130, 31],
  [67, 261, 20],
  [64, 1, 128],
  // The gpu family splits K here (few rows, one output tile) and sums the partial products.
  [2, 3, 1030],
];
const TRANS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const F16_TERM = 1.01 * 2 ** -10;

const half = (a: Arr): Arr => mapArr(a, refRoundF16);
const f32Sums = (a: Arr, b: Arr, ta: boolean, tb: boolean, K: number) =>
  mapArr(refMatmulAbs(a, b, ta, tb), (v) => 1e-6 * Math.sqrt(K) * v + 1e-7);
const shapesFor = (M: number, N: number, K: number, ta: boolean, tb: boolean): [number[], number[]] => [
  ta ? [K, M] : [M, K],
  tb ? [N, K] : [K, N],
];

describe.runIf(hasF16)('f16 matmul', () => {
  for (const family of ['cpu', 'gpu'] as const) {
    it(`${family} kernels: f16 operands, f32 results, awkward sizes, all transposes`, {
      timeout: 600_000,
    }, async () => {
      T.setKernelFamily(family);
      // The cpu family both ways: every product staged into textures, every product on buffers.
      for (const textures of family === 'cpu' ? [true, false] : ['auto' as const]) {
        tuning.setMatmulTextures(textures);
        const cases = SIZES.flatMap(([M, N, K]) =>
          TRANS.map(([ta, tb]) => {
            const [sa, sb] = shapesFor(M, N, K, ta, tb);
            const a = half(randomArr(sa, seedFor('mm16-a', sa, sb, ta, tb)));
            const b = half(randomArr(sb, seedFor('mm16-b', sa, sb, ta, tb)));
            const got = T.matmul(
              T.tensor(Float32Array.from(a.data), sa, 'f16'),
              T.tensor(Float32Array.from(b.data), sb, 'f16'),
              {
                transA: ta,
                transB: tb,
                out: 'f32',
              },
            );
            return {
              got,
              want: refMatmul(a, b, ta, tb),
              scale: f32Sums(a, b, ta, tb, K),
              label: `${family} (textures ${textures}) [${sa}]${ta ? 'ᵀ' : ''}·[${sb}]${tb ? 'ᵀ' : ''}`,
            };
          }),
        );
        for (const c of cases) {
          expect(c.got.dtype).toBe('f32');
          expectClose(await download(c.got), c.want, { rtol: 0, atol: 1e-6, scale: c.scale }, c.label);
        }
      }
    });

    it(`${family} kernels: f16 results round the f32 sums to nearest even; batch broadcasting`, async () => {
      T.setKernelFamily(family);
      const shapes: [number[], number[]][] = [
        [
          [2, 1, 5, 7],
          [3, 7, 4],
        ],
        [
          [2, 68, 12],
          [12, 70],
        ],
        [
          [1, 3, 9, 8],
          [2, 1, 8, 5],
        ],
      ];
      for (const [sa, sb] of shapes) {
        const a = half(randomArr(sa, seedFor('mm16-batch-a', sa)));
        const b = half(randomArr(sb, seedFor('mm16-batch-b', sb)));
        const got = T.matmul(
          T.tensor(Float32Array.from(a.data), sa, 'f16'),
          T.tensor(Float32Array.from(b.data), sb, 'f16'),
        );
        expect(got.dtype).toBe('f16');
        const exact = refMatmul(a, b);
        // f16 rounding of a sum that f32 summation moved by at most `scale`: within one f16 ulp.
        const sums = f32Sums(a, b, false, false, sa.at(-1)!);
        const scale = { shape: sums.shape, data: sums.data.map((v, i) => v + 2 * Math.abs(exact.data[i]!) * 2 ** -11) };
        expectClose(
          await download(got),
          mapArr(exact, refRoundF16),
          { rtol: 0, atol: 2 ** -24, scale },
          `${family} f16 out [${sa}]·[${sb}]`,
        );
      }
    });

    it(`${family} kernels: the mixed-precision matmul and its gradients against float64`, async () => {
      T.setKernelFamily(family);
      for (const [M, N, K] of [
        [17, 31, 33],
        [5, 3, 130],
        [67, 20, 64],
      ] as [number, number, number][]) {
        for (const [ta, tb] of TRANS) {
          const [sa, sb] = shapesFor(M, N, K, ta, tb);
          const a = randomArr(sa, seedFor('amp-a', sa, sb, ta, tb));
          const b = randomArr(sb, seedFor('amp-b', sa, sb, ta, tb));
          const r = randomArr([M, N], seedFor('amp-r', sa, sb, ta, tb), { lo: -1, hi: 1 });
          const label = `${family} autocast [${sa}]${ta ? 'ᵀ' : ''}·[${sb}]${tb ? 'ᵀ' : ''}`;
          const ta32 = upload(a);
          const tb32 = upload(b);
          ta32.requiresGrad = true;
          tb32.requiresGrad = true;
          const y = T.matmulAutocast(ta32, tb32, { transA: ta, transB: tb });
          expect(y.dtype).toBe('f32');
          T.sum(T.mul(y, upload(r))).backward();
          // Exactly what it computes: products of the rounded values (and of the rounded gradient).
          expectClose(
            await download(y),
            refMatmul(half(a), half(b), ta, tb),
            { rtol: 0, atol: 1e-6, scale: f32Sums(a, b, ta, tb, K) },
            `${label}: y`,
          );
          // Against the exact product and the exact derivative (central differences of the
          // float64 forward): the f16 bound.
          const exact = (xs: Arr[]) => refMatmul(xs[0]!, xs[1]!, ta, tb);
          const f16Bound = (x: Arr, y2: Arr, tx: boolean, ty: boolean) =>
            mapArr(refMatmulAbs(x, y2, tx, ty), (v) => F16_TERM * v + 1e-6 * Math.sqrt(K) * v);
          expectClose(
            await download(y),
            exact([a, b]),
            { rtol: 0, atol: 1e-6, scale: f16Bound(a, b, ta, tb) },
            `${label}: y exact`,
          );
          const da = numericGrad(exact, [a, b], r, 0, 1e-3);
          const db = numericGrad(exact, [a, b], r, 1, 1e-3);
          // da = r·op(B)ᵀ laid out as A; db likewise: their |.| bounds from |r| and |A|, |B|.
          const daBound = ta ? f16Bound(b, r, tb, true) : f16Bound(r, b, false, !tb);
          const dbBound = tb ? f16Bound(r, a, true, ta) : f16Bound(a, r, !ta, false);
          expectClose(await download(ta32.grad!), da, { rtol: 0, atol: 1e-6, scale: daBound }, `${label}: dA`);
          expectClose(await download(tb32.grad!), db, { rtol: 0, atol: 1e-6, scale: dbBound }, `${label}: dB`);
          // ... and exactly the f32-summed product of the rounded gradient with the saved f16 operand.
          const r16 = half(r);
          const daRounded = ta ? refMatmul(half(b), r16, tb, true) : refMatmul(r16, half(b), false, !tb);
          const daSums = ta ? f32Sums(b, r, tb, true, N) : f32Sums(r, b, false, !tb, N);
          expectClose(
            await download(ta32.grad!),
            daRounded,
            { rtol: 0, atol: 1e-6, scale: daSums },
            `${label}: dA of the rounded values`,
          );
        }
      }
    });
  }

  it('rejects mixed operand dtypes and an f16 result of f32 operands', () => {
    const h = T.zeros([2, 2], 'f16');
    const f = T.zeros([2, 2]);
    expect(() => T.matmul(h, f)).toThrow(/both f32 or both f16, got f16 and f32/);
    expect(() => T.matmul(f, f, { out: 'f16' })).toThrow(/an f16 result needs f16 operands/);
    expect(roundToF16(1 + 2 ** -11)).toBe(1);
  });
});
