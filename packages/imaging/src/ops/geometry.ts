import { checkDimensions, type Image } from '../image.js';

/** An axis-aligned rectangle in pixel coordinates (x, y = top-left corner). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Cuts `rect` out of the image; parts of the rectangle outside the image are filled with `fill`
 * (default 0, black). The CBIR step cuts a fixed 1400x1400 square around an ROI centre, which
 * often runs past the film's edge, so padding is the normal case, not an error.
 */
export function crop(image: Image, rect: Rect, fill = 0): Image {
  const x0 = Math.round(rect.x);
  const y0 = Math.round(rect.y);
  const w = Math.round(rect.width);
  const h = Math.round(rect.height);
  checkDimensions(w, h);
  const { width: sw, height: sh, channels: c, data } = image;
  const out = new Float32Array(w * h * c);
  if (fill !== 0) out.fill(fill);
  const xs = Math.max(0, x0);
  const xe = Math.min(sw, x0 + w);
  if (xe > xs) {
    for (let y = Math.max(0, y0); y < Math.min(sh, y0 + h); y++) {
      const src = (y * sw + xs) * c;
      out.set(data.subarray(src, src + (xe - xs) * c), ((y - y0) * w + (xs - x0)) * c);
    }
  }
  return { width: w, height: h, channels: c, data: out, bitDepth: image.bitDepth };
}

/** Mirror left-right ('horizontal') or top-bottom ('vertical'). */
export function flip(image: Image, direction: 'horizontal' | 'vertical'): Image {
  const { width: w, height: h, channels: c, data } = image;
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    const ty = direction === 'vertical' ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const tx = direction === 'horizontal' ? w - 1 - x : x;
      for (let ch = 0; ch < c; ch++) out[(ty * w + tx) * c + ch] = data[(y * w + x) * c + ch]!;
    }
  }
  return { ...image, data: out };
}

export interface RotateOptions {
  /** Value for pixels that come from outside the source (default 0). */
  fill?: number;
}

/**
 * Rotates counter-clockwise by `degrees` about the image centre, keeping the size (corners are
 * cut, uncovered areas take `fill`). Multiples of 90 degrees on a square image are exact; other
 * angles use bilinear sampling.
 */
export function rotate(image: Image, degrees: number, options: RotateOptions = {}): Image {
  const fill = options.fill ?? 0;
  const { width: w, height: h, channels: c, data } = image;
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const out = new Float32Array(data.length);
  const snap = Math.abs(degrees / 90 - Math.round(degrees / 90)) < 1e-9;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse map: where in the source does this output pixel come from? (y axis points down.)
      const dx = x - cx;
      const dy = y - cy;
      let sx = cx + cos * dx - sin * dy;
      let sy = cy + sin * dx + cos * dy;
      if (snap) {
        sx = Math.round(sx);
        sy = Math.round(sy);
      }
      const o = (y * w + x) * c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let ch = 0; ch < c; ch++) out[o + ch] = fill;
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      for (let ch = 0; ch < c; ch++) {
        const p = (xx: number, yy: number): number =>
          xx < 0 || yy < 0 || xx >= w || yy >= h ? fill : data[(yy * w + xx) * c + ch]!;
        const top = p(x0, y0) * (1 - fx) + (fx > 0 ? p(x0 + 1, y0) * fx : 0);
        const bottom = fy > 0 ? p(x0, y0 + 1) * (1 - fx) + (fx > 0 ? p(x0 + 1, y0 + 1) * fx : 0) : 0;
        out[o + ch] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { ...image, data: out };
}
