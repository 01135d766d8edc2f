import type { Image } from '../image.js';

/** Linearly stretches all samples so the minimum becomes 0 and the maximum 1 (flat -> 0). */
export function normaliseMinMax(image: Image): Image {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  return { ...image, data: image.data.map((v) => (v - lo) * scale) };
}

/**
 * Per-channel (x - mean) / std, e.g. ImageNet's mean (0.485, 0.456, 0.406) and std
 * (0.229, 0.224, 0.225) for pretrained DenseNet. A single value applies to every channel.
 */
export function standardise(image: Image, mean: readonly number[], std: readonly number[]): Image {
  const c = image.channels;
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) {
    const ch = i % c;
    const m = mean[mean.length === 1 ? 0 : ch] ?? 0;
    const s = std[std.length === 1 ? 0 : ch] ?? 1;
    out[i] = (image.data[i]! - m) / s;
  }
  return { ...image, data: out };
}

/** The p-th percentile (0-100) of all samples, by linear interpolation between order statistics. */
export function percentile(data: Float32Array, p: number): number {
  if (data.length === 0) return NaN;
  const sorted = Float32Array.from(data).sort();
  const pos = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return sorted[i]! + (i + 1 < sorted.length ? (sorted[i + 1]! - sorted[i]!) * f : 0);
}

/**
 * Clips to the [low, high] percentiles and stretches that range to [0, 1]: the robust way to
 * display a film whose unexposed borders or burned-out markers would dominate a min-max stretch.
 */
export function percentileWindow(image: Image, low = 1, high = 99): Image {
  const lo = percentile(image.data, low);
  const hi = percentile(image.data, high);
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  return { ...image, data: image.data.map((v) => Math.min(1, Math.max(0, (v - lo) * scale))) };
}

/**
 * Histogram equalisation over `bins` levels of [0, 1] (each channel separately): maps each sample
 * to its cumulative frequency, spreading the crowded mid-greys of an under-exposed film.
 */
export function equaliseHistogram(image: Image, bins = 256): Image {
  const c = image.channels;
  const out = new Float32Array(image.data.length);
  const n = image.width * image.height;
  for (let ch = 0; ch < c; ch++) {
    const hist = new Float64Array(bins);
    const bin = (v: number): number => Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
    for (let i = 0; i < n; i++) hist[bin(image.data[i * c + ch]!)]!++;
    // Standard mapping: (cdf - cdf_min) / (n - cdf_min), so the darkest level stays 0.
    let cdfMin = 0;
    for (let b = 0; b < bins; b++) {
      if (hist[b]! > 0) {
        cdfMin = hist[b]!;
        break;
      }
    }
    const lut = new Float32Array(bins);
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      acc += hist[b]!;
      lut[b] = n > cdfMin ? Math.max(0, (acc - cdfMin) / (n - cdfMin)) : 0;
    }
    for (let i = 0; i < n; i++) out[i * c + ch] = lut[bin(image.data[i * c + ch]!)]!;
  }
  return { ...image, data: out };
}
