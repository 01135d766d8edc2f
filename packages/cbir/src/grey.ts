import { toGrey, type Image } from '@spine/imaging';
import { CbirError } from './errors.js';
import { resizePlane } from './plane-ops.js';

/**
 * An 8-bit grey plane, row-major: what MATLAB's anna_phog.m receives from imread (uint8 G, 0..255).
 * PHOG and Canny work on this rather than on @spine/imaging's float Image so that both see exactly
 * the integer values the reference sees, whatever format the film came from.
 */
export interface GreyPlane {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * An Image (any channel count, samples in [0, 1]) to 8-bit grey: colour through BT.601 luma (what
 * rgb2gray does, up to its rounding), then x255 rounded, as im2uint8 would.
 */
export function greyPlaneFromImage(image: Image): GreyPlane {
  const g = toGrey(image).data;
  const data = new Uint8Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const v = g[i]!;
    data[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return { width: image.width, height: image.height, data };
}

/**
 * The plane PHOG is computed on: the film resized to `workingWidth` with its aspect kept (exact
 * area averaging when shrinking, rounded to bytes), or the film itself when `workingWidth` is null
 * (the reference code's behaviour, full cost). Every film of an index and every query must use the
 * same working width, so that their edge maps describe anatomy at one scale.
 */
export function workingPlane(grey: GreyPlane, workingWidth: number | null): GreyPlane {
  if (workingWidth === null || workingWidth === grey.width) return grey;
  if (!Number.isInteger(workingWidth) || workingWidth < 1)
    throw new CbirError('<memory>', `working width must be a positive integer, got ${workingWidth}`);
  return resizePlane(grey, workingWidth, workingHeight(grey.width, grey.height, workingWidth));
}

/** The height an image of width x height gets at `workingWidth` (aspect kept, at least 1). */
export function workingHeight(width: number, height: number, workingWidth: number): number {
  return Math.max(1, Math.round((height * workingWidth) / width));
}
