// Batch normalisation with PyTorch's semantics (F.batch_norm): training normalises with the
// biased batch variance over N and the spatial dims and moves the running statistics towards
// the batch's with the unbiased variance; eval normalises with the running statistics.
// `batchNormRelu` fuses the ReLU that DenseNet applies after every BN: the backward recomputes
// the mask from x, so neither op keeps its output alive for the gradient.
import {
  defineOp,
  empty,
  getEngine,
  runKernel,
  ShapeError,
  TensorError,
  Uniforms,
  grid1d,
  type OpContext,
  type PendingGradients,
  type Tensor,
} from '@spine/tensor';
import {
  applyBackwardKernel,
  applyForwardKernel,
  CHUNK,
  finalizeBackwardKernel,
  finalizeForwardKernel,
  partialBackwardKernel,
  partialForwardKernel,
  SINGLE_PASS_MAX,
  singlePassBackwardKernel,
  singlePassForwardKernel,
  WG,
} from './batchnorm-kernels.js';
import { LANE_WG, laneBackwardKernel, laneForwardKernel } from './batchnorm-lane-kernels.js';
import { planeGrid } from './plane-grid.js';

export interface BatchNormOptions {
  /** Batch statistics (and a running-stat update) when true; running statistics when false. */
  training: boolean;
  /** Weight of the batch in the running-stat update (PyTorch's default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

interface Layout {
  N: number;
  C: number;
  /** Elements per (n, c) plane. */
  S: number;
  vec: 1 | 4;
}

function layoutOf(name: string, x: Tensor, weight: Tensor, bias: Tensor, rm: Tensor | null, rv: Tensor | null): Layout {
  if (x.dtype !== 'f32' || x.rank < 2)
    throw new ShapeError(`${name}: x must be an f32 tensor [N, C, ...], got ${x.dtype} [${x.shape.join(', ')}]`);
  const [N, C] = x.shape as [number, number];
  const S = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const named: [string, Tensor | null][] = [
    ['weight', weight],
    ['bias', bias],
    ['runningMean', rm],
    ['runningVar', rv],
  ];
  for (const [key, t] of named) {
    if (t && (t.dtype !== 'f32' || t.rank !== 1 || t.shape[0] !== C)) {
      throw new ShapeError(
        `${name}: ${key} must be f32 [${C}] for x [${x.shape.join(', ')}], got ${t.dtype} [${t.shape.join(', ')}]`,
      );
    }
  }
  if ((rm === null) !== (rv === null))
    throw new TensorError(`${name}: pass both runningMean and runningVar, or neither`);
  return { N, C, S, vec: S % 4 === 0 ? 4 : 1 };
}

let singlePassMode: boolean | 'auto' = 'auto';

/**
 * 'auto': where a channel holds at most SINGLE_PASS_MAX values, the statistics and the
 * backward's sums take one dispatch each: on the 'gpu' kernel family one workgroup per channel,
 * on the 'cpu' family one invocation per channel (batchnorm-lane-kernels.ts; a workgroup per
 * channel and its barriers cost lavapipe 1.3-2.5x the pairs' device time). Larger channels take
 * the partial/finalize pairs. true/false force either (tests, probes).
 */
export function setBatchNormSinglePass(mode: boolean | 'auto'): void {
  singlePassMode = mode;
}

function singlePass(l: Layout): boolean {
  return singlePassMode === 'auto' ? l.N * l.S <= SINGLE_PASS_MAX : singlePassMode;
}

/** The single-pass kernel of the adapter's family and its workgroups. */
function singlePassRoute<K>(l: Layout, gpu: K, lane: K): { kernel: K; workgroups: [number, number?, number?] } {
  return getEngine().info.kernels === 'gpu'
    ? { kernel: gpu, workgroups: planeGrid(l.C, 1) }
    : { kernel: lane, workgroups: grid1d(l.C, LANE_WG) };
}

function partialShape(l: Layout): { chunks: number; threads: number; interleaved: boolean } {
  const chunks = Math.ceil(l.S / l.vec / CHUNK);
  return { chunks, threads: l.N * l.C * chunks, interleaved: getEngine().info.kernels === 'gpu' };
}

