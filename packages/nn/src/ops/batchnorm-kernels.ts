// WGSL for batch normalisation over [N, C, S] (S = H*W, any trailing dims). Four kernels:
//
//   partial   one invocation per (plane, chunk of the plane): forward, (count, mean, M2) of the
//             chunk from shifted sums (shift = the chunk's first value, so f32 keeps its digits
//             when |mean| >> std); backward, (sum dy, sum dy * (x - mean)).
//   finalize  one invocation per channel: Chan's parallel combination of the chunk statistics,
//             the running-stat update (written in place into the caller's tensors), and the
//             per-channel coefficients the elementwise passes use.
//   apply     forward y = x * scale + shift (then ReLU); backward dx = k1*dy + k2*(x-mean) + k3.
//
// The elementwise passes run one workgroup row per plane (workgroup_id.y/z = n*C + c) so the
// per-channel coefficients are uniform loads: on llvmpipe a uniform load is one scalar load,
// a per-lane load a loop over the SIMD lanes (docs/PERFORMANCE.md). Both kernel families run
// them; only the partials' read order differs by family. Channels of at most SINGLE_PASS_MAX
// values take the single-pass kernels at the end instead. `vec` 4 reads planes as vec4
// when S % 4 == 0 (DenseNet's 56x56, 28x28, 14x14); 7x7 and odd planes use scalars.
import { defineKernel, linearIndex, uniformPreamble } from '@spine/tensor';
import { PLANE_INDEX } from './plane-grid.js';

export const WG = 64;
/** Chunk length of the partial kernels, in elements of the plane's vector type. */
export const CHUNK = 64;

export interface VecOptions {
  vec: 1 | 4;
}
export interface PartialOptions extends VecOptions {
  /**
   * Which vectors of its plane a partial invocation reads: a contiguous chunk ('cpu' family:
   * one lane streams through its own cache lines), or every chunks-th vector ('gpu' family:
   * neighbouring invocations read neighbouring vectors, so the loads coalesce).
   */
  interleaved: boolean;
}

function chunkRange(interleaved: boolean): string {
  return interleaved
    ? '  let start = plane * S + k; let end = (plane + 1u) * S; let step = chunks; let count = (S - k + chunks - 1u) / chunks;'
    : `  let start = plane * S + k * ${CHUNK}u; let end = min(start + ${CHUNK}u, (plane + 1u) * S); let step = 1u; let count = end - start;`;
}
export interface ApplyOptions extends VecOptions {
  relu: boolean;
}

export const vtype = (vec: 1 | 4) => (vec === 4 ? 'vec4<f32>' : 'f32');
export const hsum = (vec: 1 | 4, e: string) => (vec === 4 ? `dot(${e}, vec4<f32>(1.0))` : e);

// Both passes of the fused BN-ReLU recompute the pre-activation with this one expression, so
// the backward's ReLU mask is bit-identical to the forward's (no saved output needed).
export const PRE = 'fn pre(v: V, s: vec4<f32>) -> V { return v * V(s.z) + V(s.w); }';

/** Words: C, S (vectors per plane), chunks per plane, total invocations. */
export const partialForwardKernel = defineKernel<PartialOptions>({
  name: 'bn_partial_forward',
  inputs: 1,
  outputs: 1,
  source: ({ vec, interleaved }) => `${uniformPreamble()}
alias V = ${vtype(vec)};
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read_write> part: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = ${linearIndex(WG)};
  if (t >= pu(3u)) { return; }
  let C = pu(0u); let S = pu(1u); let chunks = pu(2u);
  let plane = t / chunks; let k = t % chunks;
  let n = plane / C; let c = plane % C;
${chunkRange(interleaved)}
  let shift = V(${vec === 4 ? 'x[start].x' : 'x[start]'});
  var s1 = V(0.0); var s2 = V(0.0);
  for (var i = start; i < end; i += step) { let d = x[i] - shift; s1 += d; s2 += d * d; }
  let cnt = f32(count * ${vec}u);
  let a = ${hsum(vec, 's1')}; let b = ${hsum(vec, 's2')};
  let per = (pu(3u) / C);
  part[c * per + n * chunks + k] = vec4<f32>(cnt, ${vec === 4 ? 'shift.x' : 'shift'} + a / cnt, max(b - a * a / cnt, 0.0), 0.0);
}`,
});

