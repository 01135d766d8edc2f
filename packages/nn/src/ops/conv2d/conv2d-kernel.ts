// conv2d as implicit GEMM: Y[pixel, oc] = im2col(X)[pixel, k] · B[k, oc], k over (ic, kh, kw),
// without materialising im2col. The same kernel computes the data gradient (a stride-1
// convolution of the spread-out upstream gradient with flipped, transposed weights).
//
// The layout mirrors the tensor matmul's 'cpu' kernels (docs/PERFORMANCE.md): each invocation keeps
// a TM x TN register block; the pixel rows come from workgroup_id, so on llvmpipe every X load
// is uniform (one scalar load + broadcast for the 8 lanes) and only the weights are read per
// lane, as vec4. X arrives zero-padded (conv2d-layout.ts), so the address of im2col(X)[p, k] is
// rowBase[p] + kOff[k]: one add per value and no bounds test in the k loop. Rows past the end
// are read clamped and never stored. Real GPUs ('gpu' family) take the workgroup-tiled kernels
// of conv2d-gpu-kernel.ts instead.
import { defineKernel, uniformPreamble } from '@spine/tensor';

export interface GemmTiles {
  tm: number;
  tn: number;
  wx: number;
  wy: number;
}

export interface ConvKernelOptions extends GemmTiles {
  bias: boolean;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** vec4 component names, for generated code. */
export const COMP = 'xyzw';

/** Row block index: folded over z when a dimension would exceed 65,535 workgroups. */
export function rowBlockExpr(wy: number): string {
  return wy === 1 ? 'wid.y + wid.z * nwg.y' : `gid.y + wid.z * nwg.y * ${wy}u`;
}

/** acc_r_c += a_r * b_q.comp for the whole register block. */
export function fmaBlock(tm: number, tn: number, indent: string): string[] {
  const L: string[] = [];
  for (const r of range(tm))
    for (const c of range(tn)) L.push(`${indent}acc_${r}_${c} += a${r} * b${Math.floor(c / 4)}.${COMP[c % 4]};`);
  return L;
}

// Words: 0 M (= N*OH*OW), 1 OC, 2 C, 3 Hp, 4 Wp, 5 OH, 6 OW, 7 KH, 8 KW, 9 sh, 10 sw, 11 dh,
// 12 dw, 13 OC padded / 4.
/** The GEMM's uniform words as WGSL lets (shared by the conv GEMM kernels of every family). */
export const GEMM_UNIFORM_LETS: readonly string[] = [
  '  let M = pu(0u); let OC = pu(1u); let C = pu(2u); let Hp = pu(3u); let Wp = pu(4u);',
  '  let OH = pu(5u); let OW = pu(6u); let KH = pu(7u); let KW = pu(8u);',
  '  let sh = pu(9u); let sw = pu(10u); let dh = pu(11u); let dw = pu(12u); let N4 = pu(13u);',
];

/** Output pixel `p{r}` (clamped to M - 1), its image `n{r}`, in-plane index `q{r}` and input origin `xb{r}`. */
export function pixelOrigin(r: number, expr: string): string[] {
  return [
    `  let p${r} = min(${expr}, M - 1u); let n${r} = p${r} / OHW; let q${r} = p${r} % OHW;`,
    `  let xb${r} = n${r} * C * plane + (q${r} / OW) * sh * Wp + (q${r} % OW) * sw;`,
  ];
}

/**
 * One flat loop over k = (ic, kh, kw) with the input offset `o` advanced incrementally: on
 * llvmpipe it ran about 2x faster than three nested loops (KW = 3), and also beat a variant with
 * the kw steps unrolled at compile time (by about 1.8x). u32 wrap-around makes the "negative"
 * steps exact. `body` reads X[xb + o] and row k of the packed weights.
 */
export function flatKLoop(body: readonly string[]): string[] {
  return [
    '  let K = C * KH * KW; let rowStep = dh * Wp - KW * dw; let icStep = plane - KH * dh * Wp;',
    '  var o = 0u; var kw = 0u; var kh = 0u;',
    '  for (var k = 0u; k < K; k++) {',
    ...body,
    '    o += dw; kw++;',
    '    if (kw == KW) { kw = 0u; o += rowStep; kh++; if (kh == KH) { kh = 0u; o += icStep; } }',
    '  }',
  ];
}

export const convGemmKernel = defineKernel<ConvKernelOptions>({
  name: 'nn_conv2d_gemm',
  inputs: (o) => (o.bias ? 3 : 2),
  outputs: 1,
  source: (o) => {
    const { tm, tn } = o;
    const L: string[] = [uniformPreamble()];
    L.push('@group(0) @binding(1) var<storage, read> X: array<f32>;');
    L.push('@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;');
    if (o.bias) L.push('@group(0) @binding(3) var<storage, read> bias: array<f32>;');
    L.push(`@group(0) @binding(${o.bias ? 4 : 3}) var<storage, read_write> Y: array<f32>;`);
    L.push(`@compute @workgroup_size(${o.wx}, ${o.wy})`);
    L.push(
      'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    );
    L.push(...GEMM_UNIFORM_LETS);
    L.push('  let OHW = OH * OW; let plane = Hp * Wp;');
    L.push(`  let row0 = (${rowBlockExpr(o.wy)}) * ${tm}u; let col0 = gid.x * ${tn}u;`);
    for (const r of range(tm)) L.push(...pixelOrigin(r, `row0 + ${r}u`));
    for (const q of range(tn / 4)) L.push(`  let bc${q} = min(col0 / 4u + ${q}u, N4 - 1u);`);
    for (const r of range(tm)) for (const c of range(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
    L.push(
      ...flatKLoop([
        ...range(tn / 4).map((q) => `    let b${q} = B[k * N4 + bc${q}];`),
        ...range(tm).map((r) => `    let a${r} = X[xb${r} + o];`),
        ...fmaBlock(tm, tn, '    '),
      ]),
    );
    for (const r of range(tm)) {
      L.push(`  if (row0 + ${r}u < M) {`);
      L.push(`    let yb = n${r} * OC * OHW + q${r};`);
      for (const c of range(tn)) {
        const b = o.bias ? ` + bias[col0 + ${c}u]` : '';
        L.push(`    if (col0 + ${c}u < OC) { Y[yb + (col0 + ${c}u) * OHW] = acc_${r}_${c}${b}; }`);
      }
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});
