import type { Image } from '../image.js';
import type { Rect } from './geometry.js';

/**
 * Draws a rectangle outline in place (`thickness` pixels inward from the rectangle's edge) and
 * returns the same image. `color` has one value per channel, or one value for all; parts outside
 * the image are clipped.
 */
export function drawRect(image: Image, rect: Rect, color: number | readonly number[], thickness = 1): Image {
  const { width: w, height: h, channels: c, data } = image;
  const col = typeof color === 'number' ? [color] : color;
  const x0 = Math.round(rect.x);
  const y0 = Math.round(rect.y);
  const x1 = x0 + Math.round(rect.width); // exclusive
  const y1 = y0 + Math.round(rect.height);
  const t = Math.max(1, Math.round(thickness));
  const put = (x: number, y: number): void => {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    const o = (y * w + x) * c;
    for (let ch = 0; ch < c; ch++) data[o + ch] = col[col.length === 1 ? 0 : ch] ?? col[0]!;
  };
  for (let y = y0; y < y1; y++) {
    const edgeRow = y < y0 + t || y >= y1 - t;
    for (let x = x0; x < x1; x++) {
      if (edgeRow || x < x0 + t || x >= x1 - t) put(x, y);
    }
  }
  return image;
}

/** Fills a rectangle in place (clipped to the image). */
export function fillRect(image: Image, rect: Rect, color: number | readonly number[]): Image {
  return drawRect(image, rect, color, Math.max(rect.width, rect.height));
}
