/**
 * A figure like the paper's Figure 6: the query film with its crop square (red) and the ROI it was
 * transferred from (yellow), beside the matched reference film with its marked ROI (green).
 */
import { createImage, drawRect, resize, toRgb, type Image } from '@spine/imaging';
import type { PixelBox } from './phog.js';

export interface PreviewOptions {
  /** Height of both panels in pixels (default 480). */
  height?: number;
  /** Pixels between and around the panels (default 8). */
  gap?: number;
}

const RED = [1, 0.1, 0.1];
const YELLOW = [1, 0.85, 0.1];
const GREEN = [0.1, 0.9, 0.2];

export function roiPreview(
  query: Image,
  transfer: { box: PixelBox; roi: PixelBox },
  reference: Image,
  referenceRoi: PixelBox,
  options: PreviewOptions = {},
): Image {
  const height = options.height ?? 480;
  const gap = options.gap ?? 8;
  const left = panel(query, height, [
    { box: transfer.roi, color: YELLOW },
    { box: transfer.box, color: RED },
  ]);
  const right = panel(reference, height, [{ box: referenceRoi, color: GREEN }]);
  const sheet = createImage(left.width + right.width + 3 * gap, height + 2 * gap, 3, 0.15);
  paste(sheet, left, gap, gap);
  paste(sheet, right, 2 * gap + left.width, gap);
  return sheet;
}

function panel(image: Image, height: number, boxes: { box: PixelBox; color: number[] }[]): Image {
  const scale = height / image.height;
  const width = Math.max(1, Math.round(image.width * scale));
  const out = toRgb(resize(image, width, height));
  const thickness = Math.max(2, Math.round(height / 160));
  for (const { box, color } of boxes) {
    drawRect(
      out,
      { x: box.x * scale, y: box.y * scale, width: box.width * scale, height: box.height * scale },
      color,
      thickness,
    );
  }
  return out;
}

function paste(dst: Image, src: Image, x0: number, y0: number): void {
  for (let y = 0; y < src.height; y++) {
    dst.data.set(src.data.subarray(y * src.width * 3, (y + 1) * src.width * 3), ((y0 + y) * dst.width + x0) * 3);
  }
}
