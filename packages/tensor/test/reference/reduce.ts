// float64 reductions over any set of axes, like torch.sum/amax/argmax/var.
import { build, get, normalizeAxes, numel, unravel, type Arr } from './ndarray.js';

export type RefReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin';

function split(x: Arr, axes: readonly number[], keepDims: boolean) {
  const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptAxes.map((i) => x.shape[i]!);
  const redShape = axes.map((a) => x.shape[a]!);
  /** Input index for output index `o` (in outShape) and reduced-subspace index `r`. */
  const inputIndex = (o: number[], r: number): number[] => {
    const ridx = unravel(r, redShape);
    const idx = new Array<number>(x.shape.length);
    let k = 0;
    keptAxes.forEach((a, j) => (idx[a] = keepDims ? o[a]! : o[j]!));
    axes.forEach((a) => (idx[a] = ridx[k++]!));
    return idx;
  };
  return { outShape, nRed: numel(redShape), inputIndex };
}

/** Reduce over `axes` (all when undefined); arg ops index the row-major reduced subspace. */
export function refReduce(op: RefReduceOp, x: Arr, axes?: number | readonly number[], keepDims = false): Arr {
  const ax = normalizeAxes(axes, x.shape.length);
  const { outShape, nRed, inputIndex } = split(x, ax, keepDims);
  return build(outShape, (o) => {
    let acc = op === 'max' || op === 'argmax' ? -Infinity : op === 'min' || op === 'argmin' ? Infinity : 0;
    let at = 0;
    for (let r = 0; r < nRed; r++) {
      const v = get(x, inputIndex(o, r));
      if (op === 'sum' || op === 'mean') acc += v;
      else if ((op === 'max' || op === 'argmax') && v > acc) [acc, at] = [v, r];
      else if ((op === 'min' || op === 'argmin') && v < acc) [acc, at] = [v, r];
    }
    if (op === 'mean') return acc / nRed;
    return op === 'argmax' || op === 'argmin' ? at : acc;
  });
}

/** Variance with `correction` (1: Bessel, as torch.var's default). */
export function refVariance(
  x: Arr,
  axes: number | readonly number[] | undefined,
  correction = 1,
  keepDims = false,
): Arr {
  const ax = normalizeAxes(axes, x.shape.length);
  const { outShape, nRed, inputIndex } = split(x, ax, keepDims);
  return build(outShape, (o) => {
    let m = 0;
    for (let r = 0; r < nRed; r++) m += get(x, inputIndex(o, r));
    m /= nRed;
    let s = 0;
    for (let r = 0; r < nRed; r++) s += (get(x, inputIndex(o, r)) - m) ** 2;
    return s / Math.max(0, nRed - correction);
  });
}

/** For each output, the sum of |x| over its reduced elements (scales f32 tolerances). */
export function refAbsSum(x: Arr, axes?: number | readonly number[], keepDims = false): Arr {
  return refReduce('sum', { shape: x.shape, data: x.data.map(Math.abs) }, axes, keepDims);
}
