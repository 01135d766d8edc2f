/**
 * Canny edge detection as MATLAB's `edge(I, 'canny')` computes it (Image Processing Toolbox,
 * R2011a and later), with its defaults: sigma sqrt(2); a derivative-of-Gaussian gradient from
 * separable 1-D kernels applied by `imfilter(..., 'conv', 'replicate')`; magnitude normalised by
 * its maximum; the high threshold from a 64-bin `imhist` at the first bin whose cumulative count
 * exceeds 70% of the pixels (bin / 64), low = 0.4 x high; non-maximum suppression by linear
 * interpolation in four direction sectors (MATLAB's `cannyFindLocalMaxima`), border pixels
 * excluded; hysteresis as `bwselect(weak, strong, 8)`.
 *
 * Arithmetic is float64 throughout (MATLAB works in single precision after `im2single`); every
 * sum runs over the taps in a fixed order, so the numpy port that produces our goldens
 * (scripts/make-phog-golden.py) gives bit-identical edge maps. A different summation order would
 * flip the odd tie in non-maximum suppression, which moves PHOG values by more than 1e-5.
 */
import type { GreyPlane } from './grey.js';

export interface CannyOptions {
  /** Standard deviation of the Gaussian (MATLAB default sqrt(2)). */
  sigma?: number;
  /** [low, high] on the normalised magnitude; default from the 70th percentile as MATLAB does. */
  thresholds?: readonly [number, number];
}

export interface CannyResult {
  /** 1 on edge pixels, 0 elsewhere; row-major like the input. */
  edges: Uint8Array;
  /** The thresholds used, on the magnitude normalised to [0, 1]. */
  low: number;
  high: number;
}

const PERCENT_NOT_EDGES = 0.7;
const THRESHOLD_RATIO = 0.4;
const HIST_BINS = 64;

/**
 * MATLAB's smoothGradient kernels: a Gaussian of extent ceil(4 sigma) normalised to sum 1, and its
 * central-difference derivative with the positive and negative halves each normalised to sum 1.
 */
export function cannyKernels(sigma: number): { gauss: Float64Array; deriv: Float64Array } {
  if (!(sigma > 0) || !Number.isFinite(sigma))
    throw new RangeError(`Canny sigma must be a positive number, got ${sigma}`);
  const extent = Math.ceil(4 * sigma);
  const n = 2 * extent + 1;
  const gauss = new Float64Array(n);
  const c = 1 / (Math.sqrt(2 * Math.PI) * sigma);
  for (let i = 0; i < n; i++) {
    const x = i - extent;
    gauss[i] = c * Math.exp(-(x * x) / (2 * sigma * sigma));
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += gauss[i]!;
  for (let i = 0; i < n; i++) gauss[i] = gauss[i]! / sum;
  const deriv = new Float64Array(n);
  deriv[0] = gauss[1]! - gauss[0]!;
  deriv[n - 1] = gauss[n - 1]! - gauss[n - 2]!;
  for (let i = 1; i < n - 1; i++) deriv[i] = (gauss[i + 1]! - gauss[i - 1]!) / 2;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < n; i++) {
    const v = deriv[i]!;
    if (v > 0) pos += v;
    else if (v < 0) neg += v;
  }
  for (let i = 0; i < n; i++) {
    const v = deriv[i]!;
    if (v > 0) deriv[i] = v / pos;
    else if (v < 0) deriv[i] = v / Math.abs(neg);
  }
  return { gauss, deriv };
}

/**
 * out(x) = sum_j h[j] * in(clamp(x + e - j)) along rows: convolution (kernel flipped) with
 * replicated borders, taps summed in order j = 0..n-1.
 */
function convolveRows(src: Float64Array, width: number, height: number, h: Float64Array, dst: Float64Array): void {
  const n = h.length;
  const e = (n - 1) >> 1;
  const padded = new Float64Array(width + 2 * e);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let i = 0; i < padded.length; i++) {
      const x = i - e;
      padded[i] = src[row + (x < 0 ? 0 : x >= width ? width - 1 : x)]!;
    }
    for (let x = 0; x < width; x++) {
      // in(x + e - j) sits at padded[x + 2e - j].
      let acc = 0;
      const base = x + 2 * e;
      for (let j = 0; j < n; j++) acc += h[j]! * padded[base - j]!;
      dst[row + x] = acc;
    }
  }
}

/** The same along columns, accumulated a row at a time (cache-friendly), same tap order. */
function convolveColumns(src: Float64Array, width: number, height: number, h: Float64Array, dst: Float64Array): void {
  const n = h.length;
  const e = (n - 1) >> 1;
  for (let y = 0; y < height; y++) {
    const out = y * width;
    for (let x = 0; x < width; x++) dst[out + x] = 0;
    for (let j = 0; j < n; j++) {
      let sy = y + e - j;
      sy = sy < 0 ? 0 : sy >= height ? height - 1 : sy;
      const hj = h[j]!;
      const row = sy * width;
      for (let x = 0; x < width; x++) dst[out + x] += hj * src[row + x]!;
    }
  }
}

