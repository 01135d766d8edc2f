import { type Image } from '../image.js';
import { toRgb } from './convert.js';
import { resize } from './resize.js';

export type ColormapName = 'jet' | 'viridis' | 'inferno' | 'grey';

/** Control points (t, r, g, b) sampled from matplotlib's maps; linear interpolation between them. */
const STOPS: Record<ColormapName, readonly (readonly number[])[]> = {
  grey: [
    [0, 0, 0, 0],
    [1, 1, 1, 1],
  ],
  jet: [
    [0, 0, 0, 0.5],
    [0.11, 0, 0, 1],
    [0.125, 0, 0, 1],
    [0.34, 0, 0.86, 1],
    [0.35, 0, 0.9, 0.97],
    [0.375, 0.03, 1, 0.94],
    [0.64, 0.97, 1, 0],
    [0.66, 1, 0.91, 0],
    [0.89, 1, 0, 0],
    [1, 0.5, 0, 0],
  ],
  viridis: [
    [0, 0.267, 0.005, 0.329],
    [0.125, 0.283, 0.141, 0.458],
    [0.25, 0.254, 0.265, 0.53],
    [0.375, 0.207, 0.372, 0.553],
    [0.5, 0.164, 0.471, 0.558],
    [0.625, 0.128, 0.567, 0.551],
    [0.75, 0.135, 0.659, 0.518],
    [0.875, 0.478, 0.821, 0.318],
    [1, 0.993, 0.906, 0.144],
  ],
  inferno: [
    [0, 0.001, 0, 0.014],
    [0.125, 0.087, 0.044, 0.224],
    [0.25, 0.258, 0.039, 0.406],
    [0.375, 0.416, 0.09, 0.433],
    [0.5, 0.578, 0.148, 0.404],
    [0.625, 0.736, 0.216, 0.33],
    [0.75, 0.865, 0.317, 0.226],
    [0.875, 0.969, 0.557, 0.035],
    [1, 0.988, 0.998, 0.645],
  ],
};

/** RGB in [0, 1] for t in [0, 1] (clamped). */
export function colormap(name: ColormapName, t: number): [number, number, number] {
  const stops = STOPS[name];
  const v = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  let i = 1;
  while (i < stops.length - 1 && stops[i]![0]! < v) i++;
  const a = stops[i - 1]!;
  const b = stops[i]!;
  const f = b[0]! > a[0]! ? (v - a[0]!) / (b[0]! - a[0]!) : 0;
  return [a[1]! + (b[1]! - a[1]!) * f, a[2]! + (b[2]! - a[2]!) * f, a[3]! + (b[3]! - a[3]!) * f];
}

export interface HeatmapOptions {
  colormap?: ColormapName;
  /** Opacity of the heat map at full heat (default 0.5). */
  alpha?: number;
  /** Scale the heat map's own min..max to 0..1 first (default true, as Grad-CAM maps are unscaled). */
  normalise?: boolean;
}

/**
 * Overlays a one-channel heat map (any size; it is resized to the base) on a base image, returning
 * RGB. Used for Grad-CAM figures: the film stays visible where heat is low.
 */
export function blendHeatmap(base: Image, heat: Image, options: HeatmapOptions = {}): Image {
  const name = options.colormap ?? 'jet';
  const alpha = options.alpha ?? 0.5;
  const rgb = toRgb(base);
  const h1 =
    heat.channels === 1
      ? heat
      : { ...heat, channels: 1 as const, data: heat.data.filter((_, i) => i % heat.channels === 0) };
  const hm = h1.width === base.width && h1.height === base.height ? h1 : resize(h1, base.width, base.height);
  let lo = 0;
  let hi = 1;
  if (options.normalise ?? true) {
    lo = Infinity;
    hi = -Infinity;
    for (const v of hm.data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const out = new Float32Array(rgb.data.length);
  for (let i = 0; i < hm.data.length; i++) {
    const t = (hm.data[i]! - lo) * scale;
    const [r, g, b] = colormap(name, t);
    const o = 3 * i;
    out[o] = rgb.data[o]! * (1 - alpha) + r * alpha;
    out[o + 1] = rgb.data[o + 1]! * (1 - alpha) + g * alpha;
    out[o + 2] = rgb.data[o + 2]! * (1 - alpha) + b * alpha;
  }
  return { width: base.width, height: base.height, channels: 3, data: out, bitDepth: 8 };
}
