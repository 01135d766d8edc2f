/**
 * A float canvas and the few cheap primitives the phantom is drawn with: anti-aliased polygon
 * fill (everything, ellipses included, is a polygon, so rotation and scale are applied to
 * vertices only), and a separable box blur. Values are added, like projected attenuation adds
 * along an x-ray path.
 */
export interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export type Point = readonly [number, number];

export function createCanvas(width: number, height: number): Canvas {
  return { width, height, data: new Float32Array(width * height) };
}

/**
 * Adds `value` inside the polygon (even-odd rule). Rows are sampled at their centres; horizontal
 * edges get exact fractional coverage, vertical softness comes from the later film blur.
 */
export function fillPolygon(canvas: Canvas, pts: readonly Point[], value: number): void {
  const n = pts.length;
  if (n < 3 || value === 0) return;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of pts) {
    if (p[1] < minY) minY = p[1];
    if (p[1] > maxY) maxY = p[1];
  }
  const { width: w, height: h, data } = canvas;
  const y0 = Math.max(0, Math.ceil(minY - 0.5));
  const y1 = Math.min(h - 1, Math.floor(maxY - 0.5));
  const xs: number[] = [];
  for (let row = y0; row <= y1; row++) {
    const yc = row + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = pts[i]!;
      const [xj, yj] = pts[j]!;
      if (yi > yc !== yj > yc) xs.push(xi + ((yc - yi) * (xj - xi)) / (yj - yi));
    }
    if (xs.length < 2) continue;
    if (xs.length === 2) {
      if (xs[0]! > xs[1]!) xs.reverse();
    } else xs.sort((a, b) => a - b);
    const base = row * w;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const a = Math.max(0, xs[k]!);
      const b = Math.min(w, xs[k + 1]!);
      if (b <= a) continue;
      const ia = Math.floor(a);
      const ib = Math.floor(b);
      if (ia === ib) {
        data[base + ia] += value * (b - a);
        continue;
      }
      data[base + ia] += value * (ia + 1 - a);
      for (let x = ia + 1; x < ib; x++) data[base + x] += value;
      if (ib < w) data[base + ib] += value * (b - ib);
    }
  }
}

/** Vertices of an ellipse (centre, radii, rotation in radians) with `segments` sides. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, rot = 0, segments = 28): Point[] {
  const c = Math.cos(rot);
  const s = Math.sin(rot);
  const out: Point[] = [];
  for (let i = 0; i < segments; i++) {
    const t = (2 * Math.PI * i) / segments;
    const x = rx * Math.cos(t);
    const y = ry * Math.sin(t);
    out.push([cx + c * x - s * y, cy + s * x + c * y]);
  }
  return out;
}

/** One horizontal box-blur pass of radius r, clamping at the edges. */
function boxRows(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const inv = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += src[o + Math.min(w - 1, Math.max(0, i))]!;
    for (let x = 0; x < w; x++) {
      dst[o + x] = acc * inv;
      acc += src[o + Math.min(w - 1, x + r + 1)]! - src[o + Math.max(0, x - r)]!;
    }
  }
}

/** One vertical pass, done a whole row at a time so memory is walked in order. */
function boxColumns(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const inv = 1 / (2 * r + 1);
  const acc = new Float32Array(w);
  const row = (y: number): number => Math.min(h - 1, Math.max(0, y)) * w;
  for (let i = -r; i <= r; i++) {
    const o = row(i);
    for (let x = 0; x < w; x++) acc[x] += src[o + x]!;
  }
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const add = row(y + r + 1);
    const sub = row(y - r);
    for (let x = 0; x < w; x++) {
      dst[o + x] = acc[x]! * inv;
      acc[x] += src[add + x]! - src[sub + x]!;
    }
  }
}

/**
 * Approximately Gaussian blur (two box passes per axis, sigma ~ r * 0.8 for the pair); radius
 * in pixels, 0 = no-op. Cost is independent of the radius.
 */
export function blur(canvas: Canvas, radius: number): void {
  const r = Math.round(radius);
  if (r < 1) return;
  const { width: w, height: h, data } = canvas;
  const tmp = new Float32Array(data.length);
  boxRows(data, tmp, w, h, r);
  boxRows(tmp, data, w, h, r);
  boxColumns(data, tmp, w, h, r);
  boxColumns(tmp, data, w, h, r);
}
