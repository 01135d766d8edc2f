// The losses against PyTorch float64 goldens (fixtures/golden/losses.json) and against float64
// references with finite-difference gradients at other, awkward shapes, on both kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { binaryCrossEntropyWithLogits, diceLoss, l1Loss, mseLoss, nllLoss, smoothL1Loss } from '../../src/index.js';
import type { Reduction } from '../../src/ops/norm-loss.js';
import { arrayOf, expectGolden, loadGolden, toTensor, type GoldenCase } from '../helpers/golden.js';
import { awkwardShape, gradCheck, uniformArr } from '../helpers/grad-check.js';
import type { Arr } from './conv-pool-reference.js';

const cases = loadGolden('losses');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

function run(c: GoldenCase, x: T.Tensor, y: T.Tensor): T.Tensor {
  const reduction = c.reduction as Reduction;
  switch (c.op) {
    case 'mse':
      return mseLoss(x, y, { reduction });
    case 'l1':
      return l1Loss(x, y, { reduction });
    case 'smooth_l1':
      return smoothL1Loss(x, y, { reduction, beta: c.beta as number });
    case 'bce_logits':
      return binaryCrossEntropyWithLogits(x, y, {
        reduction,
        ...(c.posWeight ? { posWeight: toTensor(arrayOf(c, 'posWeight')) } : {}),
        ...(c.weight ? { weight: toTensor(arrayOf(c, 'weight')) } : {}),
      });
    case 'dice':
      return diceLoss(x, y, { reduction, smooth: c.smooth as number });
    default:
      throw new Error(String(c.op));
  }
}

describe('losses against PyTorch (float64 goldens)', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const g = toTensor(arrayOf(c, 'g'));
        if (c.op === 'nll') {
          const z = toTensor(arrayOf(c, 'logits'), true);
          const target = T.tensor(Int32Array.from(c.target as number[]), c.targetShape as number[]);
          const options = {
            reduction: c.reduction as Reduction,
            ...(c.weight ? { weight: toTensor(arrayOf(c, 'weight')) } : {}),
            ...(c.ignoreIndex !== undefined ? { ignoreIndex: c.ignoreIndex as number } : {}),
          };
          const loss = nllLoss(T.logSoftmax(z, 1), target, options);
          loss.backward(g);
          await expectGolden(loss, arrayOf(c, 'loss'), 1e-4, 'loss');
          await expectGolden(z.grad!, arrayOf(c, 'dlogits'), 1e-3, 'dlogits');
          return;
        }
        const x = toTensor(arrayOf(c, 'x'), true);
        const y = toTensor(arrayOf(c, 'y'), true);
        const loss = run(c, x, y);
        loss.backward(g);
        await expectGolden(loss, arrayOf(c, 'loss'), 1e-4, 'loss');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
        await expectGolden(y.grad!, arrayOf(c, 'dy'), 1e-3, 'dy');
      });
    }
  }
});

// float64 references of the per-element losses.
const softplusNeg = (x: number) =>
  Math.max(-x, 0) + Math.log(Math.exp(-Math.max(-x, 0)) + Math.exp(-x - Math.max(-x, 0)));
const reduce = (v: Float64Array, shape: number[], r: Reduction): Arr =>
  r === 'none'
    ? { shape, data: v }
    : { shape: [], data: Float64Array.of(v.reduce((s, a) => s + a, 0) / (r === 'mean' ? v.length : 1)) };
const elementwise = (f: (x: number, y: number) => number, r: Reduction) => (xs: Arr[]) =>
  reduce(
    xs[0]!.data.map((x, i) => f(x, xs[1]!.data[i]!)),
    xs[0]!.shape,
    r,
  );

