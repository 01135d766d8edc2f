// conv2d as implicit GEMM for real GPUs ('gpu' family): the workgroup-tiled form of
// conv2d-kernel.ts. Each workgroup computes a BM-pixel x BN-channel tile of Y, stepping K =
// (ic, kh, kw) 16 at a time through workgroup memory: the im2col tile of the zero-padded input
// (pixels along the fast axis, so neighbouring threads read neighbouring columns of X) and the
// packed weights as vec4s, both k-major, so the inner loop (@spine/tensor's tileInnerProduct,
// shared with the GPU matmul) reads tm/4 + tn/4 vec4s per tm*tn/4 vec4 multiply-adds without
// bank conflicts. The k -> input offset decode (two divisions) runs once per k per workgroup into
// a small table; each thread's pixel base is computed once.
import { defineKernel, tileAccumulators, tileInnerProduct, uniformPreamble } from '@spine/tensor';
import { GEMM_UNIFORM_LETS, range, type ConvKernelOptions } from './conv2d-kernel.js';

const BK = 16;

/** Same uniform words as convGemmKernel (conv2d-kernel.ts). Needs wx*wy to be a multiple of BM = wy*tm. */
export const convGemmTiledKernel = defineKernel<ConvKernelOptions>({
  name: 'nn_conv2d_gemm_tiled',
  inputs: (o) => (o.bias ? 3 : 2),
  outputs: 1,
  source: (o) => {
    const { tm, tn, wx, wy } = o;
    const BM = wy * tm;
    const BN = wx * tn;
    const threads = wx * wy;
    if (threads % BM !== 0 || tm % 4 !== 0 || tn % 4 !== 0) throw new Error(`conv2d gpu tiles ${tm}x${tn} in ${wx}x${wy}: need tm, tn multiples of 4 and wx*wy a multiple of wy*tm`);
    const L: string[] = [uniformPreamble()];
    L.push('@group(0) @binding(1) var<storage, read> X: array<f32>;');
    L.push('@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;');
    if (o.bias) L.push('@group(0) @binding(3) var<storage, read> bias: array<f32>;');
    L.push(`@group(0) @binding(${o.bias ? 4 : 3}) var<storage, read_write> Y: array<f32>;`);
    L.push(`var<workgroup> As: array<vec4<f32>, ${(BM * BK) / 4}>;`);
    L.push(`var<workgroup> Bs: array<vec4<f32>, ${(BK * BN) / 4}>;`);
    L.push(`var<workgroup> kOff: array<u32, ${BK}>;`);
    L.push(`@compute @workgroup_size(${wx}, ${wy})`);
    L.push('fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    L.push(...GEMM_UNIFORM_LETS);
    L.push('  let OHW = OH * OW; let plane = Hp * Wp; let KHW = KH * KW; let K = C * KHW;');
    L.push(`  let tileRow = (wid.y + wid.z * nwg.y) * ${BM}u; let tileCol = wid.x * ${BN}u;`);
    L.push(`  let tid = lid.y * ${wx}u + lid.x;`);
    // This thread always loads pixel tileRow + (tid % BM) of the A tile: its base offset once.
    L.push(`  let ar = tid % ${BM}u; let ak = tid / ${BM}u; let ap = tileRow + ar;`);
    L.push('  let apc = min(ap, M - 1u); let an = apc / OHW; let aq = apc % OHW;');
    L.push('  let xBase = an * C * plane + (aq / OW) * sh * Wp + (aq % OW) * sw;');
    L.push(...tileAccumulators(tm, tn));
    L.push(`  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {`);
    L.push(`    if (tid < ${BK}u) {`);
    L.push('      let k = k0 + tid; let ic = k / KHW; let rem = k % KHW;');
    L.push('      kOff[tid] = select(0xffffffffu, ic * plane + (rem / KW) * dh * Wp + (rem % KW) * dw, k < K);');
    L.push('    }');
    L.push('    workgroupBarrier();');
    L.push(`    for (var kk = ak; kk < ${BK}u; kk += ${threads / BM}u) {`);
    L.push('      let off = kOff[kk];');
    L.push('      var v = 0.0;');
    L.push('      if (ap < M && off != 0xffffffffu) { v = X[xBase + off]; }');
    L.push(`      As[kk * ${BM / 4}u + ar / 4u][ar % 4u] = v;`);
    L.push('    }');
    L.push(`    for (var i = tid; i < ${(BK * BN) / 4}u; i += ${threads}u) {`);
    L.push(`      let kk = i / ${BN / 4}u; let c4 = tileCol / 4u + i % ${BN / 4}u; let k = k0 + kk;`);
    L.push('      var v = vec4<f32>(0.0);');
    L.push('      if (k < K && c4 < N4) { v = B[k * N4 + c4]; }');
    L.push('      Bs[i] = v;');
    L.push('    }');
    L.push('    workgroupBarrier();');
    L.push(...tileInnerProduct({ tm, tn, bm: BM, bn: BN, bk: BK }));
    L.push('    workgroupBarrier();');
    L.push('  }');
    L.push(`  let row0 = tileRow + lid.y * ${tm}u; let col0 = tileCol + lid.x * ${tn}u;`);
    for (const r of range(tm)) {
      L.push(`  if (row0 + ${r}u < M) {`);
      L.push(`    let p = row0 + ${r}u; let yb = (p / OHW) * OC * OHW + p % OHW;`);
      for (const c of range(tn)) {
        const b = o.bias ? ` + bias[col0 + ${c}u]` : '';
        L.push(`    if (col0 + ${c}u < OC) { Y[yb + (col0 + ${c}u) * OHW] = acc_${r}_${Math.floor(c / 4)}[${c % 4}]${b}; }`);
      }
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});
