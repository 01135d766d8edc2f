import type { Image } from '@spine/imaging';
import { SeededRandom } from './random.js';

/**
 * Training-time augmentation, drawn per image from a seeded stream. Every field is a maximum
 * magnitude; each image draws uniformly in [-max, +max] (flips are a probability). Lateral films
 * have a meaningful orientation (patient facing one way, anterior soft tissue a sex cue), so flips
 * are off by default.
 */
export interface AugmentConfig {
  /** Max rotation in degrees. */
  rotation?: number;
  /** Max relative zoom: 0.05 draws a scale in [0.95, 1.05]. */
  scale?: number;
  /** Max shift as a fraction of width/height. */
  shift?: number;
  /** Max additive brightness change on the [0, 1] scale. */
  brightness?: number;
  /** Max relative contrast change about the image mean: 0.1 draws a factor in [0.9, 1.1]. */
  contrast?: number;
  /** Probability of a left-right flip; default 0. */
  flip?: number;
}

export const DEFAULT_AUGMENT: Readonly<Required<AugmentConfig>> = {
  rotation: 5,
  scale: 0.05,
  shift: 0.05,
  brightness: 0.05,
  contrast: 0.1,
  flip: 0,
};

/** The parameters one image drew; exposed so tests and logs can see what happened. */
export interface AugmentDraw {
  rotation: number;
  scale: number;
  shiftX: number;
  shiftY: number;
  brightness: number;
  contrast: number;
  flip: boolean;
}

/** Draws the parameters in a fixed order, so a seed always means the same transformation. */
export function drawAugment(config: Required<AugmentConfig>, seed: number): AugmentDraw {
  const rng = new SeededRandom(seed);
  const sym = (m: number): number => (m > 0 ? rng.uniform(-m, m) : (rng.float(), 0));
  return {
    rotation: sym(config.rotation),
    scale: 1 + sym(config.scale),
    shiftX: sym(config.shift),
    shiftY: sym(config.shift),
    brightness: sym(config.brightness),
    contrast: 1 + sym(config.contrast),
    flip: rng.float() < config.flip,
  };
}

/**
 * Applies augmentation to a grey input-size image. Rotation, zoom, shift and flip are one affine
 * map sampled once, bilinearly (three chained resamplings would blur the film three times), with
 * edge pixels replicated outside the film rather than black corners a network could learn from.
 * Intensities are clamped to [0, 1] after brightness/contrast, like PIL's ColorJitter.
 */
export function augmentImage(image: Image, config: Required<AugmentConfig>, seed: number): Image {
  if (image.channels !== 1) throw new RangeError('augmentImage expects a grey image');
  const d = drawAugment(config, seed);
  const { width: w, height: h, data } = image;
  const out = new Float32Array(w * h);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const t = (d.rotation * Math.PI) / 180;
  // Inverse map output -> source: undo shift, then rotation and zoom about the centre.
  const cos = Math.cos(t) / d.scale;
  const sin = Math.sin(t) / d.scale;
  const tx = d.shiftX * w;
  const ty = d.shiftY * h;
  const identity = d.rotation === 0 && d.scale === 1 && tx === 0 && ty === 0 && !d.flip;
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v: number;
      if (identity) {
        v = data[y * w + x]!;
      } else {
        const ox = (d.flip ? w - 1 - x : x) - cx - tx;
        const oy = y - cy - ty;
        const sx = Math.min(w - 1, Math.max(0, cx + cos * ox - sin * oy));
        const sy = Math.min(h - 1, Math.max(0, cy + sin * ox + cos * oy));
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const x1 = Math.min(w - 1, x0 + 1);
        const y1 = Math.min(h - 1, y0 + 1);
        const fx = sx - x0;
        const fy = sy - y0;
        const top = data[y0 * w + x0]! * (1 - fx) + data[y0 * w + x1]! * fx;
        const bottom = data[y1 * w + x0]! * (1 - fx) + data[y1 * w + x1]! * fx;
        v = top * (1 - fy) + bottom * fy;
      }
      out[y * w + x] = v;
      sum += v;
    }
  }
  if (d.brightness !== 0 || d.contrast !== 1) {
    const mean = sum / (w * h);
    for (let i = 0; i < out.length; i++) {
      const v = (out[i]! - mean) * d.contrast + mean + d.brightness;
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { width: w, height: h, channels: 1, data: out, bitDepth: image.bitDepth };
}
