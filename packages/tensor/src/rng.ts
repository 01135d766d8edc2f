// Counter-based random numbers: value i of a draw is a pure function of (seed, counter + i),
// so a draw is reproducible on any device and needs no state on the GPU. The hash is a few
// rounds of the "lowbias32" integer mixer (Wellons) over seed and counter words; the CPU
// twin below computes the same bits, which the tests check.

/** WGSL: u32 hash of (key0, key1, counter). */
export const RNG_WGSL = `
fn rng_mix(x0: u32) -> u32 {
  var x = x0;
  x = x ^ (x >> 16u); x = x * 0x7feb352du;
  x = x ^ (x >> 15u); x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}
fn rng_u32(k0: u32, k1: u32, ctr: u32) -> u32 {
  return rng_mix(rng_mix(rng_mix(ctr ^ k0) + k1) ^ 0x9e3779b9u);
}
// Uniform in [0, 1): 24 random bits, as torch.rand does for float32.
fn rng_uniform(k0: u32, k1: u32, ctr: u32) -> f32 {
  return f32(rng_u32(k0, k1, ctr) >> 8u) * (1.0 / 16777216.0);
}
`;

function mix(x0: number): number {
  let x = x0 >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** CPU twin of rng_u32. */
export function rngU32(k0: number, k1: number, ctr: number): number {
  return mix((mix((mix((ctr ^ k0) >>> 0) + k1) >>> 0) ^ 0x9e3779b9) >>> 0);
}

/** CPU twin of rng_uniform. */
export function rngUniform(k0: number, k1: number, ctr: number): number {
  return (rngU32(k0, k1, ctr) >>> 8) / 16777216;
}

/** Split a seed (any safe integer) into the two 32-bit key words. */
export function seedKeys(seed: number): [number, number] {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return [mix(lo ^ 0x85ebca6b), mix(hi + 0xc2b2ae35)];
}

/**
 * The default generator: a seed and a running counter. Draws without an explicit seed take
 * the next block of counters, so a run is reproducible after manualSeed(s), and its state can
 * be saved and restored for exact resume.
 */
export interface RngState {
  seed: number;
  counter: number;
}

let state: RngState = { seed: 0x5eed, counter: 0 };

export function manualSeed(seed: number): void {
  state = { seed, counter: 0 };
}

export function getRngState(): RngState {
  return { ...state };
}

export function setRngState(s: RngState): void {
  state = { seed: s.seed, counter: s.counter };
}

/** Reserve `count` counters from the default generator: returns (keys, first counter). */
export function nextRngBlock(count: number): { keys: [number, number]; counter: number } {
  const counter = state.counter;
  // Counters are 32-bit in the kernel; move to a fresh key once they would wrap.
  if (counter + count > 0xffffffff) {
    state = { seed: state.seed + 0x9e3779b9, counter: 0 };
    return nextRngBlock(count);
  }
  state.counter += count;
  return { keys: seedKeys(state.seed), counter };
}
