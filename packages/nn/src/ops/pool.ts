// max_pool2d, avg_pool2d, adaptive_avg_pool2d and a global average pool (NCHW), forward and
// backward, with PyTorch's output-size rules.
import {
  defineOp,
  empty,
  grid1d,
  mean,
  runKernel,
  ShapeError,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';
import { pairOf, type IntPair } from './conv2d/conv2d.js';
import { POOL_WG, poolKernel, type PoolKind } from './pool-kernel.js';

export interface MaxPool2dOptions {
  kernel: IntPair;
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: IntPair;
  padding?: IntPair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions extends MaxPool2dOptions {
  /** Count padded zeros in the divisor (PyTorch's default, true). */
  countIncludePad?: boolean;
}

interface PoolGeometry {
  planes: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  countIncludePad: boolean;
}

/**
 * PyTorch's pooling_output_shape: floor((in + 2p - (k - 1) - 1) / s) + 1, or ceil in ceil_mode,
 * where the last window is dropped if it would start at or beyond in + p (it would then
 * cover padding only).
 */
export function poolOutputSize(size: number, k: number, s: number, p: number, ceilMode: boolean): number {
  let out = Math.floor((size + 2 * p - (k - 1) - 1 + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= size + p) out--;
  return out;
}

function checkInput(x: Tensor, op: string): [number, number, number, number] {
  if (x.rank !== 4 || x.dtype !== 'f32')
    throw new ShapeError(`${op}: input must be an f32 NCHW tensor (rank 4), got ${x.dtype} [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

function poolGeometry(x: Tensor, o: AvgPool2dOptions, op: string): PoolGeometry {
  const [n, c, h, w] = checkInput(x, op);
  const [kh, kw] = pairOf(o.kernel, 1, `${op}: kernel`, 1);
  const stride = o.stride === undefined ? [kh, kw] : pairOf(o.stride, 1, `${op}: stride`, 1);
  const [ph, pw] = pairOf(o.padding, 0, `${op}: padding`, 0);
  if (2 * ph > kh || 2 * pw > kw)
    throw new ShapeError(`${op}: padding (${ph}, ${pw}) must be at most half the kernel (${kh}, ${kw})`);
  const ceil = o.ceilMode ?? false;
  const oh = poolOutputSize(h, kh, stride[0]!, ph, ceil);
  const ow = poolOutputSize(w, kw, stride[1]!, pw, ceil);
  if (oh < 1 || ow < 1)
    throw new ShapeError(`${op}: the ${kh}x${kw} window does not fit the ${h}x${w} input (padding ${ph}, ${pw})`);
  return {
    planes: n * c,
    h,
    w,
    oh,
    ow,
    kh,
    kw,
    sh: stride[0]!,
    sw: stride[1]!,
    ph,
    pw,
    countIncludePad: o.countIncludePad ?? true,
  };
}

function uniforms(total: number, g: PoolGeometry): Uniforms {
  return new Uniforms().u32(total, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.countIncludePad ? 1 : 0);
}

function launch(kind: PoolKind, backward: boolean, inputs: Tensor[], outputs: Tensor[], g: PoolGeometry): void {
  const total = outputs[0]!.size;
  runKernel(
    poolKernel,
    { kind, backward },
    { inputs, outputs, uniforms: uniforms(total, g), workgroups: grid1d(total, POOL_WG) },
  );
}

function inputShape(g: PoolGeometry, like: Tensor): number[] {
  return [like.shape[0]!, like.shape[1]!, g.h, g.w];
}

const maxPoolOp = defineOp({
  name: 'maxPool2d',
  forward: (ctx: OpContext, x: Tensor, g: PoolGeometry) => {
    const [n, c] = x.shape as [number, number];
    const y = empty([n, c, g.oh, g.ow]);
    const idx = empty([n, c, g.oh, g.ow], 'i32');
    launch('max', false, [x], [y, idx], g);
    // The argmax (flat h*W + w within its plane, like PyTorch's indices) is all backward needs.
    ctx.save(idx);
    ctx.geometry = g;
    idx.dispose();
    return y;
  },
  backward: (ctx, gy) => {
    const g = ctx.geometry as PoolGeometry;
    const dx = empty(inputShape(g, gy));
    launch('max', true, [gy, ctx.saved[0]!], [dx], g);
    return [dx];
  },
});

/** F.max_pool2d(x, kernel, stride, padding, ceil_mode): -inf padding; gradient to the first argmax. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  return maxPoolOp(x, poolGeometry(x, options, 'maxPool2d'));
}

/** Window-mean pools share one op; `kind` picks the window rule. */
const meanPoolOp = defineOp({
  name: 'avgPool2d',
  forward: (ctx: OpContext, x: Tensor, kind: 'avg' | 'adaptive', g: PoolGeometry) => {
    const [n, c] = x.shape as [number, number];
    const y = empty([n, c, g.oh, g.ow]);
    launch(kind, false, [x], [y], g);
    ctx.kind = kind;
    ctx.geometry = g;
    return y;
  },
  backward: (ctx, gy) => {
    const g = ctx.geometry as PoolGeometry;
    const dx = empty(inputShape(g, gy));
    launch(ctx.kind as PoolKind, true, [gy], [dx], g);
    return [dx];
  },
});

/** F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad = true). */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  return meanPoolOp(x, 'avg', poolGeometry(x, options, 'avgPool2d'));
}

/**
 * F.adaptive_avg_pool2d(x, [oh, ow]): output cell o averages rows floor(o*H/oh) to
 * ceil((o+1)*H/oh) - 1 (windows overlap when the sizes do not divide). [1, 1] is the global
 * average pool.
 */
export function adaptiveAvgPool2d(x: Tensor, size: IntPair): Tensor {
  const [n, c, h, w] = checkInput(x, 'adaptiveAvgPool2d');
  const [oh, ow] = pairOf(size, 1, 'adaptiveAvgPool2d: output size', 1);
  if (oh === 1 && ow === 1) return globalAvgPool2d(x);
  const g: PoolGeometry = {
    planes: n * c,
    h,
    w,
    oh,
    ow,
    kh: 1,
    kw: 1,
    sh: 1,
    sw: 1,
    ph: 0,
    pw: 0,
    countIncludePad: true,
  };
  return meanPoolOp(x, 'adaptive', g);
}

/** Mean over H and W, keeping them as size 1 ([N, C, 1, 1]): the engine's row reduction. */
export function globalAvgPool2d(x: Tensor): Tensor {
  checkInput(x, 'globalAvgPool2d');
  return mean(x, [2, 3], true);
}
