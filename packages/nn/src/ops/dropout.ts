// Inverted dropout: keep each element with probability 1 - p and scale kept ones by 1/(1-p), so
// eval needs no rescaling (PyTorch's F.dropout). The mask is never stored: element i is kept
// iff rng_uniform(keys, counter + i) >= p with the tensor engine's counter-based generator, so
// the backward regenerates it bit for bit from (keys, counter) — the same kernel applied to the
// gradient — and a run after manualSeed(s), or with an explicit seed, is reproducible.
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  nextRngBlock,
  RNG_WGSL,
  runKernel,
  seedKeys,
  TensorError,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';

const WG = 64;

// Words: vectors, key0, key1, first counter, p (f32), scale (f32).
const dropoutKernel = defineKernel<{ vec: 1 | 4 }>({
  name: 'dropout',
  inputs: 1,
  outputs: 1,
  source: ({ vec }) => `${uniformPreamble()}${RNG_WGSL}
@group(0) @binding(1) var<storage, read> x: array<${vec === 4 ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> y: array<${vec === 4 ? 'vec4<f32>' : 'f32'}>;
fn keep(e: u32) -> f32 {
  return select(0.0, pf(5u), rng_uniform(pu(1u), pu(2u), pu(3u) + e) >= pf(4u));
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  ${vec === 4 ? 'let e = 4u * i;\n  y[i] = x[i] * vec4<f32>(keep(e), keep(e + 1u), keep(e + 2u), keep(e + 3u));' : 'y[i] = x[i] * keep(i);'}
}`,
});

interface Mask {
  keys: [number, number];
  counter: number;
  p: number;
}

function applyMask(x: Tensor, m: Mask): Tensor {
  const vec = x.size % 4 === 0 ? 4 : 1;
  const n = x.size / vec;
  const y = empty(x.shape);
  // p = 1 drops everything; a scale of 0 keeps 0 * x finite where 1/(1-p) would be infinite.
  const scale = m.p >= 1 ? 0 : 1 / (1 - m.p);
  const u = new Uniforms().u32(n, m.keys[0], m.keys[1]).rngCounter(m.counter).f32(m.p, scale);
  runKernel(dropoutKernel, { vec }, { inputs: [x], outputs: [y], uniforms: u, workgroups: grid1d(n, WG) });
  return y;
}

const dropoutOp = defineOp({
  name: 'dropout',
  forward: (ctx: OpContext, x: Tensor, mask: Mask) => {
    ctx.mask = mask;
    return applyMask(x, mask);
  },
  backward: (ctx, g) => [applyMask(g, ctx.mask as Mask)],
});

export interface DropoutOptions {
  /** Drop only in training; eval returns x itself. */
  training: boolean;
  /** Fixed seed: the mask depends only on it (counters from 0). Default: the engine's generator advances. */
  seed?: number;
}

/**
 * Zero each element of x with probability p and scale the rest by 1 / (1 - p). Identity (x
 * itself, as PyTorch returns its input) in eval and for p = 0. Element i is kept iff
 * rngUniform(keys, counter + i) >= p, with (keys, counter) from `seed` or the default generator.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  if (!(p >= 0 && p <= 1)) throw new TensorError(`dropout: p must be in [0, 1], got ${p}`);
  if (x.dtype !== 'f32') throw new TensorError(`dropout: x must be f32, got ${x.dtype}`);
  if (!options.training || p === 0) return x;
  const { keys, counter } =
    options.seed !== undefined ? { keys: seedKeys(options.seed), counter: 0 } : nextRngBlock(x.size);
  return dropoutOp(x, { keys, counter, p });
}
