import { drawCervical } from './cervical.js';
import { DrawContext } from './draw-context.js';
import { exposeFilm } from './film.js';
import { drawLumbar } from './lumbar.js';
import { FILM, type SubjectParams } from './phantom.js';
import { createCanvas } from './raster.js';

export interface RoiBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RenderedFilm {
  width: number;
  height: number;
  /** 8-bit grey, row-major. */
  pixels: Uint8Array;
  /** Spinal ROI (vertebral bodies and posterior elements) in this film's pixels. */
  roi: RoiBox;
}

/**
 * Renders one film at `width` pixels wide (default: the native 1462 cervical / 2048 lumbar),
 * keeping the native aspect. Drawing happens at the output resolution, so small sample images
 * cost little.
 */
export function renderFilm(p: SubjectParams, seed: number, width?: number): RenderedFilm {
  const film = FILM[p.region];
  const w = Math.round(width ?? film.width);
  const h = Math.round((w * film.height) / film.width);
  const canvas = createCanvas(w, h);
  const n = p.nuisance;
  const heightMm = (film.widthMm * film.height) / film.width;
  const ox = w * (p.region === 'cervical' ? 0.56 : 0.55) + n.offsetX * w;
  const oy = h * (p.region === 'cervical' ? 0.47 : 0.45) + n.offsetY * h;
  const ctx = new DrawContext(canvas, film.widthMm, n.scale, n.rotationDeg, ox, oy);
  if (p.region === 'cervical') drawCervical(ctx, p, heightMm);
  else drawLumbar(ctx, p, heightMm);
  ctx.composeSoft();
  ctx.blurMm(n.blurMm);
  const pixels = exposeFilm(canvas, n, seed, film.width);
  return { width: w, height: h, pixels, roi: boundingBox(ctx.roiPoints, w, h) };
}

function boundingBox(pts: readonly (readonly [number, number])[], w: number, h: number): RoiBox {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of pts) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  const cx0 = Math.max(0, Math.floor(x0));
  const cy0 = Math.max(0, Math.floor(y0));
  const cx1 = Math.min(w, Math.ceil(x1));
  const cy1 = Math.min(h, Math.ceil(y1));
  return { x: cx0, y: cy0, width: Math.max(0, cx1 - cx0), height: Math.max(0, cy1 - cy0) };
}
