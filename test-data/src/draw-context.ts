import { blur, ellipse, fillPolygon, type Canvas, type Point } from './raster.js';

/**
 * Maps anatomy millimetres (x anterior -> posterior, y superior -> inferior, origin at the
 * spine's mid level) to film pixels, applying the film's scale, rotation and offset to vertices
 * only, so drawing a rotated, scaled film costs the same as an upright one.
 */
export class DrawContext {
  readonly pxPerMm: number;
  private readonly cos: number;
  private readonly sin: number;
  /** Pixel points of the spinal structures, collected for the ROI rectangle. */
  readonly roiPoints: Point[] = [];

  constructor(
    readonly canvas: Canvas,
    filmWidthMm: number,
    scale: number,
    rotationDeg: number,
    private readonly originX: number,
    private readonly originY: number,
  ) {
    this.pxPerMm = (canvas.width / filmWidthMm) * scale;
    const t = (rotationDeg * Math.PI) / 180;
    this.cos = Math.cos(t);
    this.sin = Math.sin(t);
  }

  toPx(p: Point): Point {
    const x = p[0] * this.pxPerMm;
    const y = p[1] * this.pxPerMm;
    return [this.originX + this.cos * x - this.sin * y, this.originY + this.sin * x + this.cos * y];
  }

  /** Adds `value` inside a polygon given in mm. `roi` marks it as part of the spinal ROI. */
  poly(ptsMm: readonly Point[], value: number, roi = false): void {
    const px = ptsMm.map((p) => this.toPx(p));
    if (roi) this.roiPoints.push(...px);
    fillPolygon(this.canvas, px, value);
  }

  ellipse(cx: number, cy: number, rx: number, ry: number, rot: number, value: number, roi = false): void {
    this.poly(ellipse(cx, cy, rx, ry, rot, rx * this.pxPerMm > 40 ? 48 : 20), value, roi);
  }

  /** A thick polyline (ribs, mandible, skin folds) as one quad per segment. */
  band(path: readonly Point[], thickness: number, value: number): void {
    for (let i = 0; i + 1 < path.length; i++) {
      const [x0, y0] = path[i]!;
      const [x1, y1] = path[i + 1]!;
      const len = Math.hypot(x1 - x0, y1 - y0) || 1;
      const nx = (-(y1 - y0) / len) * (thickness / 2);
      const ny = ((x1 - x0) / len) * (thickness / 2);
      this.poly(
        [
          [x0 + nx, y0 + ny],
          [x1 + nx, y1 + ny],
          [x1 - nx, y1 - ny],
          [x0 - nx, y0 - ny],
        ],
        value,
      );
    }
  }

  blurMm(mm: number): void {
    blur(this.canvas, mm * this.pxPerMm);
  }
}

/** A rectangle with rounded corners in local vertebra coordinates, then placed at (cx, cy, angle). */
export function placedShape(local: readonly Point[], cx: number, cy: number, angle: number): Point[] {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return local.map(([u, v]) => [cx + c * u - s * v, cy + s * u + c * v] as Point);
}

/** Rounded rectangle centred on 0 with half-sizes hw, hh and corner radius r. */
export function roundedRect(hw: number, hh: number, r: number): Point[] {
  const pts: Point[] = [];
  const corners: [number, number, number][] = [
    [hw - r, hh - r, 0],
    [-hw + r, hh - r, Math.PI / 2],
    [-hw + r, -hh + r, Math.PI],
    [hw - r, -hh + r, (3 * Math.PI) / 2],
  ];
  for (const [cx, cy, a0] of corners) {
    for (let k = 0; k <= 3; k++) {
      const a = a0 + (k / 3) * (Math.PI / 2);
      pts.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
    }
  }
  return pts;
}
