/**
 * The PHOG descriptor (Bosch, Zisserman & Munoz 2007) as the reference MATLAB `anna_phog.m`
 * computes it:
 *
 * - edges from Canny (MATLAB's edge(G, 'canny')); images whose grey values sum to 100 or less get
 *   an all-zero descriptor, as in the reference;
 * - the orientation gradient is *not* Canny's but `gradient(double(G))`: central differences inside,
 *   one-sided at the borders; GX == 0 becomes 1e-5 (after the magnitude is taken);
 * - 360 degrees: A = (atan2(GY, GX) + pi) in degrees; 180: A = atan(GY / GX) + 90 degrees;
 *   bin b = ceil(A / (angle / bins)), 1-based, so A exactly 0 (b = 0) falls out;
 * - only edge pixels with magnitude > 0 vote, weighted by the magnitude;
 * - levels 0..L over the ROI: level l has 2^l x 2^l cells of floor(side / 2^l) pixels (the
 *   remainder is dropped), ordered column-major (the x loop outside, y inside), each a histogram
 *   of `bins`; all concatenated and L1-normalised once.
 *
 * The reference's cell loop is `while xx + x <= W`, which yields more than 2^l cells per side when
 * side mod 2^l >= floor(side / 2^l); that can only happen for sides below 4^L pixels, so such ROIs
 * are rejected instead of returning a vector of surprising length.
 */
import { cannyEdges, type CannyOptions } from './canny.js';
import { CbirError } from './errors.js';
import type { GreyPlane } from './grey.js';

/** A pixel rectangle, 0-based, like @spine/imaging's Rect. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PhogOptions {
  /** Orientation bins (default 8). */
  bins?: number;
  /** Orientation range in degrees: 360 (signed, default) or 180 (unsigned). */
  angle?: 180 | 360;
  /** Pyramid levels above level 0 (default 3). */
  levels?: number;
  /** The region described (default the whole plane); edges and gradients come from the whole plane. */
  roi?: PixelBox;
  canny?: CannyOptions;
}

export const PHOG_DEFAULTS = { bins: 8, angle: 360, levels: 3 } as const;

/** Descriptor length: bins x (1 + 4 + ... + 4^L) = bins (4^(L+1) - 1) / 3. */
export function phogLength(bins: number = PHOG_DEFAULTS.bins, levels: number = PHOG_DEFAULTS.levels): number {
  return (bins * (4 ** (levels + 1) - 1)) / 3;
}

/** Per-pixel orientation bin (0 = no vote) and vote weight, as anna_binMatrix leaves them. */
export interface OrientationVotes {
  bin: Uint8Array;
  weight: Float64Array;
}

/**
 * anna_phog.m up to anna_binMatrix: Canny edges, the central-difference gradient, the bin of each
 * edge pixel with a non-zero magnitude and its magnitude as weight.
 */
export function orientationVotes(
  grey: GreyPlane,
  bins: number,
  angle: 180 | 360,
  canny?: CannyOptions,
): OrientationVotes {
  const { width: w, height: h, data } = grey;
  const n = w * h;
  const bin = new Uint8Array(n);
  const weight = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += data[i]!;
  if (total <= 100) return { bin, weight };
  const { edges } = cannyEdges(grey, canny);
  const step = angle / bins;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      if (edges[i] === 0) continue;
      // MATLAB gradient(): (f(k+1) - f(k-1)) / 2 inside, f(2) - f(1) and f(n) - f(n-1) at the ends.
      let gx: number;
      if (w === 1) gx = 0;
      else if (x === 0) gx = data[i + 1]! - data[i]!;
      else if (x === w - 1) gx = data[i]! - data[i - 1]!;
      else gx = (data[i + 1]! - data[i - 1]!) / 2;
      let gy: number;
      if (h === 1) gy = 0;
      else if (y === 0) gy = data[i + w]! - data[i]!;
      else if (y === h - 1) gy = data[i]! - data[i - w]!;
      else gy = (data[i + w]! - data[i - w]!) / 2;
      const magnitude = Math.sqrt(gx * gx + gy * gy);
      if (!(magnitude > 0)) continue;
      if (gx === 0) gx = 1e-5;
      const a =
        angle === 360
          ? ((Math.atan2(gy, gx) + Math.PI) * 180) / Math.PI
          : ((Math.atan(gy / gx) + Math.PI / 2) * 180) / Math.PI;
      const b = Math.ceil(a / step);
      if (b <= 0) continue;
      bin[i] = b;
      weight[i] = magnitude;
    }
  }
  return { bin, weight };
}

