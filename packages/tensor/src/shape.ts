// Shape arithmetic, kept apart from kernels: broadcasting, strides, axis normalisation.
import { ShapeError } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(shape: Shape, op: string): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: invalid shape ${formatShape(shape)} (dimensions must be non-negative integers)`);
  }
  return [...shape];
}

/** NumPy/PyTorch broadcasting of any number of shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast together (dimension ${o}: ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `target` (0 on broadcast dimensions). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = contiguousStrides(shape);
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = target.length - shape.length + i;
    out[o] = shape[i] === 1 && target[o] !== 1 ? 0 : own[i]!;
  }
  return out;
}

export function normalizeAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1))
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/** Sorted, de-duplicated, non-negative axes; `undefined` means all axes. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, op)))];
  return out.sort((a, b) => a - b);
}

/**
 * Merge adjacent dimensions that a strided loop can treat as one: both have the same
 * "class" and the outer stride equals inner stride * inner size for every operand.
 * Fewer dimensions mean less index arithmetic per element in the kernels.
 */
export function mergeDims(
  shape: Shape,
  strideSets: number[][],
  classes?: readonly number[],
): { shape: number[]; strides: number[][]; classes: number[] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideSets.map(() => []);
  const outClasses: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1 && shape.length > 1) continue; // size-1 dims carry no information
    const cls = classes?.[i] ?? 0;
    const last = outShape.length - 1;
    const canMerge =
      last >= 0 && outClasses[last] === cls && strideSets.every((s, k) => outStrides[k]![last] === s[i]! * d);
    if (canMerge) {
      outShape[last] = outShape[last]! * d;
      strideSets.forEach((s, k) => (outStrides[k]![last] = s[i]!));
    } else {
      outShape.push(d);
      strideSets.forEach((s, k) => outStrides[k]!.push(s[i]!));
      outClasses.push(cls);
    }
  }
  return { shape: outShape, strides: outStrides, classes: outClasses };
}
