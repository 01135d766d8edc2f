// batchNormReluConv2d and batchNormReluConv1x1 under autocast compute what BatchNorm2d, ReLU and
// Conv2d compute there: against those modules on the same parameters, the output, the gradients
// of x, the BN weight and bias and the conv weight, and the running statistics. On the gpu
// family with subgroup matrices (emulated here: conv2d-subgroup-matrix-kernel.ts) the fused op
// reads x through the BN-ReLU and rounds it to f16 as the kernel stages it, in all three
// directions on that kernel; elsewhere (the cpu family) the ops compose the BN-ReLU with Conv2d's
// autocast convolution. concatBatchNormReluConv1x1Recomputed (its backward recomputes) against
// batchNormReluConv1x1 of the concat, under autocast on both.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { autocast } from '../../src/amp/autocast.js';
import { BatchNorm2d } from '../../src/modules/norm.js';
import { Conv2d } from '../../src/modules/conv.js';
import { batchNormReluConv1x1, batchNormReluConv2d } from '../../src/ops/bn-relu-conv.js';
import { concatBatchNormReluConv1x1Recomputed } from '../../src/ops/recompute-bn-relu-conv.js';
import { setConvSubgroupMatrixEmulation } from '../../src/tuning.js';
import { expectNear } from '../helpers/near.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => {
  setConvSubgroupMatrixEmulation(null);
  T.setKernelFamily(null);
});

const hasF16 = () => T.getEngine().device.features.has('shader-f16');

/** max |a - b| / max |b| below 2e-5: the same f16 roundings of the same f32 values, the sums in other orders. */
async function expectSame(a: T.Tensor, b: T.Tensor, label: string): Promise<void> {
  await expectNear(a, { shape: [...b.shape], data: Float64Array.from(await b.data()) }, 2e-5, label);
}

/** One layer's BN-ReLU-conv under autocast, fused (the op) or as modules; its output and gradients. */
async function layer(fused: boolean, k: 1 | 3, shape: number[], oc: number) {
  const c = shape[1]!;
  const norm = new BatchNorm2d(c);
  const conv = new Conv2d(c, oc, k, { padding: k === 3 ? 1 : 0, bias: false });
  // The same parameters every call: seeded weights, a BN affine away from 1 and 0.
  T.assign(conv.param('weight'), T.mul(T.randn([oc, c, k, k], { seed: 5 }), 0.3));
  T.assign(norm.param('weight'), T.add(T.mul(T.rand([c], { seed: 6 }), 0.5), 0.75));
  T.assign(norm.param('bias'), T.mul(T.randn([c], { seed: 7 }), 0.2));
  const x = T.add(T.mul(T.randn(shape, { seed: 8 }), 2), 0.5).keep();
  x.requiresGrad = true;
  const y = autocast(() =>
    fused
      ? (k === 1 ? batchNormReluConv1x1 : batchNormReluConv2d)(
          x,
          norm.param('weight'),
          norm.param('bias'),
          norm.buffer('running_mean'),
          norm.buffer('running_var'),
          norm.batchNormOptions(),
          conv.param('weight'),
          ...(k === 3 ? [{ padding: 1 }] : []),
        )
      : conv.forward(T.relu(norm.forward(x))),
  );
  const r = T.randn(y.shape, { seed: 9 });
  T.sum(T.mul(y, r)).backward();
  return {
    y,
    dx: x.grad!,
    dGamma: norm.param('weight').grad!,
    dBeta: norm.param('bias').grad!,
    dW: conv.param('weight').grad!,
    mean: norm.buffer('running_mean'),
    var: norm.buffer('running_var'),
  };
}

describe.runIf(hasF16)('BN-ReLU-conv under autocast, against the modules', () => {
  for (const [family, emulated] of [
    ['gpu', true],
    ['cpu', false],
  ] as const) {
    for (const [k, shape, oc] of [
      [3, [2, 12, 9, 7], 10],
      [1, [2, 40, 5, 6], 24],
    ] as const) {
      it(`${family} family${emulated ? ', subgroup matrices (emulated)' : ''}: ${k}x${k}, x [${shape.join(', ')}] -> ${oc}`, async () => {
        T.setKernelFamily(family);
        if (emulated) setConvSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
        let fused: Awaited<ReturnType<typeof layer>> | null = null;
        const profile = await T.profileKernels(async () => {
          fused = await layer(true, k, [...shape], oc);
          await fused.dW.data();
        });
        const sgm = profile.kernels.find((p) => p.name === 'nn_conv2d_subgroup_matrix')?.dispatches ?? 0;
        // Forward, data and weight gradients on the subgroup-matrix kernel where it runs.
        expect(sgm).toBe(emulated ? 3 : 0);
        const modules = await layer(false, k, [...shape], oc);
        for (const key of ['y', 'dx', 'dGamma', 'dBeta', 'dW', 'mean', 'var'] as const)
          await expectSame(fused![key], modules[key], key);
      });
    }
  }
});

describe.runIf(hasF16)('the recomputed bottleneck under autocast', () => {
  for (const [family, emulated] of [
    ['gpu', true],
    ['cpu', false],
  ] as const) {
    it(`${family} family${emulated ? ', subgroup matrices (emulated)' : ''}: equals the plain op on the concat`, async () => {
      T.setKernelFamily(family);
      if (emulated) setConvSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
      const run = async (recomputed: boolean) => {
        const features = [T.randn([2, 6, 5, 7], { seed: 11 }), T.randn([2, 10, 5, 7], { seed: 12 })].map((f) => {
          const t = T.add(T.mul(f, 1.5), 0.25).keep();
          t.requiresGrad = true;
          return t;
        });
        const norm = new BatchNorm2d(16);
        T.assign(norm.param('weight'), T.add(T.mul(T.rand([16], { seed: 13 }), 0.5), 0.75));
        const w = T.mul(T.randn([12, 16, 1, 1], { seed: 14 }), 0.3).keep();
        w.requiresGrad = true;
        const p = {
          normWeight: norm.param('weight'),
          normBias: norm.param('bias'),
          runningMean: norm.buffer('running_mean'),
          runningVar: norm.buffer('running_var'),
          convWeight: w,
        };
        const y = autocast(() =>
          recomputed
            ? concatBatchNormReluConv1x1Recomputed(features, p, norm.batchNormOptions())
            : batchNormReluConv1x1(
                T.concat(features, 1),
                p.normWeight,
                p.normBias,
                p.runningMean,
                p.runningVar,
                norm.batchNormOptions(),
                w,
              ),
        );
        T.sum(T.mul(y, T.randn(y.shape, { seed: 15 }))).backward();
        return { y, d0: features[0]!.grad!, d1: features[1]!.grad!, dW: w.grad!, dGamma: p.normWeight.grad! };
      };
      const [a, b] = [await run(true), await run(false)];
      for (const key of ['y', 'd0', 'd1', 'dW', 'dGamma'] as const) await expectSame(a[key], b[key], key);
    });
  }
});
