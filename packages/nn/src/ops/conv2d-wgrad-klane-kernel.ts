// conv2d weight gradient for few output channels on software adapters: dWᵀ[k, oc] =
// Σ_p im2col(X)[p, k] · G[p, oc] with the k rows on the lanes and a block of `toc` channels per
// workgroup. The register-block kernel (conv2d-wgrad-kernel.ts) puts 4 channels on each of 8
// lanes, so with 16 or fewer channels half or more of its lanes redo clamped columns; here the
// upstream gradient G (pixel-major, channels padded to a multiple of 4) is read with uniform
// addresses (one scalar load and a broadcast on llvmpipe) and only the input is read per lane.
// Same uniforms, output layout and pixel split over workgroup z as convWgradKernel.
import { defineKernel, uniformPreamble } from '@spine/tensor';
import { range } from './conv2d-kernel.js';
import { PIXEL_LANES } from './conv2d-pixel-kernel.js';

export interface KLaneTiles {
  /** Output channels per workgroup (a multiple of 4). */
  toc: number;
  /** k rows (input channel x kernel position) per lane. */
  tk: number;
}

const COMP = 'xyzw';

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
    L.push('  let Kc = pu(0u); let OC = pu(1u); let C = pu(2u); let Hp = pu(3u); let Wp = pu(4u);');
    L.push('  let OH = pu(5u); let OW = pu(6u); let KH = pu(7u); let KW = pu(8u);');
    L.push('  let sh = pu(9u); let sw = pu(10u); let dh = pu(11u); let dw = pu(12u); let N4 = pu(13u);');
    L.push('  let P = pu(14u); let chunk = pu(15u);');
    L.push('  let OHW = OH * OW; let plane = Hp * Wp; let image = C * plane;');
    L.push(`  let kBase = (wid.x * ${PIXEL_LANES}u + lid.x) * ${tk}u; let col0 = wid.y * ${toc}u;`);
    for (const t of range(tk)) {
      L.push(`  let k${t} = min(kBase + ${t}u, Kc - 1u);`);
      L.push(`  let xo${t} = (k${t} / (KW * KH)) * plane + ((k${t} / KW) % KH) * dh * Wp + (k${t} % KW) * dw;`);
    }
    for (const j of range(q4)) L.push(`  let bc${j} = min(col0 / 4u + ${j}u, N4 - 1u);`);
    for (const t of range(tk)) for (const j of range(q4)) L.push(`  var acc${t}_${j} = vec4<f32>(0.0);`);
    L.push('  let p0 = wid.z * chunk; let p1 = min(P, p0 + chunk);');
    L.push('  var n = p0 / OHW; var oh = (p0 % OHW) / OW; var ow = p0 % OW;');
    L.push('  for (var p = p0; p < p1; p++) {');
    L.push('    let pix = n * image + oh * sh * Wp + ow * sw;');
    for (const t of range(tk)) L.push(`    let a${t} = X[xo${t} + pix];`);
    for (const j of range(q4)) {
      L.push(`    let g${j} = G[p * N4 + bc${j}];`);
      for (const t of range(tk)) L.push(`    acc${t}_${j} += a${t} * g${j};`);
    }
    L.push('    ow++;');
    L.push('    if (ow == OW) { ow = 0u; oh++; if (oh == OH) { oh = 0u; n++; } }');
    L.push('  }');
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