/** Words: C, S, chunks, total invocations. stats[c] = (mean, invstd, scale, shift). */
export const partialBackwardKernel = defineKernel<ApplyOptions & PartialOptions>({
  name: 'bn_partial_backward',
  inputs: 3,
  outputs: 1,
  source: ({ vec, relu, interleaved }) => `${uniformPreamble()}
alias V = ${vtype(vec)};
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> g: array<V>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> part: array<vec2<f32>>;
${PRE}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = ${linearIndex(WG)};
  if (t >= pu(3u)) { return; }
  let C = pu(0u); let S = pu(1u); let chunks = pu(2u);
  let plane = t / chunks; let k = t % chunks;
  let n = plane / C; let c = plane % C;
  let st = stats[c];
${chunkRange(interleaved)}
  var sg = V(0.0); var sgx = V(0.0);
  for (var i = start; i < end; i += step) {
    let v = x[i];
    let dy = ${relu ? 'select(V(0.0), g[i], pre(v, st) > V(0.0))' : 'g[i]'};
    sg += dy; sgx += dy * (v - V(st.x));
  }
  let per = (pu(3u) / C);
  part[c * per + n * chunks + k] = vec2<f32>(${hsum(vec, 'sg')}, ${hsum(vec, 'sgx')});
}`,
});

export interface FinalizeForwardOptions {
  /** 'batch': statistics from the partials; 'running': from the running stats (eval). */
  source: 'batch' | 'running';
  /** Write the momentum update into the running stats (training with tracked stats). */
  update: boolean;
}

/**
 * Words: C, partials per channel, M = N*S (f32), momentum (f32), eps (f32).
 * Bindings, batch: part, weight, bias -> stats[, runMean, runVar]; running: weight, bias,
 * runMean, runVar -> stats. The running stats are outputs when updated: a dispatch may not
 * bind one buffer both read-only and writable, and read_write lets the kernel read them.
 */
export const finalizeForwardKernel = defineKernel<FinalizeForwardOptions>({
  name: 'bn_finalize_forward',
  inputs: (o) => (o.source === 'batch' ? 3 : 4),
  outputs: (o) => (o.update ? 3 : 1),
  source: ({ source, update }) => {
    const batch = source === 'batch';
    const decl = batch
      ? `@group(0) @binding(1) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<vec4<f32>>;
${
  update
    ? `@group(0) @binding(5) var<storage, read_write> runMean: array<f32>;
@group(0) @binding(6) var<storage, read_write> runVar: array<f32>;`
    : ''
}`
      : `@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> runMean: array<f32>;
@group(0) @binding(4) var<storage, read> runVar: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<vec4<f32>>;`;
    const body = batch
      ? `  var cnt = 0.0; var mean = 0.0; var m2 = 0.0;
  for (var p = 0u; p < pu(1u); p++) {
    let q = part[c * pu(1u) + p];
    let tot = cnt + q.x;
    let d = q.y - mean;
    mean += d * (q.x / tot);
    m2 += q.z + d * d * (cnt * q.x / tot);
    cnt = tot;
  }
  let M = pf(2u);
  let variance = m2 / M;
${
  update
    ? `  // PyTorch: running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
  let mom = pf(3u);
  runMean[c] = (1.0 - mom) * runMean[c] + mom * mean;
  runVar[c] = (1.0 - mom) * runVar[c] + mom * (m2 / (M - 1.0));`
    : ''
}`
      : `  let mean = runMean[c];
  let variance = runVar[c];`;
    return `${uniformPreamble()}
${decl}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${linearIndex(WG)};
  if (c >= pu(0u)) { return; }
${body}
  let invstd = 1.0 / sqrt(variance + pf(4u));
  let scale = weight[c] * invstd;
  stats[c] = vec4<f32>(mean, invstd, scale, bias[c] - mean * scale);
}`;
  },
});

/**
 * Words: C, partials per channel, M (f32). part -> dweight, dbias, coef with
 * dx = coef.x * dy + coef.y * (x - coef.w) + coef.z. Training differentiates through the
 * batch statistics; eval treats the running statistics as constants (coef.y = coef.z = 0).
 */
