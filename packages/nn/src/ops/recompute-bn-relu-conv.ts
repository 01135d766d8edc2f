// concat(features) -> BN -> ReLU -> conv1x1 as one op that keeps only its inputs and recomputes
// the concatenation and the BN-ReLU output in backward (gradient checkpointing, as DenseNet's
// memory-efficient bottleneck does it: Pleiss et al., "Memory-Efficient Implementation of
// DenseNets", 2017). The features are held by the caller anyway (a dense block keeps them). A plain dense layer keeps two tensors the
// width of everything before it (the concat, saved by BN; the BN-ReLU output, saved by the
// conv), so a block's memory grows with the square of its depth; this op makes it linear.
//
// Why a fused op and not a generic torch.utils.checkpoint(fn): backward rules run with
// recording off, so re-running `fn` could not build the graph a generic version would walk.
// Here the recompute calls the BN kernels with a private OpContext and the conv's data/weight
// gradient kernels directly, which also records nothing it does not need. On software adapters
// the BN-ReLU output is not even recomputed: the 1x1 conv's matmul applies the BN-ReLU as it
// stages x (bn-relu-conv.ts), in the forward and for the weight gradient.
//
// Under autocast (at the forward) the backward computes autocast's gradients too: the conv's
// weight and incoming gradient rounded to f16 (and its input: on subgroup matrices the kernel
// rounds relu(BN(x)) as it stages it, elsewhere the recomputed output is rounded).
import { concat, defineOp, narrow, OpContext, roundToHalfValues, scope, type Tensor } from '@spine/tensor';
import { isAutocastEnabled } from '../amp/autocast.js';
import { NnError } from '../errors.js';
import { batchNormForward, batchNormBackward, batchNormStatsForward, type BatchNormOptions } from './batchnorm.js';
import {
  batchNormReluConv1x1,
  bnReluConv1x1Grads,
  fusesBnReluConv1x1,
  fusesUnderAutocast,
  tiledBnReluConvGrads,
} from './bn-relu-conv.js';
import { convDgrad, convGeometry, convWgrad } from './conv2d/conv2d.js';

export interface BatchNormReluConv1x1Params {
  normWeight: Tensor;
  normBias: Tensor;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** The 1x1 conv's weight [inner, sum of feature channels, 1, 1] (no bias). */
  convWeight: Tensor;
}

const bnReluForward = batchNormForward(true);
const bnReluBackward = batchNormBackward(true);

const recomputedOp = defineOp({
  name: 'concatBatchNormReluConv1x1Recomputed',
  forward: (
    ctx: OpContext,
    normWeight: Tensor,
    normBias: Tensor,
    rm: Tensor | null,
    rv: Tensor | null,
    convWeight: Tensor,
    bn: BatchNormOptions,
    ...features: Tensor[]
  ) => {
    const x = features.length === 1 ? features[0]! : concat(features, 1);
    const y = batchNormReluConv1x1(x, normWeight, normBias, rm, rv, bn, convWeight); // updates the running stats once
    if (x !== features[0]) x.dispose();
    // Eval-mode recompute normalises with the running stats; training recomputes batch stats.
    ctx.save(normWeight, normBias, convWeight, ...(bn.training ? [] : [rm!, rv!]), ...features);
    Object.assign(ctx, { bn, featureCount: features.length, hasRunning: rm !== null, mixed: isAutocastEnabled() });
    return y;
  },
  backward: (ctx, gy) => {
    const { bn, featureCount, hasRunning, mixed } = ctx as unknown as {
      bn: BatchNormOptions;
      featureCount: number;
      hasRunning: boolean;
      mixed: boolean;
    };
    const [normWeight, normBias, convWeight] = ctx.saved as [Tensor, Tensor, Tensor];
    const running = bn.training ? null : (ctx.saved.slice(3, 5) as [Tensor, Tensor]);
    const features = ctx.saved.slice(ctx.saved.length - featureCount);
    return scope(() => {
      // Recompute: the same concat, and BN-ReLU with the batch statistics the forward used
      // (running stats withheld so they are not updated a second time).
      const x = features.length === 1 ? features[0]!.view() : concat(features, 1);
      x.requiresGrad = true; // ask the BN backward for dx (nothing records: backward runs without grad)
      const bnCtx = new OpContext(true);
      const g = convGeometry(x, convWeight, null, {});
      let dConv: Tensor;
      let da: Tensor;
      if (mixed ? fusesUnderAutocast(g) : fusesBnReluConv1x1(g)) {
        // Statistics only; the weight gradient's matmul (or subgroup-matrix kernel) applies the
        // BN-ReLU as it reads x.
        const stats = batchNormStatsForward(
          'concatBatchNormReluConv1x1Recomputed',
          bnCtx,
          x,
          normWeight,
          normBias,
          running?.[0] ?? null,
          running?.[1] ?? null,
          bn,
        );
        ({ da, dw: dConv } = (
          mixed
            ? tiledBnReluConvGrads(gy, x, stats, convWeight, g, true, true)
            : bnReluConv1x1Grads(gy, x, stats, convWeight, g, true)
        ) as { da: Tensor; dw: Tensor });
        stats.dispose();
      } else {
        const a = bnReluForward(bnCtx, x, normWeight, normBias, running?.[0] ?? null, running?.[1] ?? null, bn);
        // Under autocast the conv's input, weight and incoming gradient as f16 values.
        const [ca, cg, cw] = mixed ? [a, gy, convWeight].map(roundToHalfValues) : [a, gy, convWeight];
        dConv = convWgrad(ca!, cg!, g); // 1x1, unpadded: a is its own padded input
        da = convDgrad(cg!, cw!, g);
        if (mixed) for (const t of [ca, cg, cw]) t!.dispose();
        a.dispose();
      }
      const [dx, dNormWeight, dNormBias] = bnReluBackward(bnCtx, da) as [Tensor, Tensor, Tensor];
      for (const t of bnCtx.saved) t.dispose();
      let at = 0;
      const dFeatures = features.map((f) => {
        const c = f.shape[1]!;
        const d = featureCount === 1 ? dx : narrow(dx, 1, at, c);
        at += c;
        return d;
      });
      // One slot per Tensor argument: the running stats have (null) slots only when given.
      return [dNormWeight, dNormBias, ...(hasRunning ? [null, null] : []), dConv, ...dFeatures];
    });
  },
});

/**
 * conv2d(relu(batchNorm2d(concat(features, 1))), convWeight): DenseNet's norm1-relu1-conv1 with
 * the concatenation and the BN-ReLU output recomputed in backward rather than kept. Values and
 * gradients are those of the plain composition; running statistics are updated once (in the
 * forward), where torch.utils.checkpoint would update them again during the recompute.
 */
export function concatBatchNormReluConv1x1Recomputed(
  features: readonly Tensor[],
  p: BatchNormReluConv1x1Params,
  bn: BatchNormOptions,
): Tensor {
  if (!features.length) throw new NnError('concatBatchNormReluConv1x1Recomputed: needs at least one feature map');
  const { normWeight, normBias, runningMean, runningVar, convWeight } = p;
  if (convWeight.rank !== 4 || convWeight.shape[2] !== 1 || convWeight.shape[3] !== 1) {
    throw new NnError(
      `concatBatchNormReluConv1x1Recomputed: the conv must be 1x1, got weight [${convWeight.shape.join(', ')}]`,
    );
  }
  return recomputedOp(normWeight, normBias, runningMean, runningVar, convWeight, bn, ...features);
}