/**
 * The statistics half of the forward: stats [C, 4] = (mean, invstd, scale, shift) per channel,
 * the running statistics updated when training, and `ctx` prepared for batchNormBackward (x and
 * stats saved when it records). The caller disposes the returned stats. Consumers that apply
 * scale, shift (and the ReLU) as they read x use it in place of the forward (the Winograd
 * transform behind batchNormReluConv2d).
 */
export function batchNormStatsForward(
  name: string,
  ctx: OpContext,
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  rm: Tensor | null,
  rv: Tensor | null,
  options: BatchNormOptions,
): Tensor {
  const l = layoutOf(name, x, weight, bias, rm, rv);
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  // PyTorch uses batch statistics whenever there are no running ones, even in eval.
  const useBatch = options.training || rm === null;
  const M = l.N * l.S;
  if (useBatch && M <= 1)
    throw new TensorError(
      `${name}: expected more than 1 value per channel when training, got x [${x.shape.join(', ')}]`,
    );
  const stats = empty([l.C, 4]);
  if (useBatch && singlePass(l)) {
    const update = options.training && rm !== null;
    const u = new Uniforms().u32(l.C, l.S / l.vec, l.N).f32(M, momentum, eps);
    const { kernel, workgroups } = singlePassRoute(l, singlePassForwardKernel, laneForwardKernel);
    runKernel(
      kernel,
      { vec: l.vec, update },
      { inputs: [x, weight, bias], outputs: update ? [stats, rm!, rv!] : [stats], uniforms: u, workgroups },
    );
  } else if (useBatch) {
    const { chunks, threads, interleaved } = partialShape(l);
    const part = empty([l.C, l.N * chunks, 4]);
    const pu = new Uniforms().u32(l.C, l.S / l.vec, chunks, threads);
    runKernel(
      partialForwardKernel,
      { vec: l.vec, interleaved },
      { inputs: [x], outputs: [part], uniforms: pu, workgroups: grid1d(threads, WG) },
    );
    const update = options.training && rm !== null;
    const fu = new Uniforms().u32(l.C, l.N * chunks).f32(M, momentum, eps);
    const outputs = update ? [stats, rm!, rv!] : [stats];
    runKernel(
      finalizeForwardKernel,
      { source: 'batch', update },
      { inputs: [part, weight, bias], outputs, uniforms: fu, workgroups: grid1d(l.C, WG) },
    );
    part.dispose();
  } else {
    const fu = new Uniforms().u32(l.C, 0).f32(M, momentum, eps);
    runKernel(
      finalizeForwardKernel,
      { source: 'running', update: false },
      { inputs: [weight, bias, rm!, rv!], outputs: [stats], uniforms: fu, workgroups: grid1d(l.C, WG) },
    );
  }
  ctx.save(x, stats);
  Object.assign(ctx, { layout: l, useBatch, needDx: x.requiresGrad });
  return stats;
}

/**
 * The op's forward for the plain or ReLU-fused variant, usable with a caller's own OpContext
 * (recompute-bn-relu-conv.ts recomputes BN-ReLU in backward and then calls batchNormBackward on it).
 */
export function batchNormForward(relu: boolean) {
  const name = relu ? 'batchNormRelu' : 'batchNorm2d';
  return (
    ctx: OpContext,
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    rm: Tensor | null,
    rv: Tensor | null,
    options: BatchNormOptions,
  ): Tensor => {
    const stats = batchNormStatsForward(name, ctx, x, weight, bias, rm, rv, options);
    const l = ctx.layout as Layout;
    const y = empty(x.shape);
    const planes = l.N * l.C;
    const au = new Uniforms().u32(l.C, l.S / l.vec, planes);
    runKernel(
      applyForwardKernel,
      { vec: l.vec, relu },
      { inputs: [x, stats], outputs: [y], uniforms: au, workgroups: planeGrid(planes, l.S / l.vec) },
    );
    stats.dispose();
    return y;
  };
}

/** Words of the single-pass backward kernels: C, S (vectors per plane), N, M (f32). */
function sumsUniforms(l: Layout): Uniforms {
  return new Uniforms().u32(l.C, l.S / l.vec, l.N).f32(l.N * l.S);
}

/** The op's backward rule; `ctx` must come from batchNormForward of the same variant. */
export function batchNormBackward(relu: boolean) {
  return (ctx: OpContext, g: Tensor, pending?: PendingGradients): (Tensor | null)[] => backward(relu, ctx, g, pending);
}

