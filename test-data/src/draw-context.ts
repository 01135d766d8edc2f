import { blur, createCanvas, ellipse, fillPolygon, type Canvas, type Point } from './raster.js';

/** Soft tissue is drawn at reduced resolution on big films: it has no fine detail, and the big
 * layered outlines were half the render time at full size. Small films draw it at full resolution
 * so skin lines stay crisp. */
function softFactor(width: number): number {
  return width >= 1000 ? 4 : width >= 500 ? 2 : 1;
}

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
  private readonly soft: Canvas;
  private readonly softScale: number;

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
    this.softScale = softFactor(canvas.width);
    this.soft = createCanvas(
      Math.ceil(canvas.width / this.softScale) + 1,
      Math.ceil(canvas.height / this.softScale) + 1,
    );
  }

  /** Adds `value` inside a polygon on the low-resolution soft-tissue layer. */
  softPoly(ptsMm: readonly Point[], value: number): void {
    fillPolygon(
      this.soft,
      ptsMm.map((p) => {
        const [x, y] = this.toPx(p);
        return [x / this.softScale, y / this.softScale] as Point;
      }),
      value,
    );
  }

  softEllipse(cx: number, cy: number, rx: number, ry: number, rot: number, value: number): void {
    this.softPoly(ellipse(cx, cy, rx, ry, rot, 40), value);
  }

  /** Adds the soft-tissue layer to the film, bilinearly upsampled (call once, after drawing). */
  composeSoft(): void {
    const { width: w, height: h, data } = this.canvas;
    const { width: sw, data: s } = this.soft;
    const SOFT = this.softScale;
    // Smooth the terraces between layered outlines (~4 mm apart) and the stair-stepped edges.
    blur(this.soft, (2.5 * this.pxPerMm) / SOFT);
    const fx = new Float32Array(w);
    const ix = new Int32Array(w);
    for (let x = 0; x < w; x++) {
      const u = Math.max(0, (x + 0.5) / SOFT - 0.5);
      ix[x] = Math.floor(u);
      fx[x] = u - ix[x]!;
    }
    for (let y = 0; y < h; y++) {
      const v = Math.max(0, (y + 0.5) / SOFT - 0.5);
      const r0 = Math.floor(v) * sw;
      const r1 = r0 + sw;
      const fy = v - Math.floor(v);
      const o = y * w;
      for (let x = 0; x < w; x++) {
        const i = ix[x]!;
        const f = fx[x]!;
        const top = s[r0 + i]! * (1 - f) + s[r0 + i + 1]! * f;
        const bottom = s[r1 + i]! * (1 - f) + s[r1 + i + 1]! * f;
        data[o + x] += top * (1 - fy) + bottom * fy;
      }
    }
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
