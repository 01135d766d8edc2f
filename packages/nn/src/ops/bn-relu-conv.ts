// conv2d(relu(batchNorm2d(x)), w): DenseNet's norm2 -> relu2 -> conv2 (and any BN-ReLU before a
// bias-free 3x3 stride-1 conv). Where the conv runs by Winograd (software adapters), the BN-ReLU
// is applied inside Winograd's input transform as it reads x: its output, the width of the
// layer's bottleneck, is never written, read back or kept for backward. Only the BN statistics
// are computed first. Backward: the conv's data gradient (Winograd), its weight gradient from x
// through the same fused transform, then the BN-ReLU backward with the saved statistics. On the
// gpu family the tiled implicit-GEMM kernels read x through the BN-ReLU the same way (forward and
// weight gradient). Elsewhere (1x1 convolutions here, the cpu family's other convolutions) it is
// the plain composition of the two ops.
//
// batchNormReluConv1x1 does the same for a 1x1 convolution (DenseNet's norm1 -> relu1 -> conv1
// and each transition's norm -> relu -> conv): the BN-ReLU is applied as the matmul reads x (its
// BAffine: the texture route's staging, the gpu family's B tiles), in the forward and again for
// the weight gradient, so its output is never written either.
//
// Under autocast both compute what BatchNorm2d, ReLU and Conv2d compute there (the conv's input,
// weight and incoming gradient rounded to f16, f32 sums). Where convolutions run on subgroup
// matrices, fused: those kernels read x through the BN-ReLU and round it as they stage it
// (forward and weight gradient), for 1x1 and larger kernels alike; elsewhere the BN-ReLU, then
// the convolution as Conv2d runs it under autocast.
import {
  defineOp,
  getEngine,
  matmulRaw,
  matmulSharedWeightGrads,
  OpContext,
  reshape,
  scope,
  ShapeError,
  stagesBAffine,
  cast,
  type PendingGradients,
  type Tensor,
} from '@spine/tensor';
import { batchNormBackward, batchNormRelu, batchNormStatsForward, type BatchNormOptions } from './batchnorm.js';
import { isAutocastEnabled } from '../amp/autocast.js';
import { autocastConv2d } from './conv2d/conv2d-autocast.js';
import { convSubgroupMatrixTiles } from './conv2d/conv2d-subgroup-matrix.js';
import {
  conv2d,
  convDgrad,
  convForward,
  convGeometry,
  convWgrad,
  isPointwise,
  winogradApplies,
  type Conv2dOptions,
  type ConvGeometry,
} from './conv2d/conv2d.js';
import {
  winogradConvKeep,
  winogradGrads,
  winogradTile,
  winogradWgrad,
  type WinogradShape,
} from './conv2d/conv2d-winograd.js';

const bnReluBackward = batchNormBackward(true);
/** The fields batchNormStatsForward leaves on its context for the backward. */
const BN_FIELDS = ['layout', 'useBatch', 'needDx'] as const;

const shapeOf = (g: ConvGeometry): WinogradShape => ({ ph: g.ph, pw: g.pw, oh: g.oh, ow: g.ow });

