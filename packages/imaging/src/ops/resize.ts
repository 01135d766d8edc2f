import { checkDimensions, type Image } from '../image.js';

/** Source taps for every output sample along one axis. */
export interface ResampleTaps<W extends Float32Array | Float64Array = Float64Array> {
  start: Int32Array; // first tap index per output
  count: Int32Array; // taps per output
  index: Int32Array; // flattened source indices
  weight: W; // flattened weights (each output's sum to 1)
}

/**
 * Weights for resampling one axis of length `src` to `dst`. Enlarging uses bilinear taps with
 * half-pixel centres (PyTorch align_corners=False, Pillow). Shrinking averages the exact source
 * area under each output pixel: a plain bilinear 2048 -> 224 would sample 2 of every ~9 pixels and
 * alias film grain and thin cortical lines into moire.
 */
export function resampleTaps(src: number, dst: number): ResampleTaps {
  const scale = src / dst;
  const idx: number[] = [];
  const wts: number[] = [];
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  for (let i = 0; i < dst; i++) {
    start[i] = idx.length;
    if (scale <= 1) {
      const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), src - 1);
      const x0 = Math.floor(x);
      const x1 = Math.min(x0 + 1, src - 1);
      const f = x - x0;
      idx.push(x0, x1);
      wts.push(1 - f, f);
    } else {
      const a = i * scale;
      const b = Math.min((i + 1) * scale, src);
      for (let s = Math.floor(a); s < b; s++) {
        const overlap = Math.min(b, s + 1) - Math.max(a, s);
        if (overlap > 1e-9) {
          idx.push(s);
          wts.push(overlap / (b - a));
        }
      }
    }
    count[i] = idx.length - start[i]!;
  }
  return { start, count, index: Int32Array.from(idx), weight: Float64Array.from(wts) };
}

/** The taps with float32 weights, as this module's float32 image passes use them. */
function axisTaps(src: number, dst: number): ResampleTaps<Float32Array> {
  const t = resampleTaps(src, dst);
  return { ...t, weight: Float32Array.from(t.weight) };
}

/** Resamples to width x height (separable: rows, then columns). */
export function resize(image: Image, width: number, height: number): Image {
  checkDimensions(width, height);
  const { width: sw, height: sh, channels: c, data } = image;
  if (sw === width && sh === height) return { ...image, data: data.slice() };
  const tx = axisTaps(sw, width);
  const ty = axisTaps(sh, height);
  // Horizontal pass: sh rows of `width` pixels.
  const mid = new Float32Array(sh * width * c);
  for (let y = 0; y < sh; y++) {
    const rowIn = y * sw * c;
    const rowOut = y * width * c;
    for (let x = 0; x < width; x++) {
      const s = tx.start[x]!;
      const e = s + tx.count[x]!;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let t = s; t < e; t++) acc += data[rowIn + tx.index[t]! * c + ch]! * tx.weight[t]!;
        mid[rowOut + x * c + ch] = acc;
      }
    }
  }
  // Vertical pass: accumulate whole rows for cache-friendly access.
  const out = new Float32Array(height * width * c);
  const rowLen = width * c;
  for (let y = 0; y < height; y++) {
    const s = ty.start[y]!;
    const e = s + ty.count[y]!;
    const o = y * rowLen;
    for (let t = s; t < e; t++) {
      const w = ty.weight[t]!;
      const r = ty.index[t]! * rowLen;
      for (let k = 0; k < rowLen; k++) out[o + k] += mid[r + k]! * w;
    }
  }
  return { width, height, channels: c, data: out, bitDepth: image.bitDepth };
}

/** Resizes so the shorter side becomes `size`, keeping aspect; the long side is truncated like torchvision Resize(int). */
export function resizeShorterSide(image: Image, size: number): Image {
  const { width: w, height: h } = image;
  if (w <= h) return resize(image, size, Math.max(1, Math.floor((h * size) / w)));
  return resize(image, Math.max(1, Math.floor((w * size) / h)), size);
}
