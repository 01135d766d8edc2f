import { createImage, type Image } from '../image.js';
import { toGrey, toRgb } from './convert.js';
import { resize } from './resize.js';

export interface ContactSheetOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  columns?: number;
  /** Cell size in pixels; each image is scaled to fit, keeping its aspect (default 128x160). */
  cellWidth?: number;
  cellHeight?: number;
  /** Pixels between cells and around the sheet (default 4). */
  gap?: number;
  /** Background grey level (default 0.15, dark like a light box). */
  background?: number;
}

/**
 * Tiles many images into one grid for a quick visual check of a data set. The sheet is grey unless
 * any input has colour, in which case it is RGB.
 */
export function contactSheet(images: readonly Image[], options: ContactSheetOptions = {}): Image {
  if (images.length === 0) throw new RangeError('contactSheet needs at least one image');
  const cols = options.columns ?? Math.ceil(Math.sqrt(images.length));
  const rows = Math.ceil(images.length / cols);
  const cw = options.cellWidth ?? 128;
  const ch = options.cellHeight ?? 160;
  const gap = options.gap ?? 4;
  const colour = images.some((im) => im.channels >= 3);
  const c = colour ? 3 : 1;
  const sheet = createImage(cols * cw + (cols + 1) * gap, rows * ch + (rows + 1) * gap, c, options.background ?? 0.15);
  images.forEach((im, k) => {
    const src = colour ? toRgb(im) : toGrey(im);
    const s = Math.min(cw / src.width, ch / src.height);
    const w = Math.max(1, Math.round(src.width * s));
    const h = Math.max(1, Math.round(src.height * s));
    const small = resize(src, w, h);
    const ox = gap + (k % cols) * (cw + gap) + Math.floor((cw - w) / 2);
    const oy = gap + Math.floor(k / cols) * (ch + gap) + Math.floor((ch - h) / 2);
    for (let y = 0; y < h; y++) {
      sheet.data.set(small.data.subarray(y * w * c, (y + 1) * w * c), ((oy + y) * sheet.width + ox) * c);
    }
  });
  return sheet;
}
