// float64 references of the data-movement ops, written from PyTorch/Python semantics.
import { broadcastShapes, build, get, getBroadcast, numel, type Arr } from './ndarray.js';

export function refReshape(x: Arr, shape: readonly number[]): Arr {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) s[infer] = numel(x.shape) / numel(s.filter((_, i) => i !== infer));
  return { shape: s, data: x.data.slice() };
}

export function refPermute(x: Arr, dims: readonly number[]): Arr {
  const d = dims.map((a) => (a < 0 ? a + x.shape.length : a));
  return build(
    d.map((a) => x.shape[a]!),
    (idx) => {
      const src = new Array<number>(d.length);
      d.forEach((a, i) => (src[a] = idx[i]!));
      return get(x, src);
    },
  );
}

export function refTranspose(x: Arr, a = -2, b = -1): Arr {
  const r = x.shape.length;
  const dims = Array.from({ length: r }, (_, i) => i);
  const i = a < 0 ? a + r : a;
  const j = b < 0 ? b + r : b;
  [dims[i], dims[j]] = [dims[j]!, dims[i]!];
  return refPermute(x, dims);
}

/** Python slice semantics for positive steps: negative indices count from the end, bounds clamp. */
export function refSlice(x: Arr, ranges: readonly (readonly [number, number?, number?] | null)[]): Arr {
  const starts: number[] = [];
  const steps: number[] = [];
  const shape = x.shape.map((dim, i) => {
    const r = ranges[i];
    const norm = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = r ? norm(r[0]) : 0;
    const end = r && r[1] !== undefined ? norm(r[1]) : dim;
    const step = r?.[2] ?? 1;
    starts.push(start);
    steps.push(step);
    return Math.max(0, Math.ceil((end - start) / step));
  });
  return build(shape, (idx) =>
    get(
      x,
      idx.map((v, i) => starts[i]! + v * steps[i]!),
    ),
  );
}

export function refConcat(xs: readonly Arr[], axis = 0): Arr {
  const a = axis < 0 ? axis + xs[0]!.shape.length : axis;
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  return build(shape, (idx) => {
    let at = idx[a]!;
    for (const x of xs) {
      if (at < x.shape[a]!)
        return get(
          x,
          idx.map((v, d) => (d === a ? at : v)),
        );
      at -= x.shape[a]!;
    }
    throw new Error('refConcat: index out of range');
  });
}

export function refStack(xs: readonly Arr[], axis = 0): Arr {
  const r = xs[0]!.shape.length;
  const a = axis < 0 ? axis + r + 1 : axis;
  const parts = xs.map((x) => refReshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]));
  return refConcat(parts, a);
}

export function refPad(x: Arr, pads: readonly (readonly [number, number])[], value = 0): Arr {
  const p = x.shape.map((_, i) => pads[i] ?? ([0, 0] as const));
  const shape = x.shape.map((d, i) => d + p[i]![0] + p[i]![1]);
  return build(shape, (idx) => {
    const src = idx.map((v, i) => v - p[i]![0]);
    return src.every((v, i) => v >= 0 && v < x.shape[i]!) ? get(x, src) : value;
  });
}

export function refExpand(x: Arr, shape: readonly number[]): Arr {
  const target = broadcastShapes(x.shape, shape);
  return build(target, (idx) => getBroadcast(x, idx));
}

export function refArange(start: number, end: number, step = 1): Arr {
  const n = Math.max(0, Math.ceil((end - start) / step));
  return build([n], ([i]) => start + i! * step);
}
