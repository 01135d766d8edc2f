// conv2d implicit GEMM for few output channels on software adapters: lanes over output pixels,
// weights uniform. The register-block kernel (conv2d-kernel.ts) puts output channels on the 8
// SIMD lanes of a llvmpipe workgroup, 4 per lane; with 16 or fewer channels half or more of its
// lanes compute clamped duplicates. Here each lane owns `tp` output pixels and every invocation
// of a workgroup shares one block of `toc` channels (from workgroup_id), so the weight loads are
// uniform (a scalar load and a broadcast on llvmpipe) and only the input values are read per
// lane. Measured on lavapipe (bench/NOTES.md): 2-5x the register-block kernel for 8-16 outputs
// (the sequential CNN's conv1, 3 -> 16 channels 5x5 stride 2, went from ~1 to ~3-5 GFLOP/s).
// Same uniforms and zero-padded input as convGemmKernel; B is the packed weights
// [(c, kh, kw), ocPadded] as vec4.
import { defineKernel, uniformPreamble } from '@spine/tensor';
import { range } from './conv2d-kernel.js';

export interface PixelLaneTiles {
  /** Output channels per workgroup (a multiple of 4). */
  toc: number;
  /** Output pixels per lane. */
  tp: number;
}

export interface PixelLaneOptions extends PixelLaneTiles {
  bias: boolean;
}

/** Lanes per workgroup: llvmpipe's 8-wide SIMD on AVX2. */
export const PIXEL_LANES = 8;

const COMP = 'xyzw';

// Words: 0 M (= N*OH*OW), 1 OC, 2 C, 3 Hp, 4 Wp, 5 OH, 6 OW, 7 KH, 8 KW, 9 sh, 10 sw, 11 dh,
// 12 dw, 13 OC padded / 4.
export const convGemmPixelLanesKernel = defineKernel<PixelLaneOptions>({
  name: 'nn_conv2d_gemm_pixel_lanes',
  inputs: (o) => (o.bias ? 3 : 2),
  outputs: 1,
  source: (o) => {
    const { toc, tp } = o;
    const q4 = toc / 4;
    const L: string[] = [uniformPreamble()];
    L.push('@group(0) @binding(1) var<storage, read> X: array<f32>;');
    L.push('@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;');
    if (o.bias) L.push('@group(0) @binding(3) var<storage, read> bias: array<f32>;');
    L.push(`@group(0) @binding(${o.bias ? 4 : 3}) var<storage, read_write> Y: array<f32>;`);
    L.push(`@compute @workgroup_size(${PIXEL_LANES})`);
    L.push('fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    L.push('  let M = pu(0u); let OC = pu(1u); let C = pu(2u); let Hp = pu(3u); let Wp = pu(4u);');
    L.push('  let OH = pu(5u); let OW = pu(6u); let KH = pu(7u); let KW = pu(8u);');
    L.push('  let sh = pu(9u); let sw = pu(10u); let dh = pu(11u); let dw = pu(12u); let N4 = pu(13u);');
    L.push('  let OHW = OH * OW; let plane = Hp * Wp;');
    // Pixel blocks fold over z past 65,535 workgroups; channel blocks run along y.
    L.push(`  let pix0 = ((wid.x + wid.z * nwg.x) * ${PIXEL_LANES}u + lid.x) * ${tp}u; let col0 = wid.y * ${toc}u;`);
    for (const t of range(tp)) {
      L.push(`  let p${t} = min(pix0 + ${t}u, M - 1u); let n${t} = p${t} / OHW; let q${t} = p${t} % OHW;`);
      L.push(`  let xb${t} = n${t} * C * plane + (q${t} / OW) * sh * Wp + (q${t} % OW) * sw;`);
    }
    for (const j of range(q4)) L.push(`  let bc${j} = min(col0 / 4u + ${j}u, N4 - 1u);`);
    for (const t of range(tp)) for (const j of range(q4)) L.push(`  var acc${t}_${j} = vec4<f32>(0.0);`);
    // The same flat (ic, kh, kw) loop with an incrementally advanced input offset as the
    // register-block kernel (u32 wrap-around makes the "negative" steps exact).
    L.push('  let K = C * KH * KW; let rowStep = dh * Wp - KW * dw; let icStep = plane - KH * dh * Wp;');
    L.push('  var o = 0u; var kw = 0u; var kh = 0u;');
    L.push('  for (var k = 0u; k < K; k++) {');
    for (const t of range(tp)) L.push(`    let a${t} = X[xb${t} + o];`);
    for (const j of range(q4)) {
      L.push(`    let b${j} = B[k * N4 + bc${j}];`);
      for (const t of range(tp)) L.push(`    acc${t}_${j} += a${t} * b${j};`);
    }
    L.push('    o += dw; kw++;');
    L.push('    if (kw == KW) { kw = 0u; o += rowStep; kh++; if (kh == KH) { kh = 0u; o += icStep; } }');
    L.push('  }');
    for (const t of range(tp)) {
      L.push(`  if (pix0 + ${t}u < M) {`);
      L.push(`    let yb = n${t} * OC * OHW + q${t};`);
      for (const j of range(q4))
        for (const c of range(4)) {
          const col = `col0 + ${j * 4 + c}u`;
          const b = o.bias ? ` + bias[${col}]` : '';
          L.push(`    if (${col} < OC) { Y[yb + (${col}) * OHW] = acc${t}_${j}.${COMP[c]}${b}; }`);
        }
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});
