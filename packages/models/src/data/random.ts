/**
 * The data layer's seeded PRNG: xoshiro128** (Blackman & Vigna), 32-bit state words seeded by
 * splitmix32 from one integer seed. Chosen because it is small, fast in 32-bit JS arithmetic,
 * passes BigCrush, and its whole state is four integers that serialise into a checkpoint.
 * Independent streams (per epoch, per image) come from `deriveSeed`, so the order in which
 * workers happen to run never changes a result.
 */
export class SeededRandom {
  private s: Uint32Array;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      this.s[i] = mix32(x);
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // all-zero is a fixed point
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2] ^= s[0]!;
    s[3] ^= s[1]!;
    s[1] ^= s[2]!;
    s[0] ^= s[3]!;
    s[2] ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`int(n) needs 1 <= n <= 2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** The four state words, for checkpoints. */
  getState(): [number, number, number, number] {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4) throw new RangeError('SeededRandom state has 4 words');
    this.s = Uint32Array.from(state);
  }
}

/**
 * Combines a seed with stream indices (epoch, image index, ...) into a new 32-bit seed, hashing
 * each part in so that (1, 2) and (2, 1) differ and nearby inputs give unrelated streams.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = mix32((seed >>> 0) ^ 0x5bd1e995);
  for (const p of parts) h = mix32((h ^ mix32(p >>> 0)) + 0x9e3779b9);
  return h >>> 0;
}

/** A random permutation of 0..n-1 for a seed. */
export function permutation(n: number, seed: number): Int32Array {
  const rng = new SeededRandom(seed);
  const items = Array.from({ length: n }, (_, i) => i);
  return Int32Array.from(rng.shuffle(items));
}

/** splitmix32/murmur3 finaliser: a bijective avalanche on 32 bits. */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