function backward(relu: boolean, ctx: OpContext, g: Tensor, pending?: PendingGradients): (Tensor | null)[] {
  const [x, stats] = ctx.saved as [Tensor, Tensor];
  const l = ctx.layout as Layout;
  const dweight = empty([l.C]);
  const dbias = empty([l.C]);
  const training = ctx.useBatch as boolean;
  const lanes = singlePass(l) && getEngine().info.kernels !== 'gpu';
  // A gradient already waiting for x (autograd's PendingGradients) is added as dx is stored,
  // where the kernel's storage bindings allow one more.
  const storage = lanes ? 6 : 5;
  const waiting =
    ctx.needDx && pending && storage < getEngine().info.limits.maxStorageBuffersPerShaderStage ? pending.take(0) : null;
  const addend = waiting !== null;
  if (lanes) {
    // One walk over the channel for the sums, a second for dx: the whole backward in one
    // dispatch (the coefficients go to a scratch tensor when x needs no gradient).
    const dx = ctx.needDx ? empty(x.shape) : null;
    const coef = dx ? null : empty([l.C, 4]);
    runKernel(
      laneBackwardKernel,
      { vec: l.vec, relu, training, dx: dx !== null, addend },
      {
        inputs: [x, g, stats, ...(waiting ? [waiting] : [])],
        outputs: [dweight, dbias, dx ?? coef!],
        uniforms: sumsUniforms(l),
        workgroups: grid1d(l.C, LANE_WG),
      },
    );
    coef?.dispose();
    waiting?.dispose();
    return [dx, dweight, dbias, null, null];
  }
  const coef = empty([l.C, 4]);
  if (singlePass(l)) {
    runKernel(
      singlePassBackwardKernel,
      { vec: l.vec, relu, training },
      {
        inputs: [x, g, stats],
        outputs: [dweight, dbias, coef],
        uniforms: sumsUniforms(l),
        workgroups: planeGrid(l.C, 1),
      },
    );
  } else {
    const { chunks, threads, interleaved } = partialShape(l);
    const part = empty([l.C, l.N * chunks, 2]);
    const pu = new Uniforms().u32(l.C, l.S / l.vec, chunks, threads);
    runKernel(
      partialBackwardKernel,
      { vec: l.vec, relu, interleaved },
      { inputs: [x, g, stats], outputs: [part], uniforms: pu, workgroups: grid1d(threads, WG) },
    );
    const fu = new Uniforms().u32(l.C, l.N * chunks).f32(l.N * l.S);
    runKernel(
      finalizeBackwardKernel,
      { training },
      { inputs: [part, stats], outputs: [dweight, dbias, coef], uniforms: fu, workgroups: grid1d(l.C, WG) },
    );
    part.dispose();
  }
  let dx: Tensor | null = null;
  if (ctx.needDx) {
    dx = empty(x.shape);
    const planes = l.N * l.C;
    const au = new Uniforms().u32(l.C, l.S / l.vec, planes);
    runKernel(
      applyBackwardKernel,
      { vec: l.vec, relu, addend },
      {
        inputs: [x, g, stats, coef, ...(waiting ? [waiting] : [])],
        outputs: [dx],
        uniforms: au,
        workgroups: planeGrid(planes, l.S / l.vec),
      },
    );
  }
  coef.dispose();
  waiting?.dispose();
  return [dx, dweight, dbias, null, null];
}

const batchNormOp = defineOp({
  name: 'batchNorm2d',
  forward: batchNormForward(false),
  backward: batchNormBackward(false),
});
const batchNormReluOp = defineOp({
  name: 'batchNormRelu',
  forward: batchNormForward(true),
  backward: batchNormBackward(true),
});

/**
 * Batch normalisation of x [N, C, ...] per channel, as torch.nn.functional.batch_norm.
 * Training: normalise with the batch mean and biased variance over N and the spatial dims, and
 * (when running stats are given) update them in place:
 * running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
 * Eval: normalise with the running statistics. Pass null for both running stats to always use
 * batch statistics (track_running_stats=False). Differentiable in x, weight and bias.
 */
export function batchNorm2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions,
): Tensor {
  return batchNormOp(x, weight, bias, runningMean, runningVar, options);
}

/** relu(batchNorm2d(...)) in one pass forward and one backward (DenseNet's norm -> relu). */
export function batchNormRelu(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions,
): Tensor {
  return batchNormReluOp(x, weight, bias, runningMean, runningVar, options);
}
