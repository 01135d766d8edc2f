/**
 * ROI transfer, the paper's crop rule: take the centre of the best match's marked ROI, map it into
 * the query (scaled by the ratio of the film sizes when they differ), and cut a square of a fixed
 * physical size centred there, so the anatomy keeps its scale from film to film. The paper's square
 * is 1400 px on 1462x1755 cervical films; the side scales with the query's width, so a film
 * rendered at 128 px gets a 123 px square. Parts of the square outside the film are padded, unless
 * `keepInside` shifts the square onto the film (a departure from the paper, for films whose ROI
 * lies near an edge: the crop then holds only film, at the cost of the ROI not being centred).
 */
import { crop, type Image } from '@spine/imaging';
import { CbirError } from './errors.js';
import type { PixelBox } from './phog.js';

export interface CropSettings {
  /** Side of the square in pixels on a film `atWidth` wide (paper: 1400). */
  side: number;
  /** The film width `side` refers to (paper: 1462, the cervical films' width). */
  atWidth: number;
  /**
   * Shift the square the least distance that keeps it inside the film (default false: centred on
   * the ROI centre, as in the paper). Along an axis where the square is longer than the film it is
   * centred on the film and padded only along that axis.
   */
  keepInside?: boolean;
}

export const PAPER_CROP: CropSettings = { side: 1400, atWidth: 1462 };

export interface RoiTransfer {
  /** The match's ROI centre in query pixels (continuous coordinates; pixel i spans [i, i+1)). */
  centre: { x: number; y: number };
  /** The square to cut (integer pixels; may extend past the film, which is then padded; see `keepInside`). */
  box: PixelBox;
  /** The match's whole ROI mapped into the query (continuous), for evaluation and figures. */
  roi: PixelBox;
}

/** The side of the crop square for a film `width` pixels wide (at least 1). */
export function cropSide(width: number, settings: CropSettings = PAPER_CROP): number {
  if (!(settings.side > 0) || !(settings.atWidth > 0))
    throw new CbirError(
      '<memory>',
      `crop side and reference width must be positive, got ${settings.side} at ${settings.atWidth}`,
    );
  return Math.max(1, Math.round((settings.side * width) / settings.atWidth));
}

/** Maps a reference film's ROI into a query of `query` size and places the crop square. */
export function transferRoi(
  reference: { width: number; height: number; roi: PixelBox },
  query: { width: number; height: number },
  settings: CropSettings = PAPER_CROP,
): RoiTransfer {
  const sx = query.width / reference.width;
  const sy = query.height / reference.height;
  const r = reference.roi;
  const centre = { x: (r.x + r.width / 2) * sx, y: (r.y + r.height / 2) * sy };
  const side = cropSide(query.width, settings);
  const centred = { x: Math.round(centre.x - side / 2), y: Math.round(centre.y - side / 2), width: side, height: side };
  const box = settings.keepInside ? shiftInside(centred, query) : centred;
  return { centre, box, roi: { x: r.x * sx, y: r.y * sy, width: r.width * sx, height: r.height * sy } };
}

/**
 * `box` moved the least distance that puts it inside a `film`-sized film. Along an axis where the box
 * is longer than the film no shift can do that: there it is centred on the film (the padding split
 * evenly, the odd pixel after the film).
 */
export function shiftInside(box: PixelBox, film: { width: number; height: number }): PixelBox {
  const axis = (start: number, size: number, extent: number) =>
    size >= extent ? Math.floor((extent - size + 1) / 2) : Math.min(Math.max(start, 0), extent - size);
  return {
    x: axis(box.x, box.width, film.width),
    y: axis(box.y, box.height, film.height),
    width: box.width,
    height: box.height,
  };
}

/** The share of `box`'s pixels that lie outside a `film`-sized film: what a crop of it pads. */
export function paddingFraction(box: PixelBox, film: { width: number; height: number }): number {
  const inX = Math.max(0, Math.min(box.x + box.width, film.width) - Math.max(box.x, 0));
  const inY = Math.max(0, Math.min(box.y + box.height, film.height) - Math.max(box.y, 0));
  return 1 - (inX * inY) / (box.width * box.height);
}

/** Cuts the square; pixels outside the film are `fill` (default 0, black, like the exposed air around the patient). */
export function cropSquare(image: Image, box: PixelBox, fill = 0): Image {
  return crop(image, box, fill);
}
