// conv2d's implicit GEMMs on subgroup matrices (tensor cores through Dawn's experimental
// 'chromium-experimental-subgroup-matrix'), for f16 operands with f32 sums: the forward (and the
// stride-1 data gradient, `flip`) and the weight gradient, the same GEMMs as conv2d-gpu-kernel.ts:
//   forward:  Y[pixel, oc] = Σ_r im2col(X)[pixel, r] · B[r, oc], B = w[oc, r] (flipped: dgrad);
//   wgrad:    dWᵀ[r, oc]   = Σ_p im2col(X)[p, r] · G[p, oc],   G = g[n, oc, q].
// A gathered operand cannot be loaded as a strided matrix, so each k step stages a BM x bk tile
// of A and a bk x BN tile of B in workgroup memory (f16, zero outside the product and in the
// implied padding; an f32 X, optionally read through a BN-ReLU, is rounded to f16 there), and
// the subgroups load their matrices from there. A workgroup is
// sgRows x sgCols subgroups, each computing tm x tn result matrices of the configuration's
// m x n; a subgroup's matrices leave through a per-subgroup f32 scratch, whose elements its
// lanes copy to Y within bounds (NCHW, or the weight gradient's [oc, r]).
//
// The offsets of a subgroup's loads differ between subgroups (they come from
// local_invocation_index), so Dawn's subgroup-matrix uniformity diagnostic is switched off: each
// subgroup still runs the builtins in subgroup-uniform control flow. That needs subgroups made
// of consecutive invocations of a known size (subgroupMinSize == subgroupMaxSize).
//
// The products, accumulators and scratch come from @spine/tensor's subgroup-matrix core
// (subgroup-matrix-tiles.ts), which the matmul shares; its `emulate` replaces the builtins with
// plain WGSL over the same tiles and scratch: the staging, addressing, bounds and stores,
// everything but the builtins, then run on adapters without subgroup matrices (lavapipe), where
// the tests check them against float64.
import {
  defineKernel,
  subgroupMatrixAccumulators,
  subgroupMatrixBlock,
  subgroupMatrixEnables,
  subgroupMatrixProducts,
  subgroupMatrixStores,
  uniformPreamble,
  type SubgroupMatrixTiles,
} from '@spine/tensor';
import { gemmGather, PAST } from './conv2d-gather.js';
import { GEMM_UNIFORM_LETS, range } from './conv2d-kernel.js';
import { WGRAD_UNIFORM_LETS } from './conv2d-wgrad-kernel.js';

/** The block on subgroup matrices (emulated or not: `emulate` always set here). */
export type ConvSubgroupMatrixTiles = SubgroupMatrixTiles & { emulate: boolean };

export interface ConvSubgroupMatrixOptions extends ConvSubgroupMatrixTiles {
  mode: 'forward' | 'wgrad';
  /** forward: B is the data gradient's flipped weights (w[r, oc, KH-1-kh, KW-1-kw]). */
  flip?: boolean;
  /** forward: bias added (by the first K chunk only when split). */
  bias: boolean;
  /** Reduction split over workgroup z (partial products to their own slices, summed after). */
  split: boolean;
  /** X holds f32 (rounded to f16 as it is staged) instead of f16. */
  floatX?: boolean;
  /**
   * X read as relu(X · scale + shift) per input channel, from batchnorm.ts's stats (vec4s: scale
   * z, shift w), a binding after B, then rounded to f16: a BN-ReLU in front of the convolution
   * under autocast is never stored. The implied padding stays zero.
   */
  bnRelu?: boolean;
}

/**
 * Uniform words as convTiledKernel's (conv2d-gpu-kernel.ts). forward: GEMM_UNIFORM_LETS, then 14
 * row-block fold (workgroup z is fold x splits: rows past 65,535 workgroups), 15 splits, 16 k per
 * chunk, 17 offH, 18 offW. wgrad:
 * WGRAD_UNIFORM_LETS, then 16 offH, 17 offW. Workgroups: column blocks, row blocks, splits (in
 * the forward, fold x splits).
 */
