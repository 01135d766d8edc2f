// Data-movement ops, softmax and arange against the float64 reference. Copies must be exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { setBlockCopies } from '../src/ops/block-copy.js';
import {
  refArange,
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
import { download, expectClose, expectEqual, upload } from './helpers/gpu.js';
import { randomArr, randomInts, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

const x = randomArr([3, 4, 5, 2], seedFor('shape-x'));

// Block copies (ops/block-copy.ts) take concat, one-axis slices and pads on software adapters
// from 256 elements per block; the cases below are smaller, so they run once as the engine
// chooses (the copy kernel), once with block copies forced wherever the region allows, and once
// with them off, as on GPUs (a concat and its backward then take one dispatch, concat-kernel.ts).
for (const blockCopies of ['auto', true, false] as const)
  describe(`views and copies (block copies ${blockCopies})`, () => {
    beforeAll(() => setBlockCopies(blockCopies));
    afterAll(() => setBlockCopies('auto'));

    it('reshape (with -1), flatten, squeeze, unsqueeze share data', async () => {
      expectEqual(await download(T.reshape(upload(x), [12, -1])), refReshape(x, [12, -1]), 'reshape');
      expect(T.flatten(upload(x), 1, 2).shape).toEqual([3, 20, 2]);
      expect(T.unsqueeze(upload(x), -1).shape).toEqual([3, 4, 5, 2, 1]);
      expect(T.squeeze(T.ones([1, 3, 1, 2])).shape).toEqual([3, 2]);
      expect(T.squeeze(T.ones([1, 3, 1, 2]), 2).shape).toEqual([1, 3, 2]);
      expect(() => T.reshape(upload(x), [7, -1])).toThrow(T.ShapeError);
    });

    it('permute and transpose, f32 and i32', async () => {
      for (const dims of [
        [0, 1, 2, 3],
        [3, 2, 1, 0],
        [1, 3, 0, 2],
        [0, 2, 1, 3],
        [-1, 0, 1, 2],
      ]) {
        expectEqual(await download(T.permute(upload(x), dims)), refPermute(x, dims), `permute ${dims}`);
      }
      expectEqual(await download(T.transpose(upload(x))), refTranspose(x), 'transpose last two');
      expectEqual(await download(T.transpose(upload(x), 0, 2)), refTranspose(x, 0, 2), 'transpose 0,2');
      const xi = randomInts([7, 3, 5], seedFor('perm-i32'), -100, 100);
      const pi = T.permute(upload(xi, 'i32'), [2, 0, 1]);
      expect(pi.dtype).toBe('i32');
      expectEqual(await download(pi), refPermute(xi, [2, 0, 1]), 'permute i32');
      expect(() => T.permute(upload(x), [0, 0, 1, 2])).toThrow(T.ShapeError);
    });

    it('slice with steps, negative indices, clamped bounds and empty results; narrow', async () => {
      const cases: (readonly [number, number?, number?] | null)[][] = [
        [[1, 3]],
        [null, [1, -1], [0, 5, 2]],
        [[-2], null, [-4, -1], [1]],
        [
          [0, 100, 2],
          [3, 0],
        ],
        [
          [-100, 100, 3],
          [1, 4, 2],
          [4, 5],
          [0, 2, 5],
        ],
      ];
      for (const ranges of cases)
        expectEqual(await download(T.slice(upload(x), ranges)), refSlice(x, ranges), `slice ${JSON.stringify(ranges)}`);
      expectEqual(await download(T.narrow(upload(x), 2, 1, 3)), refSlice(x, [null, null, [1, 4]]), 'narrow');
      expect(() => T.slice(upload(x), [[0, 2, 0]])).toThrow(T.ShapeError);
    });

    it('concat along each axis, with a 0-size piece; stack along positive and negative axes', async () => {
      for (const axis of [0, 1, 2, -1]) {
        const parts = [1, 3, 0, 2].map((n, k) => {
          const s = [...x.shape];
          s[axis < 0 ? axis + s.length : axis] = n;
          return randomArr(s, seedFor('concat', axis, k));
        });
        expectEqual(
          await download(
            T.concat(
              parts.map((p) => upload(p)),
              axis,
            ),
          ),
          refConcat(parts, axis),
          `concat axis ${axis}`,
        );
        // Each piece's gradient is its part of the upstream gradient.
        const leaves = parts.map((p) => {
          const t = upload(p);
          t.requiresGrad = true;
          return t;
        });
        const joined = T.concat(leaves, axis);
        const weight = randomArr(joined.shape, seedFor('concat-grad', axis));
        T.sum(T.mul(joined, upload(weight))).backward();
        let at = 0;
        const a = axis < 0 ? axis + x.shape.length : axis;
        for (const [k, leaf] of leaves.entries()) {
          const n = parts[k]!.shape[a]!;
          const ranges = x.shape.map((_, i) => (i === a ? ([at, at + n] as const) : null));
          expectEqual(await download(leaf.grad!), refSlice(weight, ranges), `concat axis ${axis}: grad of piece ${k}`);
          at += n;
        }
      }
      const ints = [2, 5].map((n, k) => randomInts([3, n, 4], seedFor('concat-i32', k), -1000, 1000));
      const ci = T.concat(
        ints.map((p) => upload(p, 'i32')),
        1,
      );
      expect(ci.dtype).toBe('i32');
      expectEqual(await download(ci), refConcat(ints, 1), 'concat i32');
      if (blockCopies === false) {
        // One dispatch for the pieces, forward and backward.
        const pieces = [T.randn([2, 3, 8]), T.randn([2, 5, 8]), T.randn([2, 1, 8])];
        for (const t of pieces) t.requiresGrad = true;
        const p = await T.profileKernels(async () => {
          T.sum(T.concat(pieces, 1)).backward();
          await T.sync();
        });
        expect(p.kernels.find((k) => k.name === 'concat_regions')?.dispatches).toBe(2);
      }
      const items = [0, 1, 2].map((k) => randomArr([4, 3], seedFor('stack', k)));
      for (const axis of [0, 1, 2, -1, -3])
        expectEqual(
          await download(
            T.stack(
              items.map((p) => upload(p)),
              axis,
            ),
          ),
          refStack(items, axis),
          `stack axis ${axis}`,
        );
      expect(() => T.concat([T.ones([2, 3]), T.ones([2, 4])], 0)).toThrow(T.ShapeError);
    });

    it('pad with a value, expand (broadcast) and clone', async () => {
      const pads = [
        [1, 0],
        [0, 2],
        [3, 1],
      ] as const;
      expectEqual(await download(T.pad(upload(x), pads, -1.5)), refPad(x, pads, -1.5), 'pad');
      const y = randomArr([3, 1, 5], seedFor('expand'));
      expectEqual(await download(T.expand(upload(y), [2, 3, 4, 5])), refExpand(y, [2, 3, 4, 5]), 'expand');
      expect(() => T.expand(upload(y), [3, 2, 4])).toThrow(T.ShapeError);
      const t = upload(x);
      const c = T.clone(t);
      expect(c.buffer).not.toBe(t.buffer);
      expectEqual(await download(c), x, 'clone');
    });
  });

describe('softmax / logSoftmax', () => {
  // Rows run as one invocation each on software adapters and as one workgroup each on GPUs;
  // both families must be right everywhere, so each runs here by overriding the engine's choice.
  for (const family of ['cpu', 'gpu'] as const) {
    it(`${family} family: along every axis, stable for large logits`, async () => {
      T.setKernelFamily(family);
      try {
        const logits = randomArr([4, 7, 33], seedFor('softmax'), { lo: -5, hi: 5 });
        // Shift one row by +80: exp would overflow without the max subtraction.
        for (let i = 0; i < 33; i++) logits.data[i] = Math.fround(logits.data[i]! + 80);
        for (const axis of [0, 1, 2, -1]) {
          expectClose(
            await download(T.softmax(upload(logits), axis)),
            refSoftmax(logits, axis),
            { rtol: 1e-5, atol: 1e-7 },
            `${family} softmax axis ${axis}`,
          );
          expectClose(
            await download(T.logSoftmax(upload(logits), axis)),
            refSoftmax(logits, axis, true),
            { rtol: 1e-5, atol: 1e-5 },
            `${family} logSoftmax axis ${axis}`,
          );
        }
        const long = randomArr([3, 1000], seedFor('softmax-long'));
        expectClose(
          await download(T.softmax(upload(long))),
          refSoftmax(long),
          { rtol: 1e-5, atol: 1e-8 },
          `${family} softmax rows of 1000`,
        );
        const short = randomArr([70, 5], seedFor('softmax-short'));
        expectClose(
          await download(T.logSoftmax(upload(short))),
          refSoftmax(short, -1, true),
          { rtol: 1e-5, atol: 1e-5 },
          `${family} logSoftmax rows of 5`,
        );
      } finally {
        T.setKernelFamily(null);
      }
    });
  }
});

describe('creation', () => {
  it('arange in f32 and i32, increasing, decreasing and empty', async () => {
    for (const [start, end, step] of [
      [0, 7, 1],
      [2, 11, 3],
      [5, -1, -1.5],
      [-3.25, 4, 0.5],
      [3, 3, 1],
    ] as const) {
      expectClose(
        await download(T.arange(start, end, step)),
        refArange(start, end, step),
        { rtol: 1e-6, atol: 1e-6 },
        `arange(${start}, ${end}, ${step})`,
      );
    }
    const ai = T.arange(-3, 7, 2, 'i32');
    expect(ai.dtype).toBe('i32');
    expect(Array.from(await ai.data())).toEqual([-3, -1, 1, 3, 5]);
    expect(Array.from(await T.arange(4).data())).toEqual([0, 1, 2, 3]);
    expect(() => T.arange(0, 1, 0)).toThrow(T.TensorError);
  });

  it('tensor from nested arrays and typed arrays; zeros/ones/full(Like)', async () => {
    const t = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(await t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(T.tensor(Int32Array.from([1, 2])).dtype).toBe('i32');
    expect(() => T.tensor([1, 2, 3], [2, 2])).toThrow(T.ShapeError);
    expect(Array.from(await T.full([2, 3], -2.5).data())).toEqual(new Array(6).fill(-2.5));
    expect(Array.from(await T.zerosLike(t).data())).toEqual(new Array(6).fill(0));
    expect(Array.from(await T.onesLike(T.tensor(Int32Array.from([5, 6]))).data())).toEqual([1, 1]);
    expect(Array.from(await T.fullLike(t, 9).data())).toEqual(new Array(6).fill(9));
    expect(() => T.zeros([2, -1])).toThrow(T.ShapeError);
  });
});
