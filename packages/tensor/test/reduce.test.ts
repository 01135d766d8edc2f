// Reductions over any axes against the float64 reference, on each kernel path: one thread
// per output (many outputs or short rows), one workgroup per output (nOut < 2048 and
// nRed >= 256), and two passes (nOut < 64, nRed > 8192).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { refAbsSum, refReduce, refVariance, type RefReduceOp } from './reference/reduce.js';
import { arr, mapArr, type Arr } from './reference/ndarray.js';
import { download, expectClose, expectEqual, upload } from './helpers/gpu.js';
import { distinctArr, randomArr, randomInts, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

type Axes = number | number[] | undefined;

function run(op: RefReduceOp, x: T.Tensor, axes: Axes, keepDims: boolean): T.Tensor {
  if (op === 'argmax' || op === 'argmin') return T[op](x, axes as number | undefined, keepDims);
  return T[op](x, axes, keepDims);
}

/** Compare one reduction; sums get a tolerance proportional to sum(|x|) of their row. */
async function check(op: RefReduceOp, x: Arr, axes: Axes, keepDims: boolean, label: string): Promise<void> {
  const t = upload(x);
  const y = run(op, t, axes, keepDims);
  const want = refReduce(op, x, axes, keepDims);
  expect(y.dtype, `${label} dtype`).toBe(op.startsWith('arg') ? 'i32' : 'f32');
  const got = await download(y);
  if (op === 'sum' || op === 'mean') {
    const abs = refAbsSum(x, axes, keepDims);
    const n = x.data.length / Math.max(1, want.data.length);
    const scale = mapArr(abs, (v) => (2e-6 * v) / (op === 'mean' ? n : 1));
    expectClose(got, want, { rtol: 0, atol: 1e-7, scale }, label);
  } else {
    expectEqual(got, want, label);
  }
  t.dispose();
  y.dispose();
}

const OPS: RefReduceOp[] = ['sum', 'mean', 'max', 'min', 'argmax', 'argmin'];

describe('reductions over any axes (thread per output)', () => {
  const x = distinctArr([5, 6, 7], seedFor('reduce-567'), 0.37);
  const axesList: Axes[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1], [2, 0, -1]];
  for (const op of OPS) {
    it(op, async () => {
      for (const axes of axesList) {
        // arg ops take one axis (or none: the flattened index).
        if (op.startsWith('arg') && Array.isArray(axes)) continue;
        for (const keepDims of [false, true])
          await check(op, x, axes, keepDims, `${op} axes=${JSON.stringify(axes)} keep=${keepDims}`);
      }
    });
  }

  it('many outputs with short rows, and rank-0 input', async () => {
    const x2 = randomArr([3001, 7], seedFor('reduce-3001'));
    for (const op of OPS) await check(op, x2, 1, false, `${op} [3001,7] axis 1`);
    await check('sum', arr([], [1.5]), undefined, false, 'sum of rank 0');
    await check('mean', arr([], [1.5]), undefined, false, 'mean of rank 0');
  });

  it('variance with corrections 0, 1, 2 and keepDims', async () => {
    const v = randomArr([4, 9, 6], seedFor('variance'), { lo: -3, hi: 5 });
    for (const [axes, correction, keepDims] of [
      [undefined, 1, false],
      [1, 0, false],
      [[0, 2], 2, true],
      [-1, 1, true],
    ] as [Axes, number, boolean][]) {
      const y = T.variance(upload(v), axes, { correction, keepDims });
      expectClose(
        await download(y),
        refVariance(v, axes, correction, keepDims),
        { rtol: 1e-5, atol: 1e-6 },
        `var axes=${JSON.stringify(axes)} c=${correction}`,
      );
    }
  });
});

// The reduction kernel family follows the adapter (workgroup trees on GPUs, chunked single
// invocations on software adapters); both must be right everywhere, so the long cases run
// under each by overriding the engine's choice for the duration of the test.
async function withFamily(family: 'cpu' | 'gpu', fn: () => Promise<void>): Promise<void> {
  T.setKernelFamily(family);
  try {
    await fn();
  } finally {
    T.setKernelFamily(null);
  }
}

