// 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2015),
// for software adapters. Each 2x2 output tile is A^T [(G g G^T) ⊙ (B^T d B)] A with d the
// 4x4 input patch: 16 multiplies per tile and channel pair instead of 36, so 2.25x fewer
// multiply-adds than the implicit GEMM. The 16 element-wise products summed over input
// channels are 16 independent GEMMs, U[ξ] (out x in) · V[ξ] (in x tiles), which run on the
// tensor engine's batched matmul; three light kernels transform the weights (U), the input
// patches (V) and the products back into output tiles. On lavapipe the GEMMs read 16
// transformed values per 2x2 tile and input channel, 4 per output pixel, where the implicit
// GEMM reads 9 per output pixel (bench/NOTES.md).
//
// Numerics: the transforms only add, subtract and halve, so results differ from the direct sum
// by a few ulps of the partial sums (measured against float64 in test/ops/conv2d-winograd.test.ts).
import { defineKernel, empty, grid1d, linearIndex, matmulRaw, runKernel, scope, uniformPreamble, Uniforms, type Tensor } from '@spine/tensor';
import { range } from './conv2d-kernel.js';

const WG = 64;
/** Output tiles per invocation of the transforms, along a row (the GEMM's 4-column vec4 loads line up with it). */
export const TILES_PER_LANE = 4;

/** The entry point of the three transforms: one invocation per linear index `i`. */
const ENTRY = [
  `@compute @workgroup_size(${WG})`,
  'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
  `  let i = ${linearIndex(WG)};`,
];

function head(): string {
  return `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> src: array<f32>;
`;
}

/**
 * U[ξ, r, k] = (G g G^T)[ξ] for the 3x3 kernel g that maps input channel k to output channel r;
 * G = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]. Forward: g = w[r, k]. `flip` (the data
 * gradient, a convolution of the upstream gradient): g[i][j] = w[k, r, 2 - i, 2 - j].
 * Words: total (R*K), R, K.
 */
const weightKernel = defineKernel<{ flip: boolean }>({
  name: 'nn_winograd_weights',
  inputs: 1,
  outputs: 1,
  source: ({ flip }) => {
    const L = [head(), '@group(0) @binding(2) var<storage, read_write> U: array<f32>;'];
    L.push(...ENTRY);
    L.push('  let R = pu(1u); let K = pu(2u);');
    L.push('  if (i >= pu(0u)) { return; }');
    L.push('  let k = i % K; let r = i / K;');
    L.push(flip ? '  let base = (k * R + r) * 9u;' : '  let base = (r * K + k) * 9u;');
    for (const a of range(3)) for (const b of range(3)) L.push(`  let g${a}${b} = src[base + ${flip ? (2 - a) * 3 + (2 - b) : a * 3 + b}u];`);
    // Rows of G g (4 x 3), then each row times G^T (4 values).
    for (const b of range(3)) {
      L.push(`  let t0${b} = g0${b}; let t3${b} = g2${b};`);
      L.push(`  let t1${b} = 0.5 * (g0${b} + g1${b} + g2${b}); let t2${b} = 0.5 * (g0${b} - g1${b} + g2${b});`);
    }
    for (const a of range(4)) {
      const u = [`t${a}0`, `0.5 * (t${a}0 + t${a}1 + t${a}2)`, `0.5 * (t${a}0 - t${a}1 + t${a}2)`, `t${a}2`];
      for (const b of range(4)) L.push(`  U[(${a * 4 + b}u * R + r) * K + k] = ${u[b]};`);
    }
    L.push('}');
    return L.join('\n');
  },
});

/**
 * V[ξ, c, col] = (B^T d B)[ξ] for the 4x4 patch d of input channel c under one output tile,
 * B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]. Each invocation takes
 * TILES_PER_LANE tiles along a row, so neighbouring patches share the columns they overlap
 * (4 x 10 loads for 4 tiles instead of 4 x 16), and writes one vec4 per ξ. Out-of-image reads
 * are the zero padding; tiles past the row end are written as zeros.
 * Tile groups g (over n, tile row, group along the row) run from g0 to g0 + Gc - 1; column
 * col = (g - g0) * 4 + t. Words: total (C*Gc), C, H, W, tH, tW, groups per row, g0, Gc, ph, pw.
 */