const fusedOp = defineOp({
  name: 'batchNormReluConv2d',
  forward: (
    ctx: OpContext,
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    rm: Tensor | null,
    rv: Tensor | null,
    w: Tensor,
    bn: BatchNormOptions,
    g: ConvGeometry,
    keepV: boolean,
  ) => {
    // Statistics only (and the running-stat update); x and the stats are saved on ctx itself so
    // the graph node frees them with everything else it saved.
    const stats = batchNormStatsForward('batchNormReluConv2d', ctx, x, weight, bias, rm, rv, bn);
    const keep = keepV && w.requiresGrad && ctx.recording;
    const { y, v } = scope(() => winogradConvKeep(x, w, false, null, shapeOf(g), stats, keep));
    stats.dispose();
    ctx.save(w);
    if (v) {
      ctx.save(v);
      v.dispose();
    }
    Object.assign(ctx, { geometry: g, hasRunning: rm !== null, needW: w.requiresGrad, keptV: v !== null });
    return y;
  },
  backward: (ctx, gy, pending) => {
    const [x, stats, w, v] = ctx.saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const g = ctx.geometry as ConvGeometry;
    return scope(() => {
      // da: the gradient at relu(BN(x)), by Winograd too.
      const keptV = ctx.keptV ? v! : null;
      if (ctx.needW && g.ph === 1 && g.pw === 1) {
        const { da, dw } = winogradGrads(x, gy, w, shapeOf(g), stats, keptV);
        return bnReluGrads(ctx, x, stats, da, dw, pending);
      }
      const da = convDgrad(gy, w, g);
      const dw = ctx.needW ? winogradWgrad(x, gy, shapeOf(g), winogradTile(g.oh, g.ow), stats, keptV) : null;
      return bnReluGrads(ctx, x, stats, da, dw, pending);
    });
  },
});

/**
 * The gpu family's batchNormReluConv2d: the tiled implicit-GEMM kernels read x through the BN-ReLU
 * (ConvTiledOptions.bnRelu) in the forward and in the weight gradient, so its output is neither
 * stored nor kept; the data gradient does not read x at all. `half` (under autocast, on subgroup
 * matrices, stride 1): conv(f16(relu(BN(x))), f16(w)) with f32 sums, the subgroup-matrix kernels
 * rounding x as they stage it; the weights' f16 copy is kept, and the incoming gradient is
 * rounded to f16 (the gradient of an f16 result).
 */
const tiledFusedOp = defineOp({
  name: 'batchNormReluConv2d',
  forward: (
    ctx: OpContext,
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    rm: Tensor | null,
    rv: Tensor | null,
    w: Tensor,
    bn: BatchNormOptions,
    g: ConvGeometry,
    half: boolean,
  ) => {
    const stats = batchNormStatsForward('batchNormReluConv2d', ctx, x, weight, bias, rm, rv, bn);
    const wk = half ? cast(w, 'f16') : w;
    const y = convForward(x, wk, null, g, stats);
    stats.dispose();
    ctx.save(wk);
    if (half) wk.dispose();
    Object.assign(ctx, { geometry: g, hasRunning: rm !== null, needW: w.requiresGrad, half });
    return y;
  },
  backward: (ctx, gy, pending) => {
    const [x, stats, w] = ctx.saved as [Tensor, Tensor, Tensor];
    const g = ctx.geometry as ConvGeometry;
    return scope(() => {
      const { da, dw } = tiledBnReluConvGrads(gy, x, stats, w, g, ctx.needW as boolean, ctx.half as boolean);
      return bnReluGrads(ctx, x, stats, da, dw, pending);
    });
  },
});

/** Whether tiledFusedOp's `half` serves this convolution: stride 1, on subgroup matrices in all three directions. */
export function fusesUnderAutocast(g: ConvGeometry): boolean {
  const engine = getEngine();
  if (engine.info.kernels !== 'gpu' || !engine.device.features.has('shader-f16')) return false;
  return g.sh === 1 && g.sw === 1 && convSubgroupMatrixTiles(g.oc) !== null && convSubgroupMatrixTiles(g.c) !== null;
}

/** Under autocast: fused on subgroup matrices, else the BN-ReLU and then Conv2d's autocast convolution. */
function autocastBnReluConv(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  bn: BatchNormOptions,
  convWeight: Tensor,
  g: ConvGeometry,
  convOptions: Conv2dOptions,
): Tensor {
  if (fusesUnderAutocast(g)) return tiledFusedOp(x, weight, bias, runningMean, runningVar, convWeight, bn, g, true);
  return scope(() =>
    autocastConv2d(batchNormRelu(x, weight, bias, runningMean, runningVar, bn), convWeight, null, convOptions),
  );
}

