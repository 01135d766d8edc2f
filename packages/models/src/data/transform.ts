import { crop, resize, toGrey, type Image } from '@spine/imaging';
import { DEFAULT_AUGMENT, type AugmentConfig } from './augment.js';
import { stableKey } from './stable-key.js';

/**
 * 'stretch' resizes the whole film to the input size, ignoring aspect (what the paper did);
 * 'shorter-side-crop' is torchvision's ImageNet evaluation recipe: scale so the image covers the
 * target enlarged by 256/224 (for a square target: shorter side to 256/224 of it), then cut the
 * centre.
 */
export type ResizeMode = 'stretch' | 'shorter-side-crop';

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** A plain JSON-able description of the whole input pipeline; `transformKey` names it. */
export interface TransformConfig {
  /** Network input size in pixels. */
  width: number;
  height: number;
  /** Default 'stretch'. */
  resize?: ResizeMode;
  /** Per-channel mean and std after scaling to [0, 1]; default ImageNet's. */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
  /** Training-time augmentation; absent or null for none (evaluation). `true` takes DEFAULT_AUGMENT. */
  augment?: AugmentConfig | boolean | null;
}

/** A TransformConfig with every default filled in: what the key and the workers see. */
export interface ResolvedTransform {
  width: number;
  height: number;
  resize: ResizeMode;
  mean: [number, number, number];
  std: [number, number, number];
  augment: Required<AugmentConfig> | null;
}

/**
 * Bumped whenever `preprocess` changes its output, so caches written by older code are never
 * read as if current.
 */
const PREPROCESS_VERSION = 1;

export function resolveTransform(config: TransformConfig): ResolvedTransform {
  const { width, height } = config;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 8192)
      throw new RangeError(`transform ${name} must be an integer in 1..8192, got ${v}`);
  }
  const resizeMode = config.resize ?? 'stretch';
  if (resizeMode !== 'stretch' && resizeMode !== 'shorter-side-crop')
    throw new RangeError(`unknown resize mode ${String(resizeMode)}`);
  const std = [...(config.std ?? IMAGENET_STD)] as [number, number, number];
  if (std.length !== 3 || std.some((s) => !(s > 0)))
    throw new RangeError(`std must be three positive numbers, got ${std.join(', ')}`);
  const mean = [...(config.mean ?? IMAGENET_MEAN)] as [number, number, number];
  if (mean.length !== 3 || mean.some((m) => !Number.isFinite(m)))
    throw new RangeError(`mean must be three numbers, got ${mean.join(', ')}`);
  const a = config.augment === true ? DEFAULT_AUGMENT : config.augment || null;
  return { width, height, resize: resizeMode, mean, std, augment: a ? { ...DEFAULT_AUGMENT, ...a } : null };
}

/** Key of the cached part of the pipeline (decode, grey, resize): not augmentation or normalisation. */
export function preprocessKey(config: TransformConfig | ResolvedTransform): string {
  const r = resolveTransform(config);
  return stableKey({ v: PREPROCESS_VERSION, width: r.width, height: r.height, resize: r.resize });
}

/** Key of the whole pipeline, for run records and comparisons. */
export function transformKey(config: TransformConfig | ResolvedTransform): string {
  return stableKey({ v: PREPROCESS_VERSION, ...resolveTransform(config) });
}

/**
 * Decoded image -> one grey channel at the input size (area averaging when shrinking, via
 * @spine/imaging's resize). This is the expensive, deterministic part that the disk cache keeps.
 */
export function preprocess(image: Image, config: TransformConfig | ResolvedTransform): Image {
  const r = resolveTransform(config);
  const grey = toGrey(image);
  if (r.resize === 'stretch') return resize(grey, r.width, r.height);
  const coverW = Math.round((r.width * 256) / 224);
  const coverH = Math.round((r.height * 256) / 224);
  const scale = Math.max(coverW / grey.width, coverH / grey.height);
  // Floor like torchvision's Resize(int) on the long side, never below the cover box.
  const w = Math.max(coverW, Math.floor(grey.width * scale));
  const h = Math.max(coverH, Math.floor(grey.height * scale));
  const scaled = resize(grey, w, h);
  // torchvision CenterCrop rounds the offset.
  return crop(scaled, {
    x: Math.round((w - r.width) / 2),
    y: Math.round((h - r.height) / 2),
    width: r.width,
    height: r.height,
  });
}

/**
 * Grey input-size image -> normalised 3-channel planar CHW, written into `out` at `offset` (a
 * batch buffer) or a new array. Grey is replicated to three planes because ImageNet-trained
 * networks expect RGB; each plane gets its own mean/std.
 */
export function toNetworkInput(
  grey: Image,
  config: TransformConfig | ResolvedTransform,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const r = resolveTransform(config);
  if (grey.channels !== 1 || grey.width !== r.width || grey.height !== r.height) {
    throw new RangeError(
      `expected a ${r.width}x${r.height} grey image, got ${grey.width}x${grey.height}x${grey.channels}`,
    );
  }
  const n = r.width * r.height;
  const dst = out ?? new Float32Array(3 * n);
  const src = grey.data;
  for (let c = 0; c < 3; c++) {
    const m = r.mean[c]!;
    const s = r.std[c]!; // divide, not multiply by 1/s: bit-for-bit what torchvision Normalize does
    const base = offset + c * n;
    for (let i = 0; i < n; i++) dst[base + i] = (src[i]! - m) / s;
  }
  return dst;
}
