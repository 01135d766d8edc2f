/**
 * Where a model looks, per class: the mean over films of each film's Grad-CAM map (scaled to its
 * own maximum first, so every film weighs the same) and the mean of the films themselves, both at
 * the network's input size, and the films' median aspect. The figure puts the mean film beside the
 * mean map drawn over it, both at that aspect, so the anatomy under the heat is plain to see: the
 * regions that carry a class's evidence across the set, e.g. whether the neck or the breast shadow
 * matters (the paper's guess).
 */
import { colormap, type Image } from '@spine/imaging';
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
  /** Median width / height of the films as the network saw them (a stretched input's film keeps its own). */
  aspect: number;
}

export class CamAverager {
  private readonly sums = new Map<number, { n: number; map: Float64Array; film: Float64Array; aspects: number[] }>();

  /** width x height: the network input size (maps are upsampled to it). */
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  /**
   * Adds one film: its map [h, w] for `classIndex`, its grey input plane (width*height, in [0, 1])
   * and its undistorted width / height (`FileCam.aspect`; default: the input's).
   */
  add(
    classIndex: number,
    map: ArrayLike<number>,
    h: number,
    w: number,
    grey: ArrayLike<number>,
    aspect = this.width / this.height,
  ): void {
    const n = this.width * this.height;
    if (grey.length !== n)
      throw new RangeError(`CamAverager: grey plane of ${grey.length} values, expected ${this.width}x${this.height}`);
    if (!(aspect > 0 && Number.isFinite(aspect)))
      throw new RangeError(`CamAverager: aspect must be a positive number, got ${aspect}`);
    let s = this.sums.get(classIndex);
    if (!s) this.sums.set(classIndex, (s = { n: 0, map: new Float64Array(n), film: new Float64Array(n), aspects: [] }));
    s.aspects.push(aspect);
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
        aspect: median(s.aspects),
      }));
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface ClassAverageFigureOptions extends Pick<OverlayOptions, 'alpha' | 'colormap'> {
  /** Height of each panel, or its width where the films are wider than high (default 384). */
  maxSide?: number;
  /** Heat levels (of the map scaled to its maximum) outlined on the mean film (default 0.5 and 0.8). */
  contours?: readonly number[];
}

/**
 * The class average as a figure: two panels at the films' median aspect, the mean film on the left
 * and the mean map over it on the right (heat at `alpha`, default 0.45), a white gap between
 * them. The left panel is the mean film itself (upsampled) with only the `contours` of the heat
 * drawn on it, thin lines in the colour map's colour of their level, so the anatomy the
 * evidence sits on stays in plain view. Returns RGB.
 */
export function classAverageOverlay(avg: ClassAverage, options: ClassAverageFigureOptions = {}): Image {
  const side = options.maxSide ?? 384;
  const h = Math.max(1, Math.round(avg.aspect > 1 ? side / avg.aspect : side));
  const w = Math.max(1, Math.round(h * avg.aspect));
  const film = upsampleBilinear(avg.film, avg.height, avg.width, h, w);
  const overlay = heatOnImage(
    { width: w, height: h, channels: 1, data: film, bitDepth: 8 },
    avg.map,
    avg.height,
    avg.width,
    options,
  );
  const heat = upsampleBilinear(scaleToMax(avg.map), avg.height, avg.width, h, w);
  const levels = [...(options.contours ?? [0.5, 0.8])].sort((a, b) => b - a);
  const gap = Math.max(2, Math.round(side / 48));
  // Two pixels at the report's 384 px, so a line survives the page scaling the picture down.
  const line = Math.max(1, Math.round(side / 256));
  const width = 2 * w + gap;
  const out = new Float32Array(3 * width * h).fill(1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const o = 3 * (y * width + x);
      const level = levels.find((l) => onContour(heat, w, h, x, y, l, line));
      const [r, g, b] =
        level === undefined ? [film[i]!, film[i]!, film[i]!] : colormap(options.colormap ?? 'jet', level);
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      const q = 3 * (y * width + w + gap + x);
      out[q] = overlay.data[3 * i]!;
      out[q + 1] = overlay.data[3 * i + 1]!;
      out[q + 2] = overlay.data[3 * i + 2]!;
    }
  }
  return { width, height: h, channels: 3, data: out, bitDepth: 8 };
}

/** Whether (x, y) is on the inner edge, `line` pixels wide, of the region where heat >= level: inside, with a pixel outside at most `line` away along a row or column. */
function onContour(
  heat: ArrayLike<number>,
  w: number,
  h: number,
  x: number,
  y: number,
  level: number,
  line: number,
): boolean {
  if (heat[y * w + x]! < level) return false;
  for (let d = 1; d <= line; d++) {
    if (
      (x >= d && heat[y * w + x - d]! < level) ||
      (x + d < w && heat[y * w + x + d]! < level) ||
      (y >= d && heat[(y - d) * w + x]! < level) ||
      (y + d < h && heat[(y + d) * w + x]! < level)
    )
      return true;
  }
  return false;
}