/**
 * The gradients of a conv of relu(BN(x)) (weight w) on the gpu family's conv kernels, which read
 * x through the BN-ReLU of `stats`: da at relu(BN(x)) and, with needW, dW. `half`: autocast's,
 * on subgroup matrices (the f16 incoming gradient, the weights as f16; the kernels round
 * relu(BN(x)) as they stage it).
 */
export function tiledBnReluConvGrads(
  gy: Tensor,
  x: Tensor,
  stats: Tensor,
  w: Tensor,
  g: ConvGeometry,
  needW: boolean,
  half: boolean,
): { da: Tensor; dw: Tensor | null } {
  return scope(() => {
    const gk = half ? cast(gy, 'f16') : gy;
    const wk = half && w.dtype !== 'f16' ? cast(w, 'f16') : w;
    return { da: convDgrad(gk, wk, g), dw: needW ? convWgrad(x, gk, g, stats) : null };
  });
}

/** A context shaped as the BN forward leaves it, from the fused op's. */
function bnContext(ctx: OpContext, x: Tensor, stats: Tensor): OpContext {
  const bnCtx = new OpContext(false);
  bnCtx.saved.push(x, stats);
  for (const k of BN_FIELDS) bnCtx[k] = ctx[k];
  return bnCtx;
}

/** The fused op's gradient slots from the BN-ReLU's gradients and the conv weight's. */
function slots(ctx: OpContext, bnGrads: (Tensor | null)[], dw: Tensor | null): (Tensor | null)[] {
  const [dx, dWeight, dBias] = bnGrads;
  // One slot per Tensor argument: the running stats have (null) slots only when given.
  return [dx, dWeight, dBias, ...(ctx.hasRunning ? [null, null] : []), dw];
}

/**
 * The BN-ReLU backward from the forward's statistics, then the op's gradient slots. A gradient
 * waiting for x (a DenseNet feature map's, from the next concat) is added as dx is stored.
 */
function bnReluGrads(
  ctx: OpContext,
  x: Tensor,
  stats: Tensor,
  da: Tensor,
  dw: Tensor | null,
  pending: PendingGradients,
): (Tensor | null)[] {
  return slots(ctx, bnReluBackward(bnContext(ctx, x, stats), da, pending), dw);
}

const fused1x1Op = defineOp({
  name: 'batchNormReluConv1x1',
  forward: (
    ctx: OpContext,
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    rm: Tensor | null,
    rv: Tensor | null,
    w: Tensor,
    bn: BatchNormOptions,
    g: ConvGeometry,
  ) => {
    const stats = batchNormStatsForward('batchNormReluConv1x1', ctx, x, weight, bias, rm, rv, bn);
    const y = scope(() =>
      reshape(
        matmulRaw(reshape(w, [g.oc, g.c]), reshape(x, [g.n, g.c, g.h * g.w]), false, false, {
          coef: stats,
          relu: true,
        }),
        [g.n, g.oc, g.h, g.w],
      ),
    );
    stats.dispose();
    ctx.save(w);
    Object.assign(ctx, { geometry: g, hasRunning: rm !== null, needW: w.requiresGrad });
    return y;
  },
  backward: (ctx, gy, pending) => {
    const [x, stats, w] = ctx.saved as [Tensor, Tensor, Tensor];
    const g = ctx.geometry as ConvGeometry;
    return scope(() => {
      const { da, dw } = bnReluConv1x1Grads(gy, x, stats, w, g, ctx.needW as boolean);
      return bnReluGrads(ctx, x, stats, da, dw, pending);
    });
  },
});

/**
 * The gradients of a 1x1 conv of relu(BN(x)) (weight w) from x and the BN statistics: da at
 * relu(BN(x)) and, with needW, dW = Σ_n gy[n] · relu(BN(x[n]))ᵀ, the BN-ReLU applied as the
 * matmul stages x (its BAffine) and the batch summed in the product: no per-image gradients. On
 * the texture route gy is staged once for both products (matmulSharedWeightGrads).
 */
