// conv2d implicit GEMM for few output channels on software adapters: lanes over output pixels,
// weights uniform. The register-block kernel (conv2d-kernel.ts) puts output channels on the 8
// SIMD lanes of a llvmpipe workgroup, 4 per lane; with 16 or fewer channels half or more of its
// lanes compute clamped duplicates. Here each lane owns `tp` output pixels and every invocation
// of a workgroup shares one block of `toc` channels (from workgroup_id), so the weight loads are
// uniform (a scalar load and a broadcast on llvmpipe) and only the input values are read per
// lane. On lavapipe that runs 2-5x the register-block kernel for 8-16 outputs, e.g. the quick
// preset's conv1, 3 -> 16 channels 5x5 stride 2 (docs/PERFORMANCE.md, "Convolution").
// Same uniforms and zero-padded input as convGemmKernel; B is the packed weights
// [(c, kh, kw), ocPadded] as vec4.
import { defineKernel, uniformPreamble } from '@spine/tensor';
import { COMP, flatKLoop, GEMM_UNIFORM_LETS, pixelOrigin, range } from './conv2d-kernel.js';

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
    L.push(
      'fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    );
    L.push(...GEMM_UNIFORM_LETS);
    L.push('  let OHW = OH * OW; let plane = Hp * Wp;');
    // Pixel blocks fold over z past 65,535 workgroups; channel blocks run along y.
    L.push(`  let pix0 = ((wid.x + wid.z * nwg.x) * ${PIXEL_LANES}u + lid.x) * ${tp}u; let col0 = wid.y * ${toc}u;`);
    for (const t of range(tp)) L.push(...pixelOrigin(t, `pix0 + ${t}u`));
    for (const j of range(q4)) L.push(`  let bc${j} = min(col0 / 4u + ${j}u, N4 - 1u);`);
    for (const t of range(tp)) for (const j of range(q4)) L.push(`  var acc${t}_${j} = vec4<f32>(0.0);`);
    L.push(
      ...flatKLoop([
        ...range(tp).map((t) => `    let a${t} = X[xb${t} + o];`),
        ...range(q4).flatMap((j) => [
          `    let b${j} = B[k * N4 + bc${j}];`,
          ...range(tp).map((t) => `    acc${t}_${j} += a${t} * b${j};`),
        ]),
      ]),
    );
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
