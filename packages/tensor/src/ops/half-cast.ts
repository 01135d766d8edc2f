// Casts between f32 and f16 tensors, bit-exact (half.ts): one word of two f16 values per
// invocation one way, one element per invocation the other way; and f32 values rounded to f16
// values in place of both casts (one pass, no f16 tensor: mixed precision's operand rounding).
import { defineKernel, grid1d, linearIndex, runKernel, uniformPreamble, Uniforms } from '../kernel.js';
import { F16_BITS_WGSL, requireF16 } from '../half.js';
import type { Tensor } from '../tensor.js';
import { empty } from './creation.js';

const WG = 64;

// Uniform word: n (elements).
const toF16Kernel = defineKernel({
  name: 'cast-f32-f16',
  inputs: 1,
  outputs: 1,
  source: () => `${uniformPreamble()}${F16_BITS_WGSL}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = ${linearIndex(WG)};
  let n = pu(0u);
  if (2u * w >= n) { return; }
  let lo = f16_bits(x[2u * w]);
  let hi = select(0u, f16_bits(x[min(2u * w + 1u, n - 1u)]), 2u * w + 1u < n);
  out[w] = lo | (hi << 16u);
}`,
});

const toF32Kernel = defineKernel({
  name: 'cast-f16-f32',
  inputs: 1,
  outputs: 1,
  source: () => `${uniformPreamble()}${F16_BITS_WGSL}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  out[i] = f32_bits_of_f16((x[i / 2u] >> (16u * (i & 1u))) & 0xffffu);
}`,
});

/** f32 -> f16, rounding to nearest even like PyTorch's `.half()` (no autograd). */
export function toF16(x: Tensor): Tensor {
  requireF16('half');
  const out = empty(x.shape, 'f16');
  const n = x.size;
  runKernel(
    toF16Kernel,
    {},
    { inputs: [x], outputs: [out], uniforms: new Uniforms().u32(n), workgroups: grid1d(Math.ceil(n / 2), WG) },
  );
  return out;
}

/** f16 -> f32, exact like PyTorch's `.float()` (no autograd). */
export function toF32(x: Tensor): Tensor {
  const out = empty(x.shape, 'f32');
  const n = x.size;
  runKernel(
    toF32Kernel,
    {},
    { inputs: [x], outputs: [out], uniforms: new Uniforms().u32(n), workgroups: grid1d(n, WG) },
  );
  return out;
}

const roundKernel = defineKernel({
  name: 'round-f16-values',
  inputs: 1,
  outputs: 1,
  source: () => `${uniformPreamble()}${F16_BITS_WGSL}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  out[i] = f32_bits_of_f16(f16_bits(x[i]));
}`,
});

/**
 * An f32 tensor's values rounded to the nearest f16 values (ties to even), still f32: what
 * cast(cast(x, 'f16'), 'f32') gives, in one pass (no autograd).
 */
export function roundToHalfValues(x: Tensor): Tensor {
  const out = empty(x.shape, 'f32');
  const n = x.size;
  runKernel(
    roundKernel,
    {},
    { inputs: [x], outputs: [out], uniforms: new Uniforms().u32(n), workgroups: grid1d(n, WG) },
  );
  return out;
}