export const convSubgroupMatrixKernel = defineKernel<ConvSubgroupMatrixOptions>({
  name: 'nn_conv2d_subgroup_matrix',
  inputs: (o) => 2 + (o.bnRelu ? 1 : 0) + (o.bias ? 1 : 0),
  outputs: 1,
  source: (o) => {
    const { m, n, tm, tn, sgCols, subgroupSize: SG } = o;
    const { BM, BN, bk } = subgroupMatrixBlock(o);
    const threads = o.sgRows * sgCols * SG;
    const fwd = o.mode === 'forward';
    const L: string[] = subgroupMatrixEnables(o);
    L.push(uniformPreamble());
    let binding = 1;
    L.push(`@group(0) @binding(${binding++}) var<storage, read> X: array<${o.floatX ? 'f32' : 'f16'}>;`);
    L.push(`@group(0) @binding(${binding++}) var<storage, read> B: array<f16>;`);
    if (o.bnRelu) L.push(`@group(0) @binding(${binding++}) var<storage, read> stats: array<vec4<f32>>;`);
    if (o.bias) L.push(`@group(0) @binding(${binding++}) var<storage, read> bias: array<f32>;`);
    L.push(`@group(0) @binding(${binding}) var<storage, read_write> Y: array<f32>;`);
    // Each tile laid out so that consecutive threads' staging stores land on consecutive
    // addresses: A k-major [bk][BM] in the forward (threads run along the pixels: its matrices
    // load column-major), row-major [BM][bk] in the weight gradient (threads run along the
    // reduction); B column by column [BN][bk] (threads run along the reduction; column-major).
    L.push(`var<workgroup> tA: array<f16, ${BM * bk}>;`);
    L.push(`var<workgroup> tB: array<f16, ${bk * BN}>;`);
    L.push(`var<workgroup> rOff: array<u32, ${bk}>;`);
    L.push(`var<workgroup> rH: array<i32, ${bk}>;`);
    L.push(`var<workgroup> rW: array<i32, ${bk}>;`);
    // The forward's input channel comes with the reduction index (the weight gradient's with the row).
    if (o.bnRelu && fwd) L.push(`var<workgroup> rC: array<u32, ${bk}>;`);
    L.push(`var<workgroup> scr: array<f32, ${o.sgRows * sgCols * m * n}>;`);
    L.push(`@compute @workgroup_size(${threads})`);
    L.push(
      'fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    );
    if (fwd) {
      L.push(...GEMM_UNIFORM_LETS);
      L.push('  let OHW = OH * OW; let plane = Hp * Wp; let KHW = KH * KW; let R = C * KHW; let rows = M;');
      L.push('  let fold = pu(14u);');
      L.push(
        o.split
          ? '  let part = wid.z / fold; let redStart = part * pu(16u); let redEnd = min(R, redStart + pu(16u));'
          : '  let part = 0u; let redStart = 0u; let redEnd = R;',
      );
      L.push(`  let tileRow = (wid.y + (wid.z % fold) * nwg.y) * ${BM}u;`);
      L.push('  let offH = pi(17u); let offW = pi(18u);');
    } else {
      L.push(...WGRAD_UNIFORM_LETS);
      L.push('  let rows = Kc; let KHW = KH * KW;');
      L.push('  let part = wid.z; let redStart = part * chunk; let redEnd = min(P, redStart + chunk);');
      L.push(`  let tileRow = wid.y * ${BM}u;`);
      L.push('  let offH = pi(16u); let offW = pi(17u);');
    }
    L.push(`  let tileCol = wid.x * ${BN}u;`);
    L.push('  let shift = u32(offH) * Wp + u32(offW);');
    L.push(`  let sg = tid / ${SG}u; let lane = tid % ${SG}u;`);
    L.push(`  let sm = (sg / ${sgCols}u) * ${tm * m}u; let sn = (sg % ${sgCols}u) * ${tn * n}u;`);
    // A row's share of the address and of the row and column within the padded plane, and a
    // reduction index's.
    const { rowBase, rowHW, redOff, redHW } = gemmGather(fwd);
    // This thread's A units, the same (row, kk) at every k step: consecutive threads along the
    // pixels (forward) or along the reduction (weight gradient), where X's addresses run.
    const unitsA = BM * bk;
    for (const j of range(Math.ceil(unitsA / threads))) {
      const i = `(tid + ${j * threads}u)`;
      L.push(
        fwd
          ? `  let ar${j} = ${i} % ${BM}u; let ak${j} = ${i} / ${BM}u;`
          : `  let ak${j} = ${i} % ${bk}u; let ar${j} = ${i} / ${bk}u;`,
      );
      const tail = (j + 1) * threads > unitsA ? ` && ${i} < ${unitsA}u` : '';
      const [h, w] = rowHW(`am${j}`);
      L.push(`  let aok${j} = tileRow + ar${j} < rows${tail};`);
      L.push(`  let am${j} = min(tileRow + ar${j}, rows - 1u); let ab${j} = ${rowBase(`am${j}`)};`);
      L.push(`  let ah${j} = i32(${h}); let aw${j} = i32(${w});`);
      if (o.bnRelu && !fwd) L.push(`  let ac${j} = am${j} / KHW;`);
    }
    // The staged value: f16 as stored, or f32 (through the BN-ReLU) rounded to f16.
    const value = (j: number) => {
      const x = `X[ab${j} + rOff[t]]`;
      if (!o.bnRelu) return o.floatX ? `f16(${x})` : x;
      const c = fwd ? 'rC[t]' : `ac${j}`;
      return `f16(max(${o.floatX ? x : `f32(${x})`} * stats[${c}].z + stats[${c}].w, 0.0))`;
    };
    // B's element (r, col) is at base(r) + col · stride: the weights w[col, r] (forward), flipped
    // (the data gradient: r = (o, kh, kw) over this convolution's input channels o), or the
    // upstream gradient g[n, col, q] (the weight gradient: r = n·OHW + q).
    const [bBase, bStride] = !fwd
      ? [(r: string) => `(${r} / OHW) * OC * OHW + ${r} % OHW`, 'OHW']
      : o.flip
        ? [(r: string) => `(${r} / KHW) * OC * KHW + KHW - 1u - ${r} % KHW`, 'KHW']
        : [(r: string) => r, 'R'];
    // Each thread stages one reduction index of B per step (the threads are a multiple of the
    // tile's k), its share of the address computed once.
    if (threads % bk !== 0) throw new Error(`conv2d subgroup matrices: ${threads} threads for a k tile of ${bk}`);
    const stage = (indent: string): string[] => {
      const S: string[] = [];
      for (const j of range(Math.ceil(unitsA / threads))) {
        const guard = (j + 1) * threads > unitsA ? `if (tid + ${j * threads}u < ${unitsA}u) ` : '';
        S.push(
          `${indent}${guard}{ let t = ak${j}; var v = 0.0h; if (aok${j} && u32(ah${j} + rH[t]) < Hp && u32(aw${j} + rW[t]) < Wp) { v = ${value(j)}; } tA[${fwd ? `ak${j} * ${BM}u + ar${j}` : `ar${j} * ${bk}u + ak${j}`}] = v; }`,
        );
      }
      const unitsB = bk * BN;
      S.push(`${indent}let kB = tid % ${bk}u; let rB = k0 + kB; let bAt = ${bBase('rB')};`);
      for (const j of range(Math.ceil(unitsB / threads))) {
        const i = `(tid + ${j * threads}u)`;
        const guard = (j + 1) * threads > unitsB ? `if (${i} < ${unitsB}u) ` : '';
        S.push(
          `${indent}${guard}{ let c = ${i} / ${bk}u; let col = tileCol + c; var v = 0.0h; if (rB < redEnd && col < OC) { v = B[bAt + col * ${bStride}]; } tB[c * ${bk}u + kB] = v; }`,
        );
      }
      return S;
    };
    const [th, tw] = redHW('r');
    L.push(...subgroupMatrixAccumulators(o));
    L.push('  var k0 = redStart;');
    L.push('  loop {');
    L.push('    if (k0 >= redEnd) { break; }');
    // The step's reduction offsets, the implied padding folded in (wrapping u32 arithmetic:
    // in-plane reads sum back to their address).
    L.push(`    if (tid < ${bk}u) {`);
    L.push('      let r = k0 + tid;');
    L.push(`      rOff[tid] = ${redOff('r')} - shift;`);
    L.push(`      rH[tid] = select(${PAST}, i32(${th}) - offH, r < redEnd);`);
    L.push(`      rW[tid] = i32(${tw}) - offW;`);
    if (o.bnRelu && fwd) L.push('      rC[tid] = min(r / KHW, C - 1u);');
    L.push('    }');
    L.push('    workgroupBarrier();');
    L.push(...stage('    '));
    L.push('    workgroupBarrier();');
    // A k-major in the forward (threads run along the pixels), k-minor in the weight gradient
    // (along the reduction); B k-minor (column by column).
    L.push(...subgroupMatrixProducts(o, fwd ? 'k-major' : 'k-minor', 'k-minor'));
    L.push(`    k0 += ${bk}u;`);
    L.push('  }');
    // Each result matrix through the subgroup's scratch to Y, within bounds.
    if (fwd) L.push(o.split ? '  let yPart = part * M * OC;' : '  let yPart = 0u;');
    else L.push('  let db = part * OC * Kc;');
    const b = o.bias ? (o.split ? ' + select(0.0, bias[col], part == 0u)' : ' + bias[col]') : '';
    L.push(
      ...subgroupMatrixStores(o, (v) =>
        fwd
          ? `    if (row < rows && col < OC) { Y[yPart + (row / OHW) * OC * OHW + col * OHW + row % OHW] = ${v}${b}; }`
          : `    if (row < rows && col < OC) { Y[db + col * Kc + row] = ${v}; }`,
      ),
    );
    L.push('}');
    return L.join('\n');
  },
});
