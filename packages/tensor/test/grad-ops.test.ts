// Finite-difference checks of reductions, matmul (both kernel families), softmax and the
// shape ops, at awkward sizes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { setBlockCopies } from '../src/ops/block-copy.js';
import { refMatmul } from './reference/matmul.js';
import { refReduce, refVariance } from './reference/reduce.js';
import {
  refConcat,
  refExpand,
  refPad,
  refPermute,
  refReshape,
  refSlice,
  refStack,
  refTranspose,
} from './reference/shape-ops.js';
import { refSoftmax } from './reference/softmax.js';
import { gradCheck } from './helpers/gradcheck.js';
import { distinctArr, randomArr, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => T.setKernelFamily(null));

describe('reduction gradients', () => {
  // Distinct values 0.01 apart: max/min are differentiable there (the step is 1e-6).
  const x = distinctArr([4, 5, 6], seedFor('grad-reduce'), 0.01);
  const cases: [number | number[] | undefined, boolean][] = [
    [undefined, false],
    [1, false],
    [[0, 2], true],
    [-1, true],
  ];
  for (const op of ['sum', 'mean', 'max', 'min'] as const) {
    it(op, async () => {
      for (const [axes, keepDims] of cases) {
        await gradCheck({
          label: `${op} ${JSON.stringify(axes)} ${keepDims}`,
          seed: seedFor(op, axes),
          inputs: [x],
          gpu: ([a]) => T[op](a!, axes, keepDims),
          ref: ([a]) => refReduce(op, a!, axes, keepDims),
        });
      }
    });
  }

  it('variance', async () => {
    const v = randomArr([5, 7], seedFor('grad-var'));
    for (const [axes, correction] of [
      [1, 1],
      [[0, 1], 0],
    ] as [number | number[], number][]) {
      await gradCheck({
        label: `variance ${axes}`,
        seed: seedFor('var', axes),
        inputs: [v],
        gpu: ([a]) => T.variance(a!, axes, { correction }),
        ref: ([a]) => refVariance(a!, axes, correction),
      });
    }
  });

  it('max / min share the gradient among ties, like torch.amax', async () => {
    const t = T.tensor([
      [1, 3, 3, 0],
      [2, 2, 2, 1],
    ]);
    t.requiresGrad = true;
    T.sum(T.max(t, 1)).backward();
    const g = Array.from(await t.grad!.data());
    const third = 1 / 3;
    expect(g.map((v) => Math.round(v * 1e6) / 1e6)).toEqual(
      [0, 0.5, 0.5, 0, third, third, third, 0].map((v) => Math.round(v * 1e6) / 1e6),
    );
  });
});

describe('matmul gradients', () => {
  for (const family of ['cpu', 'gpu'] as const) {
    it(`${family} kernels: all transpose combinations and batch broadcasting`, async () => {
      T.setKernelFamily(family);
      const [M, N, K] = [5, 3, 7];
      for (const [ta, tb] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        const seed = seedFor('grad-mm', family, ta, tb);
        const a = randomArr(ta ? [K, M] : [M, K], seed);
        const b = randomArr(tb ? [N, K] : [K, N], seed + 1);
        await gradCheck({
          label: `${family} matmul ${ta} ${tb}`,
          seed,
          inputs: [a, b],
          gpu: ([p, q]) => T.matmul(p!, q!, { transA: ta, transB: tb }),
          ref: ([p, q]) => refMatmul(p!, q!, ta, tb),
        });
      }
      for (const [sa, sb, ta] of [
        [[2, 1, 5, 6], [3, 6, 4], false],
        [[6, 5], [2, 6, 3], true],
      ] as [number[], number[], boolean][]) {
        const seed = seedFor('grad-mm-batch', family, sa);
        const inputs = [randomArr(sa, seed), randomArr(sb, seed + 1)];
        await gradCheck({
          label: `${family} batch [${sa}] [${sb}]`,
          seed,
          inputs,
          gpu: ([p, q]) => T.matmul(p!, q!, { transA: ta }),
          ref: ([p, q]) => refMatmul(p!, q!, ta),
        });
      }
    });
  }
});

