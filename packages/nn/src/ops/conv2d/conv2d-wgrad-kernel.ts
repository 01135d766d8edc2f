// conv2d weight gradient as a GEMM over pixels: dWᵀ[k, oc] = Σ_p im2col(X)[p, k] · G[p, oc],
// k over (ic, kh, kw). Rows k come from workgroup_id, so on llvmpipe the X loads are uniform
// (address = kOff[k] + pixelBase[p], X zero-padded); G arrives pixel-major with channels padded
// to a multiple of 4 (conv2d-layout.ts) and is read per lane as vec4. The pixel range can be
// split over workgroup z (partial sums added afterwards) so that small weight tensors still
// give enough workgroups to fill the device.
import { defineKernel, uniformPreamble } from '@spine/tensor';
import { fmaBlock, range, type GemmTiles } from './conv2d-kernel.js';

// Words: 0 Kc (= C*KH*KW), 1 OC, 2 C, 3 Hp, 4 Wp, 5 OH, 6 OW, 7 KH, 8 KW, 9 sh, 10 sw, 11 dh,
// 12 dw, 13 OC padded / 4, 14 P (= N*OH*OW), 15 pixels per chunk.
/** The weight-gradient uniforms as WGSL lets (shared with conv2d-wgrad-klane-kernel.ts). */
export const WGRAD_UNIFORM_LETS: readonly string[] = [
  '  let Kc = pu(0u); let OC = pu(1u); let C = pu(2u); let Hp = pu(3u); let Wp = pu(4u);',
  '  let OH = pu(5u); let OW = pu(6u); let KH = pu(7u); let KW = pu(8u);',
  '  let sh = pu(9u); let sw = pu(10u); let dh = pu(11u); let dw = pu(12u); let N4 = pu(13u);',
  '  let P = pu(14u); let chunk = pu(15u);',
  '  let OHW = OH * OW; let plane = Hp * Wp; let image = C * plane;',
];

/** Row `k{r}` = (ic, kh, kw) (clamped to Kc - 1) and its offset `xo{r}` in a zero-padded input image. */
export function kOrigin(r: number, expr: string): string[] {
  return [
    `  let k${r} = min(${expr}, Kc - 1u);`,
    `  let xo${r} = (k${r} / (KW * KH)) * plane + ((k${r} / KW) % KH) * dh * Wp + (k${r} % KW) * dw;`,
  ];
}

/**
 * The loop over this workgroup's chunk of pixels (split over workgroup z), with (n, oh, ow)
 * advanced incrementally: uniform scalar work, no divisions in the loop. `body` reads
 * X[xo + pix] and row p of the pixel-major gradient G.
 */
export function pixelChunkLoop(body: readonly string[]): string[] {
  return [
    '  let p0 = wid.z * chunk; let p1 = min(P, p0 + chunk);',
    '  var n = p0 / OHW; var oh = (p0 % OHW) / OW; var ow = p0 % OW;',
    '  for (var p = p0; p < p1; p++) {',
    '    let pix = n * image + oh * sh * Wp + ow * sw;',
    ...body,
    '    ow++;',
    '    if (ow == OW) { ow = 0u; oh++; if (oh == OH) { oh = 0u; n++; } }',
    '  }',
  ];
}

export const convWgradKernel = defineKernel<GemmTiles>({
  name: 'nn_conv2d_wgrad',
  inputs: 2,
  outputs: 1,
  source: (o) => {
    const { tm, tn } = o;
    const L: string[] = [uniformPreamble()];
    L.push('@group(0) @binding(1) var<storage, read> X: array<f32>;');
    L.push('@group(0) @binding(2) var<storage, read> G: array<vec4<f32>>;');
    L.push('@group(0) @binding(3) var<storage, read_write> D: array<f32>;');
    L.push(`@compute @workgroup_size(${o.wx}, ${o.wy})`);
    L.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {');
    L.push(...WGRAD_UNIFORM_LETS);
    L.push(`  let row0 = ${o.wy === 1 ? 'wid.y' : 'gid.y'} * ${tm}u; let col0 = gid.x * ${tn}u;`);
    for (const r of range(tm)) L.push(...kOrigin(r, `row0 + ${r}u`));
    for (const q of range(tn / 4)) L.push(`  let bc${q} = min(col0 / 4u + ${q}u, N4 - 1u);`);
    for (const r of range(tm)) for (const c of range(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
    L.push(
      ...pixelChunkLoop([
        ...range(tn / 4).map((q) => `    let b${q} = G[p * N4 + bc${q}];`),
        ...range(tm).map((r) => `    let a${r} = X[xo${r} + pix];`),
        ...fmaBlock(tm, tn, '    '),
      ]),
    );
    L.push('  let db = wid.z * OC * Kc;');
    for (const r of range(tm)) {
      L.push(`  if (row0 + ${r}u < Kc) {`);
      for (const c of range(tn))
        L.push(`    if (col0 + ${c}u < OC) { D[db + (col0 + ${c}u) * Kc + row0 + ${r}u] = acc_${r}_${c}; }`);
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});