describe('losses against float64 references at awkward shapes', () => {
  for (const family of FAMILIES) {
    const reductions: Reduction[] = ['mean', 'sum', 'none'];
    reductions.forEach((r, k) => {
      const shape = awkwardShape(31 * k + (family === 'cpu' ? 1 : 2), 3);
      it(`${family}: mse, l1, smooth L1, BCE with logits at [${shape.join(', ')}], ${r}`, async () => {
        T.setKernelFamily(family);
        const x = uniformArr(shape, 5 + k, -3, 3);
        const y = uniformArr(shape, 6 + k, -3, 3);
        const p = uniformArr(shape, 7 + k, 0, 1);
        await gradCheck({
          label: 'mse',
          inputs: [x, y],
          wrt: [0, 1],
          gpu: ([a, b]) => mseLoss(a!, b!, { reduction: r }),
          ref: elementwise((a, b) => (a - b) ** 2, r),
        });
        await gradCheck({
          label: 'l1',
          inputs: [x, y],
          wrt: [0, 1],
          gpu: ([a, b]) => l1Loss(a!, b!, { reduction: r }),
          ref: elementwise((a, b) => Math.abs(a - b), r),
        });
        const beta = 0.7;
        const huber = (a: number, b: number) =>
          Math.abs(a - b) < beta ? (0.5 * (a - b) ** 2) / beta : Math.abs(a - b) - 0.5 * beta;
        await gradCheck({
          label: 'smoothL1',
          inputs: [x, y],
          wrt: [0, 1],
          gpu: ([a, b]) => smoothL1Loss(a!, b!, { reduction: r, beta }),
          ref: elementwise(huber, r),
        });
        const pw = uniformArr([shape.at(-1)!], 8 + k, 0.2, 3);
        const bce = (xs: Arr[]) =>
          reduce(
            xs[0]!.data.map((v, i) => {
              const t = xs[1]!.data[i]!;
              const w = xs[2]!.data[i % xs[2]!.data.length]!;
              return (1 - t) * v + (1 + (w - 1) * t) * softplusNeg(v);
            }),
            shape,
            r,
          );
        await gradCheck({
          label: 'bceWithLogits',
          inputs: [x, p, pw],
          wrt: [0, 1, 2],
          gpu: ([a, b, w]) => binaryCrossEntropyWithLogits(a!, b!, { reduction: r, posWeight: w! }),
          ref: bce,
        });
      });
    });

    it(`${family}: nllLoss after logSoftmax with weights and an ignored class, spatial targets`, async () => {
      T.setKernelFamily(family);
      const [N, C, H, W] = [...awkwardShape(family === 'cpu' ? 11 : 12, 2, 5), ...awkwardShape(13, 2, 6)] as [
        number,
        number,
        number,
        number,
      ];
      const classes = C + 2;
      const z = uniformArr([N, classes, H, W], 21, -3, 3);
      const weight = uniformArr([classes], 22, 0.3, 2);
      const tgt = Int32Array.from(uniformArr([N, H, W], 23, 0, classes).data, Math.floor);
      const ignore = 1;
      for (const r of ['mean', 'sum', 'none'] as Reduction[]) {
        const ref = (xs: Arr[]) => {
          const x = xs[0]!.data;
          const S = H * W;
          const rows = new Float64Array(N * S);
          let wsum = 0;
          for (let n = 0; n < N; n++)
            for (let s = 0; s < S; s++) {
              const t = tgt[n * S + s]!;
              if (t === ignore) continue;
              let m = -Infinity;
              for (let c = 0; c < classes; c++) m = Math.max(m, x[(n * classes + c) * S + s]!);
              let e = 0;
              for (let c = 0; c < classes; c++) e += Math.exp(x[(n * classes + c) * S + s]! - m);
              rows[n * S + s] = -weight.data[t]! * (x[(n * classes + t) * S + s]! - m - Math.log(e));
              wsum += weight.data[t]!;
            }
          if (r === 'none') return { shape: [N, H, W], data: rows };
          const total = rows.reduce((a, b) => a + b, 0);
          return { shape: [], data: Float64Array.of(r === 'sum' ? total : total / wsum) };
        };
        const target = T.tensor(tgt, [N, H, W]);
        const w = T.tensor(Float32Array.from(weight.data));
        await gradCheck({
          label: `nll ${r}`,
          inputs: [z],
          wrt: [0],
          gpu: ([a]) => nllLoss(T.logSoftmax(a!, 1), target, { weight: w, ignoreIndex: ignore, reduction: r }),
          ref,
        });
      }
    });

    it(`${family}: diceLoss`, async () => {
      T.setKernelFamily(family);
      const shape = [...awkwardShape(family === 'cpu' ? 41 : 42, 2, 4), ...awkwardShape(43, 2, 8)];
      const p = uniformArr(shape, 31, 0, 1);
      const t = { shape, data: uniformArr(shape, 32, 0, 1).data.map((v) => (v > 0.5 ? 1 : 0)) };
      const smooth = 0.5;
      const ref = (r: Reduction) => (xs: Arr[]) => {
        const [N, C] = shape as [number, number];
        const S = xs[0]!.data.length / (N * C);
        const out = new Float64Array(N * C);
        for (let i = 0; i < N * C; i++) {
          let inter = 0;
          let card = 0;
          for (let s = 0; s < S; s++) {
            const [a, b] = [xs[0]!.data[i * S + s]!, xs[1]!.data[i * S + s]!];
            inter += a * b;
            card += a + b;
          }
          out[i] = 1 - (2 * inter + smooth) / (card + smooth);
        }
        return reduce(out, [N, C], r);
      };
      for (const r of ['mean', 'none'] as Reduction[])
        await gradCheck({
          label: `dice ${r}`,
          inputs: [p, t],
          wrt: [0, 1],
          gpu: ([a, b]) => diceLoss(a!, b!, { reduction: r, smooth }),
          ref: ref(r),
        });
    });
  }
});

