/**
 * Where a model looks, per class: the mean over films of each film's Grad-CAM map (scaled to its
 * own maximum first, so every film weighs the same) and the mean of the films themselves, both at
 * the network's input size. Overlaying one on the other shows the regions that carry a class's
 * evidence across the set, e.g. whether the neck or the breast shadow matters (the paper's guess).
 */
import type { Image } from '@spine/imaging';
import { heatOnImage, scaleToMax, upsampleBilinear, type OverlayOptions } from './heatmap.js';

export interface ClassAverage {
  classIndex: number;
  films: number;
  width: number;
  height: number;
  /** Mean scaled map, width*height. */
  map: Float32Array;
  /** Mean grey film in [0, 1], width*height. */
  film: Float32Array;
}

export class CamAverager {
  private readonly sums = new Map<number, { n: number; map: Float64Array; film: Float64Array }>();

  /** width x height: the network input size (maps are upsampled to it). */
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  /** Adds one film: its map [h, w] for `classIndex` and its grey input plane (width*height, in [0, 1]). */
  add(classIndex: number, map: ArrayLike<number>, h: number, w: number, grey: ArrayLike<number>): void {
    const n = this.width * this.height;
    if (grey.length !== n) throw new RangeError(`CamAverager: grey plane of ${grey.length} values, expected ${this.width}x${this.height}`);
    let s = this.sums.get(classIndex);
    if (!s) this.sums.set(classIndex, (s = { n: 0, map: new Float64Array(n), film: new Float64Array(n) }));
    const up = upsampleBilinear(scaleToMax(map), h, w, this.height, this.width);
    for (let i = 0; i < n; i++) {
      s.map[i] += up[i]!;
      s.film[i] += grey[i]!;
    }
    s.n++;
  }

  /** One average per class seen, by class index. */
  averages(): ClassAverage[] {
    return [...this.sums.entries()]
      .sort(([a], [b]) => a - b)
      .map(([classIndex, s]) => ({
        classIndex,
        films: s.n,
        width: this.width,
        height: this.height,
        map: Float32Array.from(s.map, (v) => v / s.n),
        film: Float32Array.from(s.film, (v) => v / s.n),
      }));
  }
}

/** The class's mean map over its mean film, enlarged to options.maxSide (default 384) on the longer side. */
export function classAverageOverlay(avg: ClassAverage, options: OverlayOptions = {}): Image {
  const side = options.maxSide ?? 384;
  const s = side / Math.max(avg.width, avg.height);
  const w = Math.max(1, Math.round(avg.width * s));
  const h = Math.max(1, Math.round(avg.height * s));
  const film = upsampleBilinear(avg.film, avg.height, avg.width, h, w);
  return heatOnImage({ width: w, height: h, channels: 1, data: film, bitDepth: 8 }, avg.map, avg.height, avg.width, options);
}