function checkOptions(
  grey: GreyPlane,
  options: PhogOptions,
): { bins: number; angle: 180 | 360; levels: number; roi: PixelBox } {
  const bins = options.bins ?? PHOG_DEFAULTS.bins;
  const angle = options.angle ?? PHOG_DEFAULTS.angle;
  const levels = options.levels ?? PHOG_DEFAULTS.levels;
  if (!Number.isInteger(bins) || bins < 1 || bins > 255)
    throw new CbirError('<memory>', `PHOG bins must be an integer from 1 to 255, got ${bins}`);
  if (angle !== 180 && angle !== 360)
    throw new CbirError('<memory>', `PHOG angle must be 180 or 360, got ${String(angle)}`);
  if (!Number.isInteger(levels) || levels < 0 || levels > 8)
    throw new CbirError('<memory>', `PHOG levels must be an integer from 0 to 8, got ${levels}`);
  const roi = options.roi ?? { x: 0, y: 0, width: grey.width, height: grey.height };
  const inside =
    [roi.x, roi.y, roi.width, roi.height].every(Number.isInteger) &&
    roi.x >= 0 &&
    roi.y >= 0 &&
    roi.width >= 1 &&
    roi.height >= 1;
  if (!inside || roi.x + roi.width > grey.width || roi.y + roi.height > grey.height) {
    throw new CbirError(
      '<memory>',
      `PHOG ROI ${roi.width}x${roi.height} at (${roi.x}, ${roi.y}) is not an integer box inside the ${grey.width}x${grey.height} image`,
    );
  }
  const minSide = 4 ** levels;
  if (roi.width < minSide || roi.height < minSide) {
    throw new CbirError(
      '<memory>',
      `PHOG with ${levels} levels needs a region of at least ${minSide}x${minSide} pixels (smaller ones get extra cells in the reference), got ${roi.width}x${roi.height}; use fewer levels or a larger image`,
    );
  }
  return { bins, angle, levels, roi };
}

/** The PHOG descriptor of an 8-bit grey plane; length phogLength(bins, levels), L1-normalised (all zero if no edge votes). */
export function phogDescriptor(grey: GreyPlane, options: PhogOptions = {}): Float64Array {
  const { bins, angle, levels, roi } = checkOptions(grey, options);
  const votes = orientationVotes(grey, bins, angle, options.canny);
  return phogFromVotes(votes, grey.width, roi, bins, levels);
}

/** anna_phogDescriptor over the ROI of a vote map. */
export function phogFromVotes(
  votes: OrientationVotes,
  width: number,
  roi: PixelBox,
  bins: number,
  levels: number,
): Float64Array {
  const out = new Float64Array(phogLength(bins, levels));
  // Voting pixels of the ROI, gathered once: usually a few percent of the pixels.
  const xs: number[] = [];
  const ys: number[] = [];
  const bs: number[] = [];
  const ws: number[] = [];
  for (let y = 0; y < roi.height; y++) {
    const row = (roi.y + y) * width + roi.x;
    for (let x = 0; x < roi.width; x++) {
      const b = votes.bin[row + x]!;
      if (b === 0) continue;
      xs.push(x);
      ys.push(y);
      bs.push(b - 1);
      ws.push(votes.weight[row + x]!);
    }
  }
  let offset = 0;
  for (let l = 0; l <= levels; l++) {
    const cells = 1 << l;
    const cw = Math.floor(roi.width / cells);
    const ch = Math.floor(roi.height / cells);
    for (let k = 0; k < xs.length; k++) {
      const cx = Math.floor(xs[k]! / cw);
      const cy = Math.floor(ys[k]! / ch);
      if (cx >= cells || cy >= cells) continue; // in the dropped remainder
      out[offset + (cx * cells + cy) * bins + bs[k]!]! += ws[k]!;
    }
    offset += cells * cells * bins;
  }
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += out[i]!;
  if (sum !== 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}