describe('loss arguments', () => {
  it('refuse mismatched shapes, unknown reductions and wrong targets, in words', () => {
    const x = T.zeros([2, 3]);
    expect(() => mseLoss(x, T.zeros([3, 2]))).toThrow(
      /mseLoss: input \[2, 3\] and target \[3, 2\] must have the same shape/,
    );
    expect(() => l1Loss(x, x, { reduction: 'avg' as Reduction })).toThrow(
      /reduction must be 'mean', 'sum' or 'none', got 'avg'/,
    );
    expect(() => smoothL1Loss(x, x, { beta: -1 })).toThrow(/beta must be/);
    expect(() => binaryCrossEntropyWithLogits(x, x, { posWeight: T.ones([2]) })).toThrow(
      /posWeight \[2\] does not broadcast to the input \[2, 3\]/,
    );
    expect(() => nllLoss(x, T.zeros([2]))).toThrow(/target must be i32 \[2\]/);
    expect(() => nllLoss(x, T.tensor(Int32Array.of(0, 1)), { weight: T.ones([2]) })).toThrow(
      /weight must be f32 \[3\]/,
    );
    expect(() => diceLoss(x, x)).toThrow(/diceLoss: input must be \[N, C, ...spatial\]/);
  });

  it('nllLoss refuses a class index out of range as PyTorch does: at the call for host targets, else at the next read', async () => {
    expect(() => nllLoss(T.zeros([2, 3]), T.tensor(Int32Array.of(0, 3)))).toThrow(
      /nllLoss: target 3 at position 1 is outside \[0, 3\) and is not the ignore index -100/,
    );
    expect(() => nllLoss(T.zeros([2, 3]), T.tensor(Int32Array.of(-100, 2)))).not.toThrow();
    // Targets computed on the device: the check waits for the next read (of anything).
    const onDevice = (values: number[]) => T.cast(T.tensor(values), 'i32');
    const loss = nllLoss(T.zeros([3, 4, 2]), T.reshape(onDevice([0, 1, 5, 2, 3, 0]), [3, 2]), { ignoreIndex: 1 });
    await expect(loss.item()).rejects.toThrow(
      /nllLoss: target 5 at position 2 is outside \[0, 4\) and is not the ignore index 1/,
    );
    const fine = nllLoss(T.zeros([2, 4]), onDevice([3, 1]), { ignoreIndex: 1 });
    expect(await fine.item()).toBe(0);
  });
});
