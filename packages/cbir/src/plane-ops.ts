/**
 * Resize and crop on 8-bit grey planes. The crop pipeline stays in bytes from decode to encode:
 * on a full cervical film (2.6 Mpixel) a float copy per step costs as much as the PHOG itself.
 */
import { resampleTaps } from '@spine/imaging';
import { CbirError } from './errors.js';
import type { GreyPlane } from './grey.js';
import type { PixelBox } from './phog.js';

/** Resamples a grey plane to width x height (rows, then columns), rounding to bytes at the end. */
export function resizePlane(plane: GreyPlane, width: number, height: number): GreyPlane {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new CbirError('<memory>', `cannot resize to ${width}x${height}`);
  const { width: sw, height: sh, data } = plane;
  if (sw === width && sh === height) return { width, height, data: data.slice() };
  // @spine/imaging's taps (area averaging when shrinking, bilinear when enlarging), float64.
  const tx = resampleTaps(sw, width);
  const ty = resampleTaps(sh, height);
  const mid = new Float64Array(sh * width);
  for (let y = 0; y < sh; y++) {
    const rowIn = y * sw;
    const rowOut = y * width;
    for (let x = 0; x < width; x++) {
      const s = tx.start[x]!;
      const e = s + tx.count[x]!;
      let acc = 0;
      for (let t = s; t < e; t++) acc += data[rowIn + tx.index[t]!]! * tx.weight[t]!;
      mid[rowOut + x] = acc;
    }
  }
  const acc = new Float64Array(width);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    const s = ty.start[y]!;
    const e = s + ty.count[y]!;
    for (let t = s; t < e; t++) {
      const w = ty.weight[t]!;
      const r = ty.index[t]! * width;
      for (let x = 0; x < width; x++) acc[x] += mid[r + x]! * w;
    }
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const v = Math.round(acc[x]!);
      out[o + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, data: out };
}

/** Cuts `box` out of the plane; the parts outside it are `fill` (default 0). */
export function cropPlane(plane: GreyPlane, box: PixelBox, fill = 0): GreyPlane {
  const { x: x0, y: y0, width: w, height: h } = box;
  if (![x0, y0, w, h].every(Number.isInteger) || w < 1 || h < 1)
    throw new CbirError('<memory>', `crop box must be integers with positive size, got ${w}x${h} at (${x0}, ${y0})`);
  const out = new Uint8Array(w * h);
  if (fill !== 0) out.fill(fill);
  const xs = Math.max(0, x0);
  const xe = Math.min(plane.width, x0 + w);
  if (xe > xs) {
    for (let y = Math.max(0, y0); y < Math.min(plane.height, y0 + h); y++) {
      const src = y * plane.width;
      out.set(plane.data.subarray(src + xs, src + xe), (y - y0) * w + (xs - x0));
    }
  }
  return { width: w, height: h, data: out };
}
