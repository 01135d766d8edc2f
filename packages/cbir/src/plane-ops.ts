/**
 * Resize and crop on 8-bit grey planes. The crop pipeline stays in bytes from decode to encode:
 * on a full cervical film (2.6 Mpixel) a float copy per step costs as much as the PHOG itself.
 */
import { CbirError } from './errors.js';
import type { GreyPlane } from './grey.js';
import type { PixelBox } from './phog.js';

/** Source taps and weights for one axis: exact area averaging when shrinking, bilinear (half-pixel centres) when enlarging, as @spine/imaging's resize. */
function axisTaps(src: number, dst: number): { start: Int32Array; count: Int32Array; index: Int32Array; weight: Float64Array } {
  const scale = src / dst;
  const idx: number[] = [];
  const wts: number[] = [];
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  for (let i = 0; i < dst; i++) {
    start[i] = idx.length;
    if (scale <= 1) {
      const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), src - 1);
      const x0 = Math.floor(x);
      idx.push(x0, Math.min(x0 + 1, src - 1));
      wts.push(1 - (x - x0), x - x0);
    } else {
      const a = i * scale;
      const b = Math.min((i + 1) * scale, src);
      for (let s = Math.floor(a); s < b; s++) {
        const overlap = Math.min(b, s + 1) - Math.max(a, s);
        if (overlap > 1e-9) {
          idx.push(s);
          wts.push(overlap / (b - a));
        }
      }
    }
    count[i] = idx.length - start[i]!;
  }
  return { start, count, index: Int32Array.from(idx), weight: Float64Array.from(wts) };
}

/** Resamples a grey plane to width x height (rows, then columns), rounding to bytes at the end. */
export function resizePlane(plane: GreyPlane, width: number, height: number): GreyPlane {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new CbirError('<memory>', `cannot resize to ${width}x${height}`);
  const { width: sw, height: sh, data } = plane;
  if (sw === width && sh === height) return { width, height, data: data.slice() };
  const tx = axisTaps(sw, width);
  const ty = axisTaps(sh, height);
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
  if (![x0, y0, w, h].every(Number.isInteger) || w < 1 || h < 1) throw new CbirError('<memory>', `crop box must be integers with positive size, got ${w}x${h} at (${x0}, ${y0})`);
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
