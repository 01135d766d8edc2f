/** @spine/imaging Images (float samples in [0, 1], grey or RGB) onto canvases. */
import type { Image } from '@spine/imaging';

export function drawImage(canvas: HTMLCanvasElement, image: Image): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas');
  const n = image.width * image.height;
  const rgba = new Uint8ClampedArray(4 * n);
  const c = image.channels;
  const d = image.data;
  for (let i = 0; i < n; i++) {
    // Uint8ClampedArray rounds and clamps; grey (and grey+alpha) fill all three colours.
    const r = d[i * c]! * 255;
    rgba[4 * i] = r;
    rgba[4 * i + 1] = c >= 3 ? d[i * c + 1]! * 255 : r;
    rgba[4 * i + 2] = c >= 3 ? d[i * c + 2]! * 255 : r;
    rgba[4 * i + 3] = 255;
  }
  ctx.putImageData(new ImageData(rgba, image.width, image.height), 0, 0);
}