export const finalizeBackwardKernel = defineKernel<{ training: boolean }>({
  name: 'bn_finalize_backward',
  inputs: 2,
  outputs: 3,
  source: ({ training }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> part: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(5) var<storage, read_write> coef: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${linearIndex(WG)};
  if (c >= pu(0u)) { return; }
  var sg = 0.0; var sgx = 0.0;
  for (var p = 0u; p < pu(1u); p++) { let q = part[c * pu(1u) + p]; sg += q.x; sgx += q.y; }
  let st = stats[c];
  let dw = sgx * st.y;
  dweight[c] = dw;
  dbias[c] = sg;
${
  training
    ? `  // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))
  let M = pf(2u);
  coef[c] = vec4<f32>(st.z, -st.z * st.y * dw / M, -st.z * sg / M, st.x);`
    : '  coef[c] = vec4<f32>(st.z, 0.0, 0.0, st.x);'
}
}`,
});

/** Workgroup x: 64 vectors of one plane; y (+ z fold): the plane n*C + c. Words: C, S, planes. */
function planeMain(body: string): string {
  return `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = ${PLANE_INDEX};
  if (plane >= pu(2u)) { return; }
  let c = plane % pu(0u);
  let j = wid.x * ${WG}u + lid;
  if (j >= pu(1u)) { return; }
  let i = plane * pu(1u) + j;
${body}
}`;
}

export const applyForwardKernel = defineKernel<ApplyOptions>({
  name: 'bn_apply_forward',
  inputs: 2,
  outputs: 1,
  source: ({ vec, relu }) => `${uniformPreamble()}
alias V = ${vtype(vec)};
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<V>;
${PRE}
${planeMain(`  let st = stats[c];
  let v = pre(x[i], st);
  y[i] = ${relu ? 'max(v, V(0.0))' : 'v'};`)}`,
});

export interface DxOptions extends ApplyOptions {
  /** dx is stored plus a gradient already waiting for x (autograd's PendingGradients). */
  addend: boolean;
}

export const applyBackwardKernel = defineKernel<DxOptions>({
  name: 'bn_apply_backward',
  inputs: (o) => (o.addend ? 5 : 4),
  outputs: 1,
  source: ({ vec, relu, addend }) => `${uniformPreamble()}
alias V = ${vtype(vec)};
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> g: array<V>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;
${addend ? '@group(0) @binding(5) var<storage, read> waiting: array<V>;\n' : ''}@group(0) @binding(${addend ? 6 : 5}) var<storage, read_write> dx: array<V>;
${PRE}
${planeMain(`  let k = coef[c];
  let v = x[i];
  let dy = ${relu ? 'select(V(0.0), g[i], pre(v, stats[c]) > V(0.0))' : 'g[i]'};
  dx[i] = ${addend ? 'waiting[i] + ' : ''}(V(k.x) * dy + V(k.y) * (v - V(k.w)) + V(k.z));`)}`,
});

// ---- Single-pass variants: one workgroup per channel --------------------------------------
//
// Where a channel holds few enough values (SINGLE_PASS_MAX), one workgroup reads the whole
// channel: the forward's statistics and the backward's sums and coefficients are then one
// dispatch each instead of two. dx stays the plane-parallel apply kernel (folding it into the
// channel's workgroup measured slower on lavapipe). The lanes' partial results meet in workgroup memory
// (Chan's combination, as the finalize kernels do across chunks).

/** Values per channel (N * S) up to which the single-pass kernels run. */
export const SINGLE_PASS_MAX = 65536;

/**
 * WGSL: `body` for each vector j of the channel's plane `base` that lane `lid` owns, every WG-th
 * from j = lid: neighbouring lanes read neighbouring vectors (on lavapipe a contiguous run per
 * lane, or a workgroup-uniform loop with a bounds branch inside, measured up to twice as slow).
 */
function forLaneVectors(body: string): string {
  return `  for (var n = 0u; n < N; n++) {
    let base = (n * C + c) * Sv;
    for (var j = lid; j < Sv; j += ${WG}u) {
${body}
    }
  }`;
}

function channelMain(body: string): string {
  return `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${PLANE_INDEX};
  if (c >= pu(0u)) { return; }
  let C = pu(0u); let Sv = pu(1u); let N = pu(2u);
${body}
}`;
}

export interface SinglePassForwardOptions extends VecOptions {
  /** Write the momentum update into the running stats (training with tracked stats). */
  update: boolean;
}

/**
 * Words: C, S (vectors per plane), N, M = N*S (f32), momentum (f32), eps (f32). x, weight, bias
 * -> stats[, runMean, runVar], as partial + finalize (source 'batch') compute them.
 */
export const singlePassForwardKernel = defineKernel<SinglePassForwardOptions>({
  name: 'bn_stats_forward',
  inputs: 3,
  outputs: (o) => (o.update ? 3 : 1),
  source: ({ vec, update }) => `${uniformPreamble()}
