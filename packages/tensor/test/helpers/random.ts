// Seeded CPU random inputs. Each case derives its own seed from its name, so cases differ
// from each other yet a failure reproduces exactly. Values are rounded to f32 first: the
// reference then sees the very numbers the GPU sees.
import { numel, type Arr } from '../reference/ndarray.js';

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of the case's name: a stable seed per case. */
export function seedFor(...parts: unknown[]): number {
  const s = JSON.stringify(parts);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export interface UniformOptions {
  lo?: number;
  hi?: number;
  /** Keep |v| at least this (away from 0, the kink of abs/relu/sign, the pole of 1/x). */
  minAbs?: number;
}

/** Uniform f32-exact values in [lo, hi), never exactly 0. */
export function randomArr(shape: readonly number[], seed: number, o: UniformOptions = {}): Arr {
  const r = rng(seed);
  const lo = o.lo ?? -2;
  const hi = o.hi ?? 2;
  const minAbs = o.minAbs ?? 0;
  const data = new Float64Array(numel(shape));
  for (let i = 0; i < data.length; i++) {
    let v = 0;
    while (v === 0 || Math.abs(v) < minAbs) v = Math.fround(lo + (hi - lo) * r());
    data[i] = v;
  }
  return { shape: [...shape], data };
}

/** Integers in [lo, hi] (ties on purpose: comparisons, argmax, max gradients). */
export function randomInts(shape: readonly number[], seed: number, lo: number, hi: number): Arr {
  const r = rng(seed);
  const data = new Float64Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + Math.floor(r() * (hi - lo + 1));
  return { shape: [...shape], data };
}

/** A random permutation of 0..n-1 scaled into distinct values (no ties anywhere). */
export function distinctArr(shape: readonly number[], seed: number, scale = 0.01): Arr {
  const r = rng(seed);
  const n = numel(shape);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return { shape: [...shape], data: Float64Array.from(perm, (p) => Math.fround((p - n / 2 + 0.5) * scale)) };
}
