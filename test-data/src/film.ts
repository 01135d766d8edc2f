import type { Canvas } from './raster.js';
import type { Nuisance } from './phantom.js';
import { mixSeed } from './prng.js';

/**
 * Turns projected attenuation into an 8-bit film: exponential film response (bone bright, air
 * dark), exposure and contrast, quantum noise, unexposed collimation borders (white), a scanner
 * frame and a lead marker. `fullWidth` is the film's native width: noise is scaled as if the
 * native film had been area-downsampled, so small renders look like shrunken big ones.
 */
export function exposeFilm(canvas: Canvas, n: Nuisance, seed: number, fullWidth: number): Uint8Array {
  const { width: w, height: h, data } = canvas;
  const k = 1.25 / n.exposure;
  const gamma = 1 / n.contrast;
  const fog = 0.035;
  // Area-downsampling a film divides white noise by the linear scale; we go further (squared) so
  // reduced-size samples are nearly noise-free and compress well enough to commit (sub-grey-level
  // dither costs ~3 bits per pixel in PNG).
  const sigma = n.noise * Math.min(1, w / fullWidth) ** 2;
  // The film curve as a lookup table over attenuation: exp/pow per pixel dominated the run time.
  const LUT_MAX = 6;
  const LUT_SIZE = 4096;
  const lut = new Float32Array(LUT_SIZE + 1);
  for (let j = 0; j <= LUT_SIZE; j++)
    lut[j] = fog + (1 - fog) * Math.pow(1 - Math.exp((-k * j * LUT_MAX) / LUT_SIZE), gamma);
  const lutScale = LUT_SIZE / LUT_MAX;
  let s = mixSeed(seed, 0x5eed) | 1;
  const out = new Uint8Array(w * h);
  const b = n.borders;
  const bx0 = Math.round(b.left * w);
  const bx1 = Math.round((1 - b.right) * w);
  const by0 = Math.round(b.top * h);
  const by1 = Math.round((1 - b.bottom) * h);
  for (let y = 0; y < h; y++) {
    // Heel effect: scale attenuation per row (same LUT, shifted index).
    const rowScale = lutScale * (1 + n.heel * (y / h - 0.5));
    const rowBorder = y < by0 || y >= by1;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      // Three xorshift32 draws summed: cheap, roughly Gaussian noise with sd 1.
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const u1 = (s >>> 0) / 4294967296;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const u2 = (s >>> 0) / 4294967296;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const u3 = (s >>> 0) / 4294967296;
      const g = (u1 + u2 + u3 - 1.5) * 2;
      let v: number;
      if (rowBorder || x < bx0 || x >= bx1) {
        v = 0.9 + 4 * sigma * g; // unexposed film under the collimator: clear, white on the light box
      } else {
        const d = data[i]! * rowScale;
        v = lut[d <= 0 ? 0 : d >= LUT_SIZE ? LUT_SIZE : d | 0]!;
        v += sigma * g * (0.4 + v);
      }
      out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
  }
  if (n.frame) drawFrame(out, w, h);
  if (n.marker) drawMarker(out, w, h, n.marker);
  return out;
}

function fillRectBytes(
  out: Uint8Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  v: number,
): void {
  for (let y = Math.max(0, Math.round(y0)); y < Math.min(h, Math.round(y1)); y++) {
    out.fill(v, y * w + Math.max(0, Math.round(x0)), y * w + Math.min(w, Math.round(x1)));
  }
}

/** Film-holder edge seen by the digitiser: a dark line just inside the film on every side. */
function drawFrame(out: Uint8Array, w: number, h: number): void {
  const t = Math.max(1, Math.round(w * 0.006));
  const m = Math.round(w * 0.012);
  fillRectBytes(out, w, h, m, m, w - m, m + t, 8);
  fillRectBytes(out, w, h, m, h - m - t, w - m, h - m, 8);
  fillRectBytes(out, w, h, m, m, m + t, h - m, 8);
  fillRectBytes(out, w, h, w - m - t, m, w - m, h - m, 8);
}

/** A lead "L"/"R" marker: a bright tile with a dark letter. */
function drawMarker(out: Uint8Array, w: number, h: number, m: { x: number; y: number; letter: 'L' | 'R' }): void {
  const size = Math.max(4, Math.round(w * 0.045));
  const x0 = Math.round(m.x * (w - size));
  const y0 = Math.round(m.y * (h - size));
  fillRectBytes(out, w, h, x0, y0, x0 + size, y0 + size, 245);
  const u = size / 6;
  fillRectBytes(out, w, h, x0 + u, y0 + u, x0 + 2 * u, y0 + 5 * u, 40);
  if (m.letter === 'L') fillRectBytes(out, w, h, x0 + u, y0 + 4 * u, x0 + 5 * u, y0 + 5 * u, 40);
  else {
    fillRectBytes(out, w, h, x0 + u, y0 + u, x0 + 4.5 * u, y0 + 2 * u, 40);
    fillRectBytes(out, w, h, x0 + 3.5 * u, y0 + u, x0 + 4.5 * u, y0 + 3 * u, 40);
    fillRectBytes(out, w, h, x0 + u, y0 + 2.6 * u, x0 + 4.5 * u, y0 + 3.4 * u, 40);
    fillRectBytes(out, w, h, x0 + 3 * u, y0 + 3.4 * u, x0 + 4.5 * u, y0 + 5 * u, 40);
  }
}
