// Shape ops. Tensors are always contiguous: reshape is a free view on the same storage; the
// rest are one strided copy through the elementwise kernel (expression `a`).
import { defineOp, type OpContext } from '../autograd.js';
import { ShapeError } from '../errors.js';
import {
  broadcastShapes,
  contiguousStrides,
  formatShape,
  normalizeAxis,
  numel,
  sameShape,
  type Shape,
} from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty, full } from './creation.js';
import { blockCopiesOn, tryBlockCopy } from './block-copy.js';
import { concatRegions, regionsApply, splitRegions } from './concat-kernel.js';
import { broadcastOperand, runElementwise } from './elementwise-kernel.js';
import { sumTo } from './reduce.js';

function resolveShape(shape: Shape, size: number, op: string): number[] {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    if (s.indexOf(-1, infer + 1) >= 0)
      throw new ShapeError(`${op}: only one dimension can be -1 in ${formatShape(shape)}`);
    const rest = numel(s.filter((_, i) => i !== infer));
    if (rest === 0 || size % rest !== 0)
      throw new ShapeError(`${op}: cannot infer -1 in ${formatShape(shape)} for ${size} elements`);
    s[infer] = size / rest;
  }
  if (numel(s) !== size || s.some((d) => !Number.isInteger(d) || d < 0))
    throw new ShapeError(`${op}: cannot view ${size} elements as ${formatShape(shape)}`);
  return s;
}

const reshapeOp = defineOp({
  name: 'reshape',
  forward: (ctx: OpContext, x: Tensor, shape: Shape) => {
    ctx.inShape = x.shape;
    return x.view(resolveShape(shape, x.size, 'reshape'));
  },
  backward: (ctx, g) => [reshape(g, ctx.inShape as Shape)],
});

/** Same data, new shape (one dimension may be -1). No copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return reshapeOp(x, shape);
}

/** Collapse dimensions start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  const s = normalizeAxis(start, x.rank, 'flatten');
  const e = normalizeAxis(end, x.rank, 'flatten');
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.rank + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis(axis, x.rank, 'squeeze');
  return x.shape[a] === 1 ? reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]) : reshape(x, x.shape);
}

const permuteOp = defineOp({
  name: 'permute',
  forward: (ctx: OpContext, x: Tensor, dims: number[]) => {
    ctx.dims = dims;
    const xs = contiguousStrides(x.shape);
    const shape = dims.map((d) => x.shape[d]!);
    const out = empty(shape, x.dtype);
    runElementwise({ expr: 'a', operands: [{ tensor: x, offset: 0, strides: dims.map((d) => xs[d]!) }], shape, out });
    return out;
  },
  backward: (ctx, g) => {
    const dims = ctx.dims as number[];
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return [permute(g, inverse)];
  },
});

/** Reorder dimensions: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const d = dims.map((a) => normalizeAxis(a, x.rank, 'permute'));
  if (d.length !== x.rank || new Set(d).size !== d.length)
    throw new ShapeError(`permute: ${formatShape(dims)} is not a permutation of ${x.rank} dimensions`);
  return permuteOp(x, d);
}

/** Swap two dimensions (the last two by default). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const dims = Array.from({ length: x.rank }, (_, i) => i);
  const i = normalizeAxis(a, x.rank, 'transpose');
  const j = normalizeAxis(b, x.rank, 'transpose');
  [dims[i], dims[j]] = [dims[j]!, dims[i]!];
  return permute(x, dims);
}

/** Copy `src` into the region of `dst` at `offset` with `strides` (region shape = src shape). */
function writeRegion(dst: Tensor, src: Tensor, offset: number, strides: readonly number[]): void {
  if (
    sameShape(strides, contiguousStrides(dst.shape)) &&
    tryBlockCopy(src, src.shape, 0, dst, dst.shape, offset, src.shape)
  )
    return;
  runElementwise({
    expr: 'a',
    operands: [broadcastOperand(src, src.shape)],
    shape: src.shape,
    out: dst,
    outOffset: offset,
    outStrides: strides,
  });
}

export type SliceRange = readonly [number, number?, number?] | null | undefined;

interface SliceSpec {
  offset: number;
  strides: number[];
  shape: number[];
}

function sliceSpec(shape: Shape, ranges: readonly SliceRange[]): SliceSpec {
  if (ranges.length > shape.length)
    throw new ShapeError(`slice: ${ranges.length} ranges for a tensor of rank ${shape.length}`);
  const base = contiguousStrides(shape);
  let offset = 0;
  const strides: number[] = [];
  const out: number[] = [];
  shape.forEach((dim, i) => {
    const r = ranges[i];
    const step = r?.[2] ?? 1;
    if (!Number.isInteger(step) || step <= 0)
      throw new ShapeError(`slice: step must be a positive integer (axis ${i})`);
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = r ? clampIdx(r[0]) : 0;
    const end = r && r[1] !== undefined ? clampIdx(r[1]) : dim;
    const len = Math.max(0, Math.ceil((end - start) / step));
    offset += start * base[i]!;
    strides.push(base[i]! * step);
    out.push(len);
  });
  return { offset, strides, shape: out };
}

