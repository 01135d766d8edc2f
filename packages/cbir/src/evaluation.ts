/**
 * How well a transferred ROI agrees with a known one (synthetic films know their true spine box):
 * centre error, intersection over union, and how much of the true box the crop square keeps.
 */
import type { PixelBox } from './phog.js';

/** Area of a ∩ b over area of a ∪ b (0 when they do not meet). */
export function iou(a: PixelBox, b: PixelBox): number {
  const inter = intersection(a, b);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Fraction of `truth`'s area that lies inside `box` (1 = the crop keeps the whole spine box). */
export function containment(box: PixelBox, truth: PixelBox): number {
  const area = truth.width * truth.height;
  return area > 0 ? intersection(box, truth) / area : 0;
}

/** Euclidean distance between the boxes' centres, in pixels. */
export function centreDistance(a: PixelBox, b: PixelBox): number {
  return Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2));
}

function intersection(a: PixelBox, b: PixelBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

export interface Distribution {
  n: number;
  mean: number;
  min: number;
  p10: number;
  median: number;
  p90: number;
  max: number;
}

/** Summary of a sample; percentiles by linear interpolation between order statistics (numpy's default). */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { n: 0, mean: NaN, min: NaN, p10: NaN, median: NaN, p90: NaN, max: NaN };
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => {
    const pos = p * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0]!,
    p10: q(0.1),
    median: q(0.5),
    p90: q(0.9),
    max: s[s.length - 1]!,
  };
}
