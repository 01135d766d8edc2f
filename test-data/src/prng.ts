/**
 * Seeded randomness. Every random choice in the phantom comes from one of these streams, so a
 * (seed, index) pair fully determines a film; `streamFor` derives independent streams per subject
 * so film k is the same whether 10 or 10,000 films are generated.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(lo: number, hi: number): number;
  normal(mean?: number, sd?: number): number;
  bernoulli(p: number): boolean;
  int(lo: number, hiInclusive: number): number;
}

/** mulberry32: 32-bit state, passes BigCrush's small-crush, and is a few lines of integer math. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** splitmix-style hash of (seed, a, b) into a new 32-bit seed. */
export function mixSeed(seed: number, a: number, b = 0): number {
  let h = (seed ^ Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  let spare: number | undefined;
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal(mean = 0, sd = 1) {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return mean + sd * s;
      }
      // Box-Muller; 1 - next() avoids log(0).
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const t = 2 * Math.PI * next();
      spare = r * Math.sin(t);
      return mean + sd * r * Math.cos(t);
    },
    bernoulli: (p) => next() < p,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}

/** An independent stream for one purpose ("anatomy", "noise", ...) of one subject. */
export function streamFor(seed: number, subject: number, purpose: number): Rng {
  return createRng(mixSeed(seed, subject, purpose));
}