const inputKernel = defineKernel({
  name: 'nn_winograd_input',
  inputs: 1,
  outputs: 1,
  source: () => {
    const T = TILES_PER_LANE;
    const cols = 2 * T + 2;
    const L = [head(), '@group(0) @binding(2) var<storage, read_write> V: array<vec4<f32>>;'];
    L.push(...ENTRY);
    L.push('  let C = pu(1u); let H = pi(2u); let W = pi(3u); let tH = pu(4u); let tW = pu(5u);');
    L.push('  let TXG = pu(6u); let Gc = pu(8u);');
    L.push('  if (i >= pu(0u)) { return; }');
    L.push('  let gl = i % Gc; let c = i / Gc; let gg = pu(7u) + gl;');
    L.push('  let txg = gg % TXG; let rowg = gg / TXG; let ty = rowg % tH; let n = rowg / tH;');
    L.push(`  let tx0 = txg * ${T}u;`);
    L.push('  let top = i32(2u * ty) - pi(9u); let left = i32(2u * tx0) - pi(10u);');
    L.push('  let base = (n * C + c) * u32(H * W);');
    for (const b of range(cols)) L.push(`  let iw${b} = left + ${b}; let okw${b} = iw${b} >= 0 && iw${b} < W; let cw${b} = u32(clamp(iw${b}, 0, W - 1));`);
    for (const a of range(4)) {
      L.push(`  let ih${a} = top + ${a}; let okh${a} = ih${a} >= 0 && ih${a} < H; let rb${a} = base + u32(clamp(ih${a}, 0, H - 1) * W);`);
      for (const b of range(cols)) L.push(`  let d${a}_${b} = select(0.0, src[rb${a} + cw${b}], okh${a} && okw${b});`);
    }
    // B^T d: rows combine, for every loaded column.
    for (const b of range(cols)) {
      L.push(`  let e0_${b} = d0_${b} - d2_${b}; let e1_${b} = d1_${b} + d2_${b};`);
      L.push(`  let e2_${b} = d2_${b} - d1_${b}; let e3_${b} = d1_${b} - d3_${b};`);
    }
    // (B^T d) B per tile: columns 2t .. 2t+3.
    for (const t of range(T)) {
      const c0 = 2 * t;
      for (const a of range(4)) {
        const e = (j: number) => `e${a}_${c0 + j}`;
        L.push(`  let v${t}_${a}0 = ${e(0)} - ${e(2)}; let v${t}_${a}1 = ${e(1)} + ${e(2)};`);
        L.push(`  let v${t}_${a}2 = ${e(2)} - ${e(1)}; let v${t}_${a}3 = ${e(1)} - ${e(3)};`);
      }
      L.push(`  let live${t} = tx0 + ${t}u < tW;`);
    }
    L.push('  let plane = C * Gc;');
    for (const a of range(4))
      for (const b of range(4)) {
        const parts = range(T).map((t) => `select(0.0, v${t}_${a}${b}, live${t})`);
        L.push(`  V[${a * 4 + b}u * plane + c * Gc + gl] = vec4<f32>(${parts.join(', ')});`);
      }
    L.push('}');
    return L.join('\n');
  },
});

/**
 * Y tiles from the GEMM products M[ξ, oc, col]: Y = A^T m A, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]],
 * plus the bias; outputs past the image edge are not written. One invocation per output
 * channel and tile group (TILES_PER_LANE tiles, read as one vec4 per ξ).
 * Words: total (OC*Gc), OC, OH, OW, tH, tW, groups per row, g0, Gc.
 */
