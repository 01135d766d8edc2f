// A minimal float64 n-d array for the CPU reference: row-major data plus a shape. Every
// reference op is written against multi-indices (slow, obvious), never against the engine's
// own stride tricks, so a shared mistake cannot hide.

export interface Arr {
  shape: number[];
  data: Float64Array;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function arr(shape: readonly number[], data: ArrayLike<number>): Arr {
  if (data.length !== numel(shape)) throw new Error(`arr: ${data.length} values for shape [${shape.join(', ')}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + idx[i]!;
  return flat;
}

export function get(a: Arr, idx: readonly number[]): number {
  return a.data[ravel(idx, a.shape)]!;
}

/** Build an array of `shape` whose element at each multi-index is `fn(index)`. */
export function build(shape: readonly number[], fn: (idx: number[]) => number): Arr {
  const n = numel(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = fn(unravel(i, shape));
  return { shape: [...shape], data };
}

/** NumPy broadcasting of shapes. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    s.forEach((d, i) => {
      const o = rank - s.length + i;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) throw new Error(`broadcast: [${shapes.map((x) => x.join(',')).join('] [')}]`);
    });
  }
  return out;
}

/** The element of `a` that broadcasting reads for output index `idx`. */
export function getBroadcast(a: Arr, idx: readonly number[]): number {
  const lead = idx.length - a.shape.length;
  const own = a.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i]!));
  return get(a, own);
}

export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((x, y) => x - y);
}

export function mapArr(a: Arr, fn: (v: number) => number): Arr {
  return { shape: [...a.shape], data: a.data.map(fn) };
}