/** MATLAB's default thresholds: 64-bin imhist of the normalised magnitude (bin = floor(63 v + 0.5)). */
function defaultThresholds(mag: Float64Array): [number, number] {
  const counts = new Float64Array(HIST_BINS);
  for (let i = 0; i < mag.length; i++) {
    const z = Math.floor(mag[i]! * (HIST_BINS - 1) + 0.5);
    counts[z < 0 ? 0 : z > HIST_BINS - 1 ? HIST_BINS - 1 : z]!++;
  }
  const target = PERCENT_NOT_EDGES * mag.length;
  let cum = 0;
  let k = HIST_BINS;
  for (let i = 0; i < HIST_BINS; i++) {
    cum += counts[i]!;
    if (cum > target) {
      k = i + 1;
      break;
    }
  }
  const high = k / HIST_BINS;
  return [THRESHOLD_RATIO * high, high];
}

/** Canny edges of an 8-bit grey plane, as MATLAB's edge(G, 'canny'). */
export function cannyEdges(grey: GreyPlane, options: CannyOptions = {}): CannyResult {
  const { width, height, data } = grey;
  const n = width * height;
  const { gauss, deriv } = cannyKernels(options.sigma ?? Math.SQRT2);
  // im2single: 0..255 -> 0..1 (the scale cancels in the normalised magnitude, but keeps ties as MATLAB's).
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = data[i]! / 255;
  const tmp = new Float64Array(n);
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  convolveColumns(a, width, height, gauss, tmp);
  convolveRows(tmp, width, height, deriv, dx);
  convolveRows(a, width, height, gauss, tmp);
  convolveColumns(tmp, width, height, deriv, dy);
  const mag = tmp;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const m = Math.sqrt(dx[i]! * dx[i]! + dy[i]! * dy[i]!);
    mag[i] = m;
    if (m > max) max = m;
  }
  if (max > 0) for (let i = 0; i < n; i++) mag[i] = mag[i]! / max;
  const [low, high] = options.thresholds ?? defaultThresholds(mag);
  const edges = new Uint8Array(n);
  // Strong pixels seed the hysteresis; weak ones (value 2 until reached) can only join through them.
  const stack = new Int32Array(n);
  let top = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const m = mag[i]!;
      if (!(m > low)) continue;
      if (isLocalMax(mag, dx[i]!, dy[i]!, i, width, m)) {
        edges[i] = 2;
        if (m > high) stack[top++] = i;
      }
    }
  }
  for (let s = 0; s < top; s++) edges[stack[s]!] = 1;
  while (top > 0) {
    const i = stack[--top]!;
    const y = (i / width) | 0;
    const x = i - y * width;
    for (let yy = y - 1; yy <= y + 1; yy++) {
      if (yy < 0 || yy >= height) continue;
      for (let xx = x - 1; xx <= x + 1; xx++) {
        if (xx < 0 || xx >= width) continue;
        const j = yy * width + xx;
        if (edges[j] === 2) {
          edges[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) if (edges[i] === 2) edges[i] = 0;
  return { edges, low, high };
}

/**
 * MATLAB's cannyFindLocalMaxima for one interior pixel: the sector of the gradient (ix, iy) picks
 * two neighbour pairs; the magnitude is interpolated on each side and the pixel must be >= both.
 * MATLAB is column-major: its idx+m is (x+1, y), idx-1 is (x, y-1). A zero gradient is in no sector.
 */
function isLocalMax(mag: Float64Array, ix: number, iy: number, i: number, w: number, m: number): boolean {
  let g1: number;
  let g2: number;
  if ((iy <= 0 && ix > -iy) || (iy >= 0 && ix < -iy)) {
    const d = Math.abs(iy / ix);
    g1 = mag[i + 1]! * (1 - d) + mag[i + 1 - w]! * d;
    g2 = mag[i - 1]! * (1 - d) + mag[i - 1 + w]! * d;
    if (m >= g1 && m >= g2) return true;
  }
  if ((ix > 0 && -iy >= ix) || (ix < 0 && -iy <= ix)) {
    const d = Math.abs(ix / iy);
    g1 = mag[i - w]! * (1 - d) + mag[i + 1 - w]! * d;
    g2 = mag[i + w]! * (1 - d) + mag[i - 1 + w]! * d;
    if (m >= g1 && m >= g2) return true;
  }
  if ((ix <= 0 && ix > iy) || (ix >= 0 && ix < iy)) {
    const d = Math.abs(ix / iy);
    g1 = mag[i - w]! * (1 - d) + mag[i - 1 - w]! * d;
    g2 = mag[i + w]! * (1 - d) + mag[i + 1 + w]! * d;
    if (m >= g1 && m >= g2) return true;
  }
  if ((iy < 0 && ix <= iy) || (iy > 0 && ix >= iy)) {
    const d = Math.abs(iy / ix);
    g1 = mag[i - 1]! * (1 - d) + mag[i - 1 - w]! * d;
    g2 = mag[i + 1]! * (1 - d) + mag[i + 1 + w]! * d;
    if (m >= g1 && m >= g2) return true;
  }
  return false;
}