const outputKernel = defineKernel<{ bias: boolean }>({
  name: 'nn_winograd_output',
  inputs: (o) => (o.bias ? 2 : 1),
  outputs: 1,
  source: ({ bias }) => {
    const T = TILES_PER_LANE;
    const L = [uniformPreamble(), '@group(0) @binding(1) var<storage, read> M: array<vec4<f32>>;'];
    if (bias) L.push('@group(0) @binding(2) var<storage, read> bias: array<f32>;');
    L.push(`@group(0) @binding(${bias ? 3 : 2}) var<storage, read_write> Y: array<f32>;`);
    L.push(...ENTRY);
    L.push('  let OC = pu(1u); let OH = pu(2u); let OW = pu(3u); let tH = pu(4u); let tW = pu(5u);');
    L.push('  let TXG = pu(6u); let Gc = pu(8u);');
    L.push('  if (i >= pu(0u)) { return; }');
    L.push('  let gl = i % Gc; let oc = i / Gc; let gg = pu(7u) + gl;');
    L.push('  let txg = gg % TXG; let rowg = gg / TXG; let ty = rowg % tH; let n = rowg / tH;');
    L.push('  let plane = OC * Gc;');
    for (const x of range(16)) L.push(`  let m${x} = M[${x}u * plane + oc * Gc + gl];`);
    // A^T m: two rows of four, then times A: two values each.
    for (const b of range(4)) {
      L.push(`  let r0_${b} = m${b} + m${4 + b} + m${8 + b};`);
      L.push(`  let r1_${b} = m${4 + b} - m${8 + b} - m${12 + b};`);
    }
    L.push(bias ? '  let bv = vec4<f32>(bias[oc]);' : '  let bv = vec4<f32>(0.0);');
    L.push('  let y00 = r0_0 + r0_1 + r0_2 + bv; let y01 = r0_1 - r0_2 - r0_3 + bv;');
    L.push('  let y10 = r1_0 + r1_1 + r1_2 + bv; let y11 = r1_1 - r1_2 - r1_3 + bv;');
    L.push('  let oh0 = 2u * ty; let yb = ((n * OC + oc) * OH + oh0) * OW;');
    L.push(`  let tx0 = txg * ${T}u;`);
    for (const t of range(T)) {
      const comp = 'xyzw'[t]!;
      L.push(`  if (tx0 + ${t}u < tW) {`);
      L.push(`    let ow = 2u * (tx0 + ${t}u);`);
      L.push(`    Y[yb + ow] = y00.${comp};`);
      L.push(`    if (ow + 1u < OW) { Y[yb + ow + 1u] = y01.${comp}; }`);
      L.push(`    if (oh0 + 1u < OH) {`);
      L.push(`      Y[yb + OW + ow] = y10.${comp};`);
      L.push(`      if (ow + 1u < OW) { Y[yb + OW + ow + 1u] = y11.${comp}; }`);
      L.push('    }');
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});

/** The 16 transformed 3x3 kernels, [16, R, K]; `flip` for the data gradient (see weightKernel). */
export function winogradWeights(w: Tensor, flip: boolean): Tensor {
  const [oc, ic] = w.shape as [number, number];
  const [R, K] = flip ? [ic, oc] : [oc, ic];
  const u = empty([16, R, K]);
  runKernel(weightKernel, { flip }, { inputs: [w], outputs: [u], uniforms: new Uniforms().u32(R * K, R, K), workgroups: grid1d(R * K, WG) });
  return u;
}

/** Floats each of the V and M intermediates may take per chunk (32 MiB), well under binding limits. */
const CHUNK_FLOATS = 8 * 1024 * 1024;
let chunkFloats = CHUNK_FLOATS;

/** Set the per-chunk size of the intermediates (tests run the chunked path on small inputs; null: default). */
export function setWinogradChunkFloats(n: number | null): void {
  chunkFloats = n ?? CHUNK_FLOATS;
}

export interface WinogradShape {
  /** Zero padding of the input, rows and columns. */
  ph: number;
  pw: number;
  /** Output size: H + 2·ph - 2 by W + 2·pw - 2. */
  oh: number;
  ow: number;
}

/**
 * y[n, r] = Σ_k conv3x3(x[n, k], kernel(r, k)) + bias[r] at stride 1, the kernels given
 * transformed (`winogradWeights`, [16, R, K]). x is [N, K, H, W]; the result [N, R, OH, OW].
 * Tile groups are processed in chunks so that the intermediates stay under CHUNK_FLOATS
 * (one group of 4 tiles at the least).
 */
export function winogradConv(x: Tensor, u: Tensor, bias: Tensor | null, s: WinogradShape): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const r = u.shape[1]!;
  const y = empty([n, r, s.oh, s.ow]);
  const tH = Math.ceil(s.oh / 2);
  const tW = Math.ceil(s.ow / 2);
  const txg = Math.ceil(tW / TILES_PER_LANE);
  const groups = n * tH * txg;
  const perChunk = Math.max(1, Math.floor(chunkFloats / (16 * Math.max(c, r) * TILES_PER_LANE)));
  for (let g0 = 0; g0 < groups; g0 += perChunk) {
    const gc = Math.min(perChunk, groups - g0);
    scope(() => {
      const v = empty([16, c, gc * TILES_PER_LANE]);
      const ui = new Uniforms().u32(c * gc, c, h, w, tH, tW, txg, g0, gc, s.ph, s.pw);
      runKernel(inputKernel, {}, { inputs: [x], outputs: [v], uniforms: ui, workgroups: grid1d(c * gc, WG) });
      const m = matmulRaw(u, v);
      const uo = new Uniforms().u32(r * gc, r, s.oh, s.ow, tH, tW, txg, g0, gc);
      runKernel(outputKernel, { bias: bias !== null }, { inputs: bias ? [m, bias] : [m], outputs: [y], uniforms: uo, workgroups: grid1d(r * gc, WG) });
    });
  }
  return y;
}
