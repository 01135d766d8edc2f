// conv2d weight gradient for few output channels on software adapters: dWᵀ[k, oc] =
// Σ_p im2col(X)[p, k] · G[p, oc] with the k rows on the lanes and a block of `toc` channels per
// workgroup. The register-block kernel (conv2d-wgrad-kernel.ts) puts 4 channels on each of 8
// lanes, so with 16 or fewer channels half or more of its lanes redo clamped columns; here the
// upstream gradient G (pixel-major, channels padded to a multiple of 4) is read with uniform
// addresses (one scalar load and a broadcast on llvmpipe) and only the input is read per lane.
// Same uniforms, output layout and pixel split over workgroup z as convWgradKernel.
import { defineKernel, uniformPreamble } from '@spine/tensor';
import { COMP, range } from './conv2d-kernel.js';
import { kOrigin, pixelChunkLoop, WGRAD_UNIFORM_LETS } from './conv2d-wgrad-kernel.js';
import { PIXEL_LANES } from './conv2d-pixel-kernel.js';

export interface KLaneTiles {
  /** Output channels per workgroup (a multiple of 4). */
  toc: number;
  /** k rows (input channel x kernel position) per lane. */
  tk: number;
}

// Words: 0 Kc (= C*KH*KW), 1 OC, 2 C, 3 Hp, 4 Wp, 5 OH, 6 OW, 7 KH, 8 KW, 9 sh, 10 sw, 11 dh,
// 12 dw, 13 OC padded / 4, 14 P (= N*OH*OW), 15 pixels per chunk.
export const convWgradKLanesKernel = defineKernel<KLaneTiles>({
  name: 'nn_conv2d_wgrad_k_lanes',
  inputs: 2,
  outputs: 1,
  source: (o) => {
    const { toc, tk } = o;
    const q4 = toc / 4;
    const L: string[] = [uniformPreamble()];
    L.push('@group(0) @binding(1) var<storage, read> X: array<f32>;');
    L.push('@group(0) @binding(2) var<storage, read> G: array<vec4<f32>>;');
    L.push('@group(0) @binding(3) var<storage, read_write> D: array<f32>;');
    L.push(`@compute @workgroup_size(${PIXEL_LANES})`);
    L.push('fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {');
    L.push(...WGRAD_UNIFORM_LETS);
    L.push(`  let kBase = (wid.x * ${PIXEL_LANES}u + lid.x) * ${tk}u; let col0 = wid.y * ${toc}u;`);
    for (const t of range(tk)) L.push(...kOrigin(t, `kBase + ${t}u`));
    for (const j of range(q4)) L.push(`  let bc${j} = min(col0 / 4u + ${j}u, N4 - 1u);`);
    for (const t of range(tk)) for (const j of range(q4)) L.push(`  var acc${t}_${j} = vec4<f32>(0.0);`);
    L.push(
      ...pixelChunkLoop([
        ...range(tk).map((t) => `    let a${t} = X[xo${t} + pix];`),
        ...range(q4).flatMap((j) => [
          `    let g${j} = G[p * N4 + bc${j}];`,
          ...range(tk).map((t) => `    acc${t}_${j} += a${t} * g${j};`),
        ]),
      ]),
    );
    L.push('  let db = wid.z * OC * Kc;');
    for (const t of range(tk)) {
      L.push(`  if (kBase + ${t}u < Kc) {`);
      for (const j of range(q4))
        for (const c of range(4)) {
          const col = `col0 + ${j * 4 + c}u`;
          L.push(`    if (${col} < OC) { D[db + (${col}) * Kc + kBase + ${t}u] = acc${t}_${j}.${COMP[c]}; }`);
        }
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});