describe('long reductions (workgroup trees, chunks and two passes)', () => {
  for (const family of ['cpu', 'gpu'] as const) {
    it(`${family} family: nOut < 2048 with nRed >= 256, contiguous and strided rows`, async () => {
      await withFamily(family, async () => {
        const a = randomArr([40, 300], seedFor('group-a'));
        const b = distinctArr([9, 300, 3], seedFor('group-b'));
        for (const op of OPS) {
          await check(op, a, 1, false, `${family} ${op} [40,300] axis 1`);
          await check(op, b, 1, true, `${family} ${op} [9,300,3] axis 1`);
        }
        await check('sum', b, [0, 1], false, `${family} sum [9,300,3] axes 0,1`);
      });
    });

    it(`${family} family: split reductions over > 8192 elements cover every element once`, async () => {
      await withFamily(family, async () => {
        // Small integers: every partial sum is exact in f32, so any element read twice or
        // skipped changes the result.
        const ints = randomInts([3, 20011], seedFor('two-pass'), -8, 8);
        for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const)
          await check(op, ints, 1, false, `${family} ${op} [3,20011] axis 1`);
        const flat = randomInts([130, 131], seedFor('two-pass-all'), -8, 8);
        await check('sum', flat, undefined, false, `${family} sum of all 17030`);
        await check('max', flat, undefined, false, `${family} max of all 17030`);
        const many = randomInts([100, 2500], seedFor('chunks'), -8, 8);
        await check('sum', many, 1, false, `${family} sum [100,2500] axis 1`);
        await check('min', many, 1, false, `${family} min [100,2500] axis 1`);
        const floats = randomArr([2, 9000], seedFor('two-pass-f'));
        await check('mean', floats, -1, true, `${family} mean [2,9000]`);
      });
    });
  }
});

describe('integer and empty reductions', () => {
  it('i32 sum/max/min keep i32; argmax is i32 and picks the first maximum', async () => {
    const x = randomInts([6, 50], seedFor('i32-reduce'), -3, 3);
    for (const op of ['sum', 'max', 'min'] as const) {
      const y = T[op](upload(x, 'i32'), 1);
      expect(y.dtype).toBe('i32');
      expectEqual(await download(y), refReduce(op, x, 1), `i32 ${op}`);
    }
    for (const op of ['argmax', 'argmin'] as const) {
      const y = T[op](upload(x, 'i32'), 1);
      expect(y.dtype).toBe('i32');
      expectEqual(await download(y), refReduce(op, x, 1), `i32 ${op} (ties: first index)`);
      expectEqual(await download(T[op](upload(x), 0)), refReduce(op, x, 0), `f32 ${op} axis 0 with ties`);
    }
    expect(() => T.mean(upload(x, 'i32'))).toThrow(T.TensorError);
  });

  it('sum over an empty axis is 0; max over one throws; an empty output stays empty', async () => {
    const e = T.zeros([0, 4]);
    expect(Array.from(await T.sum(e, 0).data())).toEqual([0, 0, 0, 0]);
    expect((await T.sum(e, 1).data()).length).toBe(0);
    expect(() => T.max(e, 0)).toThrow(T.TensorError);
    expect(() => T.argmax(e)).toThrow(T.TensorError);
  });

  it('sumTo undoes broadcasting', async () => {
    const g = randomArr([3, 4, 5], seedFor('sumTo'));
    expectClose(
      await download(T.sumTo(upload(g), [4, 1])),
      reshape(refReduce('sum', g, [0, 2]), [4, 1]),
      { atol: 1e-5 },
      'sumTo [4,1]',
    );
    expectClose(await download(T.sumTo(upload(g), [5])), refReduce('sum', g, [0, 1]), { atol: 1e-5 }, 'sumTo [5]');
  });
});

function reshape(a: Arr, shape: number[]): Arr {
  return { shape, data: a.data };
}