describe('softmax gradients', () => {
  it('softmax and logSoftmax along the last and a non-last axis', async () => {
    const x = randomArr([4, 5, 3], seedFor('grad-softmax'));
    for (const axis of [-1, 0, 1]) {
      await gradCheck({
        label: `softmax ${axis}`,
        seed: seedFor('sm', axis),
        inputs: [x],
        gpu: ([a]) => T.softmax(a!, axis),
        ref: ([a]) => refSoftmax(a!, axis),
      });
      await gradCheck({
        label: `logSoftmax ${axis}`,
        seed: seedFor('lsm', axis),
        inputs: [x],
        gpu: ([a]) => T.logSoftmax(a!, axis),
        ref: ([a]) => refSoftmax(a!, axis, true),
      });
    }
  });
});

for (const blockCopies of ['auto', true] as const)
  describe(`shape op gradients (block copies ${blockCopies})`, () => {
    beforeAll(() => setBlockCopies(blockCopies));
    afterAll(() => setBlockCopies('auto'));
    const x = randomArr([3, 4, 5], seedFor('grad-shape'));
    const one = (label: string, gpu: (a: T.Tensor) => T.Tensor, ref: (a: typeof x) => typeof x) =>
      gradCheck({
        label,
        seed: seedFor('grad-shape', label),
        inputs: [x],
        gpu: ([a]) => gpu(a!),
        ref: ([a]) => ref(a!),
      });

    it('reshape, permute, transpose, clone, expand, pad', async () => {
      await one(
        'reshape',
        (a) => T.reshape(a, [6, -1]),
        (a) => refReshape(a, [6, -1]),
      );
      await one(
        'permute',
        (a) => T.permute(a, [2, 0, 1]),
        (a) => refPermute(a, [2, 0, 1]),
      );
      await one(
        'transpose',
        (a) => T.transpose(a, 0, 2),
        (a) => refTranspose(a, 0, 2),
      );
      await one(
        'clone',
        (a) => T.clone(a),
        (a) => a,
      );
      await one(
        'expand',
        (a) => T.expand(T.reshape(a, [3, 1, 4, 5]), [3, 2, 4, 5]),
        (a) => refExpand(refReshape(a, [3, 1, 4, 5]), [3, 2, 4, 5]),
      );
      await one(
        'pad',
        (a) =>
          T.pad(
            a,
            [
              [1, 2],
              [0, 1],
              [2, 0],
            ],
            0.5,
          ),
        (a) =>
          refPad(
            a,
            [
              [1, 2],
              [0, 1],
              [2, 0],
            ],
            0.5,
          ),
      );
    });

    it('slice (steps, negative indices) and narrow', async () => {
      const ranges = [[-2], [0, 4, 3], [-4, -1, 2]] as const;
      await one(
        'slice',
        (a) => T.slice(a, ranges),
        (a) => refSlice(a, ranges),
      );
      await one(
        'narrow',
        (a) => T.narrow(a, 1, 1, 2),
        (a) => refSlice(a, [null, [1, 3]]),
      );
    });

    it('concat and stack send each input its part', async () => {
      const seed = seedFor('grad-concat');
      const parts = [randomArr([2, 3, 5], seed), randomArr([2, 1, 5], seed + 1), randomArr([2, 4, 5], seed + 2)];
      await gradCheck({
        label: 'concat',
        seed,
        inputs: parts,
        gpu: (xs) => T.concat(xs, 1),
        ref: (xs) => refConcat(xs, 1),
      });
      const same = [randomArr([3, 4], seed + 3), randomArr([3, 4], seed + 4)];
      await gradCheck({
        label: 'stack',
        seed,
        inputs: same,
        gpu: (xs) => T.stack(xs, -1),
        ref: (xs) => refStack(xs, -1),
      });
    });
  });
