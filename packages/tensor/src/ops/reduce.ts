// Public reductions and their backward rules.
import { defineOp, type OpContext } from '../autograd.js';
import { TensorError } from '../errors.js';
import { normalizeAxes, numel, sameShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty } from './creation.js';
import { div, eq, mul, sub, square } from './elementwise.js';
import { runReduce, type ReduceOp } from './reduce-kernel.js';
import { expand, reshape } from './shape-ops.js';

export type Axes = number | readonly number[];

function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

function reduceRaw(op: ReduceOp, x: Tensor, axes: readonly number[], keepDims: boolean, scale = 1): Tensor {
  if ((op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin') && axes.some((a) => x.shape[a] === 0)) {
    throw new TensorError(`${op}: cannot reduce over an empty dimension (shape [${x.shape.join(', ')}])`);
  }
  // Reductions accumulate in their input's type; an f16 sum would lose what f32 keeps.
  if (x.dtype === 'f16') throw new TensorError(`${op}: f16 tensors are not reduced; cast(x, 'f32') first`);
  const arg = op === 'argmax' || op === 'argmin';
  const out = empty(reducedShape(x.shape, axes, keepDims), arg ? 'i32' : x.dtype);
  runReduce(op, x, axes, out, scale, (s, d) => empty(s, d));
  return out;
}

/** g reshaped to keep the reduced axes as 1s, then broadcast to the input shape. */
function spread(g: Tensor, inShape: Shape, axes: readonly number[]): Tensor {
  const kept = reshape(g, reducedShape(inShape, axes, true));
  const out = expand(kept, inShape);
  kept.dispose();
  return out;
}

const sumOp = defineOp({
  name: 'sum',
  forward: (ctx: OpContext, x: Tensor, axes: number[], keepDims: boolean, scale: number) => {
    ctx.inShape = x.shape;
    ctx.axes = axes;
    ctx.scale = scale;
    return reduceRaw('sum', x, axes, keepDims, scale);
  },
  backward: (ctx, g) => {
    const axes = ctx.axes as number[];
    const spreadG = spread(g, ctx.inShape as Shape, axes);
    const scale = ctx.scale as number;
    if (scale === 1) return [spreadG];
    const out = mul(spreadG, scale);
    spreadG.dispose();
    return [out];
  },
});

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank, 'sum');
  return sumOp(x, ax, keepDims, 1);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  if (x.dtype !== 'f32') throw new TensorError('mean: needs an f32 tensor; cast first');
  const ax = normalizeAxes(axes, x.rank, 'mean');
  const n = ax.reduce((p, a) => p * x.shape[a]!, 1);
  return sumOp(x, ax, keepDims, n === 0 ? NaN : 1 / n);
}

function extremum(kind: 'max' | 'min') {
  return defineOp({
    name: kind,
    forward: (ctx: OpContext, x: Tensor, axes: number[], keepDims: boolean) => {
      const y = reduceRaw(kind, x, axes, keepDims);
      ctx.axes = axes;
      ctx.save(x, y);
      return y;
    },
    // Like torch.amax/amin: the gradient is shared evenly among tied extreme elements.
    backward: (ctx, g) => {
      const [x, y] = ctx.saved as [Tensor, Tensor];
      const axes = ctx.axes as number[];
      const yb = spread(y, x.shape, axes);
      const mask = eq(x, yb);
      const count = spread(reduceRaw('sum', mask, axes, true), x.shape, axes);
      const gb = spread(g, x.shape, axes);
      const out = mul(gb, div(mask, count));
      return [out];
    },
  });
}

const maxOp = extremum('max');
const minOp = extremum('min');

/** Maximum over `axes` (all when omitted); gradient like torch.amax. */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return maxOp(x, normalizeAxes(axes, x.rank, 'max'), keepDims);
}

/** Minimum over `axes` (all when omitted); gradient like torch.amin. */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return minOp(x, normalizeAxes(axes, x.rank, 'min'), keepDims);
}

/** Index (i32) of the first maximum along `axis`, or of the flattened tensor when omitted. */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce('argmax', x, axis, keepDims);
}

export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce('argmin', x, axis, keepDims);
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    const out = reduceRaw(op, flat, [0], false);
    flat.dispose();
    if (!keepDims) return out;
    // torch.argmax(x, keepdim=True) without a dim keeps every axis as 1.
    const kept = reshape(
      out,
      x.shape.map(() => 1),
    );
    out.dispose();
    return kept;
  }
  return reduceRaw(op, x, normalizeAxes(axis, x.rank, op), keepDims);
}

/** Variance over `axes` with Bessel's correction by default (correction 1, as torch.var). */
export function variance(x: Tensor, axes?: Axes, options: { correction?: number; keepDims?: boolean } = {}): Tensor {
  const ax = normalizeAxes(axes, x.rank, 'variance');
  const n = ax.reduce((p, a) => p * x.shape[a]!, 1);
  const m = mean(x, ax, true);
  const d = sub(x, m);
  const sq = square(d);
  const s = sum(sq, ax, options.keepDims ?? false);
  const out = div(s, Math.max(0, n - (options.correction ?? 1)));
  for (const t of [m, d, sq, s]) t.dispose();
  return out;
}

/** Sum `g` down to `shape` (undoes broadcasting; used by backward rules). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g.view();
  const lead = g.rank - shape.length;
  if (lead < 0) throw new TensorError(`sumTo: cannot sum [${g.shape}] to the larger shape [${shape}]`);
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = reduceRaw('sum', g, axes, false);
  if (numel(s.shape) !== numel(shape)) throw new TensorError(`sumTo: [${g.shape}] does not broadcast from [${shape}]`);
  const out = reshape(s, shape);
  s.dispose();
  return out;
}