export function bnReluConv1x1Grads(
  gy: Tensor,
  x: Tensor,
  stats: Tensor,
  w: Tensor,
  g: ConvGeometry,
  needW: boolean,
): { da: Tensor; dw: Tensor | null } {
  return scope(() => {
    const { dx, dw } = matmulSharedWeightGrads(
      reshape(w, [g.oc, g.c]),
      reshape(x, [g.n, g.c, g.h * g.w]),
      reshape(gy, [g.n, g.oc, g.h * g.w]),
      { coef: stats, relu: true },
      needW,
    );
    return { da: reshape(dx, [g.n, g.c, g.h, g.w]), dw: dw && reshape(dw, [g.oc, g.c, 1, 1]) };
  });
}

/** Whether batchNormReluConv1x1 fuses for this geometry (the gpu family; the texture route). */
export function fusesBnReluConv1x1(g: ConvGeometry): boolean {
  return stagesBAffine(g.oc, g.h * g.w, g.c, g.n, false, [1, g.n]);
}

/**
 * conv2d(relu(batchNorm2d(x, weight, bias, runningMean, runningVar, bn)), convWeight) for a 1x1
 * convolution (stride 1, no padding, no bias). Where the matmul maps x through the BN-ReLU as
 * it reads it (stagesBAffine: the gpu family, and the texture route on software adapters), its
 * output is never stored; otherwise the two ops in turn. Values and gradients are the composition's; the running statistics are
 * updated once.
 */
export function batchNormReluConv1x1(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  bn: BatchNormOptions,
  convWeight: Tensor,
): Tensor {
  const g = convGeometry(x, convWeight, null, {});
  if (g.kh !== 1 || g.kw !== 1)
    throw new ShapeError(
      `batchNormReluConv1x1: the convolution must be 1x1, got a ${g.kh}x${g.kw} weight [${convWeight.shape.join(', ')}]`,
    );
  if (isAutocastEnabled()) return autocastBnReluConv(x, weight, bias, runningMean, runningVar, bn, convWeight, g, {});
  if (fusesBnReluConv1x1(g)) return fused1x1Op(x, weight, bias, runningMean, runningVar, convWeight, bn, g);
  return scope(() => conv2d(batchNormRelu(x, weight, bias, runningMean, runningVar, bn), convWeight));
}

export interface FusionOptions {
  /**
   * Keep the Winograd input transform V from the forward for the weight gradient instead of
   * transforming x again in backward: one pass over x fewer, for V's memory (α²/m² = 2.25x the
   * BN-ReLU output's at F(4x4) until backward). DenseNet's plain mode keeps it, the memory-
   * efficient mode does not.
   */
  keepInputTransform?: boolean;
}

/**
 * conv2d(relu(batchNorm2d(x, weight, bias, runningMean, runningVar, bn)), convWeight, null,
 * convOptions), with the BN-ReLU inside the Winograd input transform where the convolution runs
 * by Winograd (and has no bias); otherwise the two ops in turn. Values and gradients are the
 * composition's; the running statistics are updated once.
 */
export function batchNormReluConv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  bn: BatchNormOptions,
  convWeight: Tensor,
  convOptions: Conv2dOptions = {},
  fusion: FusionOptions = {},
): Tensor {
  const g = convGeometry(x, convWeight, null, convOptions);
  if (isAutocastEnabled())
    return autocastBnReluConv(x, weight, bias, runningMean, runningVar, bn, convWeight, g, convOptions);
  if (winogradApplies(g.kh, g.kw, [g.sh, g.sw], [g.dh, g.dw], g.c, g.oc))
    return fusedOp(x, weight, bias, runningMean, runningVar, convWeight, bn, g, fusion.keepInputTransform ?? false);
  if (getEngine().info.kernels === 'gpu' && !isPointwise(g))
    return tiledFusedOp(x, weight, bias, runningMean, runningVar, convWeight, bn, g, false);
  return scope(() =>
    conv2d(batchNormRelu(x, weight, bias, runningMean, runningVar, bn), convWeight, null, convOptions),
  );
}
