// Batch norm's statistics, and its whole backward, in one dispatch each for the 'cpu' kernel
// family: one invocation per channel walks the channel's planes chunk by chunk, with the partial
// kernels' chunking (CHUNK vectors of a plane) and the finalize kernels' combination in the same
// order, so it computes what the partial/finalize pair computes without the partials' round trip
// or a second dispatch; the backward then walks the channel again to write dx (on lavapipe as
// fast as or faster than the plane-parallel apply kernel at DenseNet-121's shapes, without its
// dispatch). No workgroup memory and no barriers: on llvmpipe a workgroup barrier splits
// the shader into resumable pieces, which made the workgroup-per-channel kernels (the 'gpu'
// family's) 1.3-2.5x slower than the pairs there. The workgroup is one llvmpipe SIMD row, so
// even 64 channels give every core workgroups to run.
import { defineKernel, linearIndex, uniformPreamble } from '@spine/tensor';
import { CHUNK, hsum, PRE, vtype, type DxOptions, type SinglePassForwardOptions } from './batchnorm-kernels.js';

/** Invocations per workgroup of the lane-per-channel kernels. */
export const LANE_WG = 8;

/** WGSL: `body` once per chunk [start, end) of each of channel c's N planes, in the partials' order. */
function forChunks(body: string): string {
  return `  let chunks = (Sv + ${CHUNK - 1}u) / ${CHUNK}u;
  for (var n = 0u; n < N; n++) {
    let plane = n * C + c;
    for (var k = 0u; k < chunks; k++) {
      let start = plane * Sv + k * ${CHUNK}u;
      let end = min(start + ${CHUNK}u, (plane + 1u) * Sv);
${body}
    }
  }`;
}

function laneMain(body: string): string {
  return `@compute @workgroup_size(${LANE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${linearIndex(LANE_WG)};
  let C = pu(0u); let Sv = pu(1u); let N = pu(2u);
  if (c >= C) { return; }
${body}
}`;
}

/**
 * Words: C, S (vectors per plane), N, M = N*S (f32), momentum (f32), eps (f32), as
 * singlePassForwardKernel. x, weight, bias -> stats[, runMean, runVar].
 */
export const laneForwardKernel = defineKernel<SinglePassForwardOptions>({
  name: 'bn_lane_forward',
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
${laneMain(`  var cnt = 0.0; var mean = 0.0; var m2 = 0.0;
${forChunks(`      // The chunk's shifted sums (shift = its first value), then Chan's combination.
      let shift = V(${vec === 4 ? 'x[start].x' : 'x[start]'});
      var s1 = V(0.0); var s2 = V(0.0);
      for (var i = start; i < end; i++) { let d = x[i] - shift; s1 += d; s2 += d * d; }
      let qn = f32((end - start) * ${vec}u);
      let a = ${hsum(vec, 's1')}; let b = ${hsum(vec, 's2')};
      let qm = ${vec === 4 ? 'shift.x' : 'shift'} + a / qn;
      let tot = cnt + qn;
      let d = qm - mean;
      mean += d * (qn / tot);
      m2 += max(b - a * a / qn, 0.0) + d * d * (cnt * qn / tot);
      cnt = tot;`)}
  let M = pf(3u);
  let variance = m2 / M;
${
  update
    ? `  // PyTorch: running = (1 - momentum) * running + momentum * batch, with the unbiased variance.
  let mom = pf(4u);
  runMean[c] = (1.0 - mom) * runMean[c] + mom * mean;
  runVar[c] = (1.0 - mom) * runVar[c] + mom * (m2 / (M - 1.0));`
    : ''
}
  let invstd = 1.0 / sqrt(variance + pf(5u));
  let scale = weight[c] * invstd;
  stats[c] = vec4<f32>(mean, invstd, scale, bias[c] - mean * scale);`)}`,
});

export interface LaneBackwardOptions extends DxOptions {
  training: boolean;
  /**
   * Write dx too, in a second walk over the channel, instead of the coefficients for
   * applyBackwardKernel: the whole backward in one dispatch (with addend, dx plus the gradient
   * waiting for x).
   */
  dx: boolean;
}

/**
 * Words: C, S (vectors per plane), N, M (f32), as singlePassBackwardKernel. x, g, stats[, waiting]
 * -> dweight, dbias, then coef (applyBackwardKernel writes dx from it) or dx itself.
 */
export const laneBackwardKernel = defineKernel<LaneBackwardOptions>({
  name: 'bn_lane_backward',
  inputs: (o) => (o.addend ? 4 : 3),
  outputs: 3,
  source: ({ vec, relu, training, dx, addend }) => {
    const bindings = [
      'read> x: array<V>',
      'read> g: array<V>',
      'read> stats: array<vec4<f32>>',
      ...(addend ? ['read> waiting: array<V>'] : []),
      'read_write> dweight: array<f32>',
      'read_write> dbias: array<f32>',
      dx ? 'read_write> dx: array<V>' : 'read_write> coef: array<vec4<f32>>',
    ].map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b};`);
    return `${uniformPreamble()}
alias V = ${vtype(vec)};
${bindings.join('\n')}
${PRE}
fn masked(v: V, i: u32, st: vec4<f32>) -> V { return ${relu ? 'select(V(0.0), g[i], pre(v, st) > V(0.0))' : 'g[i]'}; }
${laneMain(
  `  let st = stats[c];
  var tg = 0.0; var tgx = 0.0;
${forChunks(`      var sg = V(0.0); var sgx = V(0.0);
      for (var i = start; i < end; i++) {
        let v = x[i];
        let dy = masked(v, i, st);
        sg += dy; sgx += dy * (v - V(st.x));
      }
      tg += ${hsum(vec, 'sg')}; tgx += ${hsum(vec, 'sgx')};`)}
  let dw = tgx * st.y;
  dweight[c] = dw;
  dbias[c] = tg;
${
  training
    ? `  // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))
  let M = pf(3u);
  let k = vec4<f32>(st.z, -st.z * st.y * dw / M, -st.z * tg / M, st.x);`
    : '  let k = vec4<f32>(st.z, 0.0, 0.0, st.x);'
}
${
  dx
    ? `  for (var n = 0u; n < N; n++) {
    let base = (n * C + c) * Sv;
    for (var i = base; i < base + Sv; i++) {
      let v = x[i];
      dx[i] = ${addend ? 'waiting[i] + ' : ''}(V(k.x) * masked(v, i, st) + V(k.y) * (v - V(k.w)) + V(k.z));
    }
  }`
    : '  coef[c] = k;'
}`,
)}`;
  },
});