alias V = ${vtype(vec)};
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<vec4<f32>>;
${
  update
    ? `@group(0) @binding(5) var<storage, read_write> runMean: array<f32>;
@group(0) @binding(6) var<storage, read_write> runVar: array<f32>;`
    : ''
}
var<workgroup> wc: array<f32, ${WG}>;
var<workgroup> wm: array<f32, ${WG}>;
var<workgroup> wq: array<f32, ${WG}>;
${channelMain(`  // Shifted sums (shift = the channel's first value) keep f32's digits when |mean| >> std.
  let shift = V(${vec === 4 ? 'x[c * Sv].x' : 'x[c * Sv]'});
  var s1 = V(0.0); var s2 = V(0.0);
${forLaneVectors('        let d = x[base + j] - shift; s1 += d; s2 += d * d;')}
  let cnt = f32(N * ((Sv + ${WG - 1}u - min(lid, Sv)) / ${WG}u) * ${vec}u);
  let a = ${hsum(vec, 's1')}; let b = ${hsum(vec, 's2')};
  wc[lid] = cnt;
  wm[lid] = select(0.0, ${vec === 4 ? 'shift.x' : 'shift'} + a / cnt, cnt > 0.0);
  wq[lid] = select(0.0, max(b - a * a / cnt, 0.0), cnt > 0.0);
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s && wc[lid + s] > 0.0) {
      let na = wc[lid]; let nb = wc[lid + s]; let tot = na + nb;
      let d = wm[lid + s] - wm[lid];
      wm[lid] += d * (nb / tot);
      wq[lid] += wq[lid + s] + d * d * (na * nb / tot);
      wc[lid] = tot;
    }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  let mean = wm[0]; let m2 = wq[0];
  let M = pf(3u);
  let variance = m2 / M;
${
  update
    ? `  let mom = pf(4u);
  runMean[c] = (1.0 - mom) * runMean[c] + mom * mean;
  runVar[c] = (1.0 - mom) * runVar[c] + mom * (m2 / (M - 1.0));`
    : ''
}
  let invstd = 1.0 / sqrt(variance + pf(5u));
  let scale = weight[c] * invstd;
  stats[c] = vec4<f32>(mean, invstd, scale, bias[c] - mean * scale);`)}`,
});

/**
 * Words: C, S (vectors per plane), N, M (f32). x, g, stats -> dweight, dbias, coef: partial and
 * finalize backward in one dispatch; applyBackwardKernel then writes dx from coef.
 */
export const singlePassBackwardKernel = defineKernel<ApplyOptions & { training: boolean }>({
  name: 'bn_backward_sums',
  inputs: 3,
  outputs: 3,
  source: ({ vec, relu, training }) => `${uniformPreamble()}
alias V = ${vtype(vec)};
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> g: array<V>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(6) var<storage, read_write> coef: array<vec4<f32>>;
var<workgroup> wa: array<f32, ${WG}>;
var<workgroup> wb: array<f32, ${WG}>;
${PRE}
${channelMain(`  let st = stats[c];
  var sg = V(0.0); var sgx = V(0.0);
${forLaneVectors(`      let v = x[base + j];
      let dy = ${relu ? 'select(V(0.0), g[base + j], pre(v, st) > V(0.0))' : 'g[base + j]'};
      sg += dy; sgx += dy * (v - V(st.x));`)}
  wa[lid] = ${hsum(vec, 'sg')}; wb[lid] = ${hsum(vec, 'sgx')};
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { wa[lid] += wa[lid + s]; wb[lid] += wb[lid + s]; }
    workgroupBarrier();
  }
  if (lid != 0u) { return; }
  let dw = wb[0] * st.y;
  dweight[c] = dw;
  dbias[c] = wa[0];
${
  training
    ? `  // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))
  let M = pf(3u);
  coef[c] = vec4<f32>(st.z, -st.z * st.y * dw / M, -st.z * wa[0] / M, st.x);`
    : '  coef[c] = vec4<f32>(st.z, 0.0, 0.0, st.x);'
}`)}`,
});
