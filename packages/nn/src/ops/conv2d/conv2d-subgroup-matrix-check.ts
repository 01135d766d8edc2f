// Autocast convolutions switch themselves onto subgroup matrices at ready(), as f16 products do
// (@spine/tensor's subgroup-matrix check) but on a check of their own, since their kernel is
// another: where the device offers what the products need (the gpu kernel family, the feature,
// an f16 configuration, DeviceOptions.subgroupMatrices not false), has subgroups of one size (the
// kernel finds its subgroups by invocation index), and check convolutions through the kernel's
// variants agree with the tiled f16 kernels: a 3x3 convolution with a bias (forward, data and
// weight gradients) and a BN-ReLU-conv under autocast (its input read through the BN-ReLU, as
// DenseNet's layers run). A driver that does not compile the kernel, or computes something else,
// then costs one check at start-up, not a failed or wrong training step.
import { addReadyCheck, errorSummary, mul, rand, randn, scope, sum, type Tensor } from '@spine/tensor';
import { chooseSubgroupMatrixConfig } from '@spine/tensor/tuning';
import { autocast } from '../../amp/autocast.js';
import { batchNormReluConv2d } from '../bn-relu-conv.js';
import { conv2dAutocast } from './conv2d-autocast.js';
import {
  convSubgroupMatrixTiles,
  setConvSubgroupMatrices,
  suspendConvSubgroupMatrices,
} from './conv2d-subgroup-matrix.js';

/**
 * Largest difference from the tiled kernels, relative to each result's largest magnitude: the
 * same f16 products summed in f32 in another order (about 1e-6), and the BN-ReLU's output rounded
 * to f16 in the kernel's staging instead of by a cast (an f16 step, 1e-3, on a few elements). A
 * kernel that computes something else is off by order one.
 */
export const CONV_CHECK_TOLERANCE = 1e-3;

export interface ConvSubgroupMatrixFacts {
  /** The device offers what f16 products on subgroup matrices need (their check aside). */
  eligible: boolean;
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

/**
 * The decision from the device's facts and `check` (the worst relative difference of the check
 * convolutions, or a thrown error where they do not compile or run).
 */
export async function decideConvSubgroupMatrices(
  facts: ConvSubgroupMatrixFacts,
  check: () => Promise<number>,
): Promise<{ enabled: boolean; detail: string }> {
  if (!facts.eligible) return { enabled: false, detail: 'off, as for f16 products (subgroupMatrixStatus() says why)' };
  if (facts.subgroupMinSize !== facts.subgroupMaxSize)
    return {
      enabled: false,
      detail: `off: subgroups of ${facts.subgroupMinSize}-${facts.subgroupMaxSize} invocations (the kernel needs one size)`,
    };
  try {
    const worst = await check();
    return worst <= CONV_CHECK_TOLERANCE
      ? {
          enabled: true,
          detail: `on: the check convolutions agree with the tiled kernels (worst ${worst.toExponential(1)})`,
        }
      : {
          enabled: false,
          detail: `off: the check convolutions differ from the tiled kernels (worst relative ${worst.toExponential(1)}, tolerance ${CONV_CHECK_TOLERANCE})`,
        };
  } catch (err) {
    return { enabled: false, detail: `off: the check convolutions failed (${errorSummary(err)})` };
  }
}

function leaf(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}

/** The check convolutions' outputs and gradients, on subgroup matrices where they route there. */
async function checkResults(onMatrices: boolean): Promise<ArrayLike<number>[]> {
  suspendConvSubgroupMatrices(!onMatrices);
  try {
    const outs = scope(() => {
      // 40 output channels: a partial 64-column block; 11x13 pixels: partial row blocks.
      const x = leaf(randn([2, 24, 11, 13], { seed: 31 }));
      const w = leaf(mul(randn([40, 24, 3, 3], { seed: 32 }), 0.2));
      const b = leaf(randn([40], { seed: 33 }));
      const y = conv2dAutocast(x, w, b, { padding: 1 });
      if (!y) throw new Error('conv2dAutocast does not apply on this device');
      sum(mul(y, randn(y.shape, { seed: 34 }))).backward();
      const x2 = leaf(randn([2, 24, 9, 10], { seed: 35 }));
      const gamma = leaf(rand([24], { seed: 36 }));
      const beta = leaf(mul(randn([24], { seed: 37 }), 0.2));
      const cw = leaf(mul(randn([32, 24, 3, 3], { seed: 38 }), 0.2));
      const y2 = autocast(() =>
        batchNormReluConv2d(x2, gamma, beta, null, null, { training: true }, cw, { padding: 1 }),
      );
      sum(mul(y2, randn(y2.shape, { seed: 39 }))).backward();
      return [y, x.grad!, w.grad!, b.grad!, y2, x2.grad!, cw.grad!, gamma.grad!];
    });
    try {
      return await Promise.all(outs.map((t) => t.data()));
    } finally {
      for (const t of outs) t.dispose();
    }
  } finally {
    suspendConvSubgroupMatrices(false);
  }
}

/**
 * Worst relative difference of the check convolutions' results, on subgroup matrices (the
 * device's, or the emulation tests switch on) against the tiled kernels.
 */
export async function checkConvolutions(): Promise<number> {
  if (!convSubgroupMatrixTiles(40)) throw new Error("no block of the kernel fits the device's limits");
  const got = await checkResults(true);
  const want = await checkResults(false);
  let worst = 0;
  want.forEach((w, i) => {
    const g = got[i]!;
    let scale = 0;
    let diff = 0;
    for (let j = 0; j < w.length; j++) {
      scale = Math.max(scale, Math.abs(w[j]!));
      diff = Math.max(diff, Math.abs(g[j]! - w[j]!));
    }
    worst = Math.max(worst, Number.isNaN(diff) ? Infinity : diff / Math.max(scale, 1e-30));
  });
  return worst;
}

addReadyCheck(async (engine, options) => {
  const facts: ConvSubgroupMatrixFacts = {
    eligible:
      options.subgroupMatrices !== false &&
      engine.info.kernels === 'gpu' &&
      engine.device.features.has('chromium-experimental-subgroup-matrix' as GPUFeatureName) &&
      chooseSubgroupMatrixConfig(engine.info.subgroupMatrixConfigs, 'f16') !== null,
    subgroupMinSize: engine.info.subgroupMinSize,
    subgroupMaxSize: engine.info.subgroupMaxSize,
  };
  // The check's convolutions route to the device's subgroup matrices while it runs.
  setConvSubgroupMatrices(facts.eligible, 'checking');
  const { enabled, detail } = await decideConvSubgroupMatrices(facts, checkConvolutions);
  setConvSubgroupMatrices(enabled, detail);
});