const sliceOp = defineOp({
  name: 'slice',
  forward: (ctx: OpContext, x: Tensor, ranges: readonly SliceRange[]) => {
    const spec = sliceSpec(x.shape, ranges);
    ctx.spec = spec;
    ctx.inShape = x.shape;
    const out = empty(spec.shape, x.dtype);
    if (
      sameShape(spec.strides, contiguousStrides(x.shape)) &&
      tryBlockCopy(x, x.shape, spec.offset, out, out.shape, 0, spec.shape)
    )
      return out;
    runElementwise({
      expr: 'a',
      operands: [{ tensor: x, offset: spec.offset, strides: spec.strides }],
      shape: spec.shape,
      out,
    });
    return out;
  },
  backward: (ctx, g) => {
    const spec = ctx.spec as SliceSpec;
    const dx = full(ctx.inShape as Shape, 0, g.dtype);
    writeRegion(dx, g, spec.offset, spec.strides);
    return [dx];
  },
});

/**
 * Python-style slicing, one [start, end?, step?] per leading axis (null: whole axis);
 * negative indices count from the end; out-of-range bounds clamp.
 */
export function slice(x: Tensor, ranges: readonly SliceRange[]): Tensor {
  return sliceOp(x, ranges);
}

/** `length` entries along `axis` from `start` (torch.narrow). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis(axis, x.rank, 'narrow');
  const ranges: SliceRange[] = x.shape.map(() => null);
  ranges[a] = [start, start + length];
  return slice(x, ranges);
}

/**
 * Where region copies are not buffer copies (GPUs), a concat of several tensors, and its
 * backward, take one dispatch (concat-kernel.ts) instead of one per piece.
 */
function oneDispatch(dtype: Tensor['dtype'], pieces: number): boolean {
  return pieces > 1 && !blockCopiesOn() && regionsApply(dtype, pieces);
}

const concatOp = defineOp({
  name: 'concat',
  forward: (ctx: OpContext, axis: number, ...xs: Tensor[]) => {
    const first = xs[0]!;
    const shape = [...first.shape];
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis]!, 0);
    ctx.axis = axis;
    ctx.sizes = xs.map((t) => t.shape[axis]!);
    if (oneDispatch(first.dtype, xs.length)) return concatRegions(xs, axis, shape);
    const out = empty(shape, first.dtype);
    const strides = contiguousStrides(shape);
    let at = 0;
    for (const t of xs) {
      writeRegion(out, t, at * strides[axis]!, strides);
      at += t.shape[axis]!;
    }
    return out;
  },
  backward: (ctx, g) => {
    const sizes = ctx.sizes as number[];
    if (oneDispatch(g.dtype, sizes.length)) return splitRegions(g, ctx.axis as number, sizes);
    let at = 0;
    return sizes.map((n) => {
      const piece = narrow(g, ctx.axis as number, at, n);
      at += n;
      return piece;
    });
  },
});

/** Join tensors along `axis`; all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!xs.length) throw new ShapeError('concat: needs at least one tensor');
  const first = xs[0]!;
  const a = normalizeAxis(axis, first.rank, 'concat');
  for (const t of xs) {
    const ok =
      t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!ok)
      throw new ShapeError(
        `concat: ${formatShape(t.shape)} (${t.dtype}) does not match ${formatShape(first.shape)} (${first.dtype}) outside axis ${a}`,
      );
  }
  return concatOp(a, ...xs);
}

/** Stack same-shape tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  const parts = xs.map((t) => unsqueeze(t, axis < 0 ? axis + t.rank + 1 : axis));
  const out = concat(parts, axis < 0 ? axis + (xs[0]?.rank ?? 0) + 1 : axis);
  for (const p of parts) p.dispose();
  return out;
}

const padOp = defineOp({
  name: 'pad',
  forward: (ctx: OpContext, x: Tensor, pads: [number, number][], value: number) => {
    const shape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
    const out = full(shape, value, x.dtype);
    const strides = contiguousStrides(shape);
    const offset = pads.reduce((s, [before], i) => s + before * strides[i]!, 0);
    writeRegion(out, x, offset, strides);
    ctx.pads = pads;
    ctx.inShape = x.shape;
    return out;
  },
  backward: (ctx, g) => {
    const pads = ctx.pads as [number, number][];
    return [
      slice(
        g,
        (ctx.inShape as Shape).map((d, i): SliceRange => [pads[i]![0], pads[i]![0] + d]),
      ),
    ];
  },
});

/**
 * Constant padding; `pads` lists [before, after] per axis from the first axis (missing
 * trailing axes are not padded). Negative padding is not supported (use slice).
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length > x.rank) throw new ShapeError(`pad: ${pads.length} pad pairs for a tensor of rank ${x.rank}`);
  const full: [number, number][] = x.shape.map((_, i) => [pads[i]?.[0] ?? 0, pads[i]?.[1] ?? 0]);
  if (full.some(([a, b]) => a < 0 || b < 0 || !Number.isInteger(a) || !Number.isInteger(b)))
    throw new ShapeError('pad: padding must be non-negative integers');
  return padOp(x, full, value);
}

const expandOp = defineOp({
  name: 'expand',
  forward: (ctx: OpContext, x: Tensor, shape: number[]) => {
    ctx.inShape = x.shape;
    const out = empty(shape, x.dtype);
    runElementwise({ expr: 'a', operands: [broadcastOperand(x, shape)], shape, out });
    return out;
  },
  backward: (ctx, g) => [sumTo(g, ctx.inShape as Shape)],
});

/** Broadcast to `shape` (materialised: tensors are contiguous). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape))
    throw new ShapeError(`expand: ${formatShape(x.shape)} cannot be expanded to ${formatShape(shape)}`);
  return expandOp(x, [...shape]);
}

/** A contiguous copy that owns new storage (differentiable). */
export function clone(x: Tensor): Tensor {
  return expand(x, x.shape);
}
