// conv2d as workgroup-tiled implicit GEMMs for real GPUs ('gpu' family), on the tile machinery of
// @spine/tensor's GPU matmul (tile-codegen.ts: k-major vec4 tiles, tileInnerProduct, register
// prefetch of the next step's reads) and in the tile shapes of its size table.
//
// forward (and the data gradient, a stride-1 convolution of the spread gradient):
//   Y[pixel, oc] = Σ_k im2col(X)[pixel, k] · B[k, oc], k over (ic, kh, kw), B = the weights
//   w[oc, k] read as they are stored (the data gradient: turned by 180° with in and out swapped,
//   `flip`);
// weight gradient:
//   dWᵀ[k, oc] = Σ_p im2col(X)[p, k] · G[p, oc], G = the upstream gradient g[n, oc, q] read as it
//   is stored (p over (n, q)).
// No packed or pixel-major copy of either is written first.
// Both read A as X[rowBase(row) + redOff(r)] from the input as stored, its zero padding implied:
// the padded input is offH rows and offW columns larger in front (words), and a read whose row
// or column falls outside the stored plane is a zero, so no padded copy is ever written. Each
// thread's row bases (address, row and column within the padded plane) are computed once, and
// each k step's reduction offsets (two divisions each) once per workgroup into small tables,
// the padding folded in. B is read along k, as vec4s where the weights' rows allow. The
// reduction range can be split over workgroup z (split-K): partial products go to their own
// slices, summed afterwards.
import {
  defineKernel,
  stagingLoad,
  stagingRegisters,
  stagingStore,
  tileAccumulators,
  tileInnerProduct,
  uniformPreamble,
  type TileStaging,
} from '@spine/tensor';
import { gemmGather, PAST } from './conv2d-gather.js';
import { GEMM_UNIFORM_LETS, range, type GemmTiles } from './conv2d-kernel.js';
import { WGRAD_UNIFORM_LETS } from './conv2d-wgrad-kernel.js';

export interface ConvTiledOptions extends GemmTiles {
  mode: 'forward' | 'wgrad';
  /** k per workgroup-memory step. */
  bk: number;
  /** forward: bias added (by the first K chunk only when split). */
  bias: boolean;
  /** Reduction split over workgroup z. */
  split: boolean;
  /** forward: B is the data gradient's flipped weights (w[k, oc, KH-1-kh, KW-1-kw]), read in scalars. */
  flip?: boolean;
  /** forward, not flipped: R (= C·KH·KW) and each chunk a multiple of 4, so B is read as vec4s along k. */
  vecB?: boolean;
  /** X (the gathered operand) and B hold f16 (needs 'shader-f16'): read widened to f32, summed in f32. */
  halfX?: boolean;
  halfB?: boolean;
  /**
   * X read as relu(X · scale + shift) per input channel, from batchnorm.ts's stats (vec4s: scale
   * z, shift w), a binding after B: a BN-ReLU in front of the convolution is never stored. The
   * implied padding stays zero.
   */
  bnRelu?: boolean;
}

/**
 * Uniform words. forward: GEMM_UNIFORM_LETS (conv2d-kernel.ts), then 14 row-block fold (z
 * slices of row blocks), 15 splits, 16 k per chunk, 17 offH, 18 offW. wgrad: WGRAD_UNIFORM_LETS
 * (conv2d-wgrad-kernel.ts; its chunk word is the pixels per split), then 16 offH, 17 offW. Hp and
 * Wp are the input's stored sizes; offH and offW the zero rows and columns implied in front.
 */
export const convTiledKernel = defineKernel<ConvTiledOptions>({
  name: 'nn_conv2d_tiled',
  inputs: (o) => 2 + (o.bnRelu ? 1 : 0) + (o.bias ? 1 : 0),
  outputs: 1,
  source: (o) => {
    const { tm, tn, wx, wy, bk } = o;
    const BM = wy * tm;
    const BN = wx * tn;
    const threads = wx * wy;
    if (tm % 4 !== 0 || tn % 4 !== 0 || bk % 4 !== 0)
      throw new Error(`conv2d gpu tiles ${tm}x${tn}, k step ${bk}: need multiples of 4`);
    const fwd = o.mode === 'forward';
    // Consecutive threads read consecutive X addresses: along the rows (pixels) in the forward,
    // along the reduction (pixels) in the weight gradient; there the A tile's k-major rows get
    // 4 words of padding so that those threads' stores do not all hit one bank.
    const stride = fwd ? BM : BM + 4;
    const L: string[] = [o.halfX || o.halfB ? 'enable f16;' : '', uniformPreamble()];
    const bType = o.halfB ? 'f16' : 'f32';
    let binding = 1;
    L.push(`@group(0) @binding(${binding++}) var<storage, read> X: array<${o.halfX ? 'f16' : 'f32'}>;`);
    L.push(`@group(0) @binding(${binding++}) var<storage, read> B: array<${o.vecB ? `vec4<${bType}>` : bType}>;`);
    if (o.bnRelu) L.push(`@group(0) @binding(${binding++}) var<storage, read> stats: array<vec4<f32>>;`);
    if (o.bias) L.push(`@group(0) @binding(${binding++}) var<storage, read> bias: array<f32>;`);
    L.push(`@group(0) @binding(${binding}) var<storage, read_write> Y: array<f32>;`);
    L.push(`var<workgroup> As: array<vec4<f32>, ${(stride * bk) / 4}>;`);
    L.push(`var<workgroup> Bs: array<vec4<f32>, ${(bk * BN) / 4}>;`);
    L.push(`var<workgroup> rOff: array<u32, ${2 * bk}>;`);
    L.push(`var<workgroup> rH: array<i32, ${2 * bk}>;`);
    L.push(`var<workgroup> rW: array<i32, ${2 * bk}>;`);
    // The forward's input channel comes with the reduction index (the weight gradient's with the row).
    if (o.bnRelu && fwd) L.push(`var<workgroup> rC: array<u32, ${2 * bk}>;`);
    L.push(`@compute @workgroup_size(${wx}, ${wy})`);
    L.push(
      'fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
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
      L.push('  let rows = Kc; let part = wid.z; let redStart = part * chunk; let redEnd = min(P, redStart + chunk);');
      L.push(`  let tileRow = wid.y * ${BM}u;`);
      L.push('  let offH = pi(16u); let offW = pi(17u);');
    }
    // The padding folded into each reduction offset (wrapping u32 arithmetic: in-plane reads sum
    // back to their address).
    L.push('  let shift = u32(offH) * Wp + u32(offW);');
    L.push(`  let tileCol = wid.x * ${BN}u;`);
    L.push(`  let tid = lid.y * ${wx}u + lid.x;`);
    // A row's (and a reduction index's) share of the address, and of the row and column within
    // the padded plane.
    const { rowBase, rowHW, redOff, redHW } = gemmGather(fwd);
    if (!fwd) L.push('  let KHW = KH * KW;');
    // This thread's A units: the same (row, kk) at every k step, so row bases are computed once.
    const units = BM * bk;
    const perThread = Math.ceil(units / threads);
    for (const j of range(perThread)) {
      const i = `(tid + ${j * threads}u)`;
      L.push(
        fwd
          ? `  let ar${j} = ${i} % ${BM}u; let ak${j} = ${i} / ${BM}u;`
          : `  let ak${j} = ${i} % ${bk}u; let ar${j} = ${i} / ${bk}u;`,
      );
      const tail = (j + 1) * threads > units ? ` && ${i} < ${units}u` : '';
      L.push(`  let aok${j} = tileRow + ar${j} < rows${tail};`);
      const [h, w] = rowHW(`am${j}`);
      L.push(`  let am${j} = min(tileRow + ar${j}, rows - 1u); let ab${j} = ${rowBase(`am${j}`)};`);
      L.push(`  let ah${j} = i32(${h}); let aw${j} = i32(${w});`);
      if (o.bnRelu && !fwd) L.push(`  let ac${j} = am${j} / KHW;`);
      L.push(`  var ra${j} = 0.0;`);
    }
    // In the stored plane or a zero (negative rows and columns wrap past Hp and Wp).
    const value = (j: number) => {
      const x = o.halfX ? `f32(X[ab${j} + rOff[t]])` : `X[ab${j} + rOff[t]]`;
      if (!o.bnRelu) return x;
      return `max(${x} * stats[${fwd ? 'rC[t]' : `ac${j}`}].z + stats[${fwd ? 'rC[t]' : `ac${j}`}].w, 0.0)`;
    };
    const loadA = (indent: string) =>
      range(perThread).map(
        (j) =>
          `${indent}{ let t = half + min(ak${j}, ${bk - 1}u); ra${j} = 0.0; if (aok${j} && u32(ah${j} + rH[t]) < Hp && u32(aw${j} + rW[t]) < Wp) { ra${j} = ${value(j)}; } }`,
      );
    const storeA = (indent: string) =>
      range(perThread).map(
        (j) =>
          `${indent}${(j + 1) * threads > units ? `if (tid + ${j * threads}u < ${units}u) ` : ''}{ As[ak${j} * ${stride / 4}u + ar${j} / 4u][ar${j} % 4u] = ra${j}; }`,
      );
    // Two tables, alternating by step: a step's table is written while threads that passed the
    // previous barrier may still be reading the previous step's (the prologue's reads).
    const [th, tw] = redHW('r');
    const table = (indent: string) => [
      `${indent}half = ((k0 - redStart) / ${bk}u) % 2u * ${bk}u;`,
      `${indent}if (tid < ${bk}u) {`,
      `${indent}  let r = k0 + tid;`,
      `${indent}  rOff[half + tid] = ${redOff('r')} - shift;`,
      `${indent}  rH[half + tid] = select(${PAST}, i32(${th}) - offH, r < redEnd);`,
      `${indent}  rW[half + tid] = i32(${tw}) - offW;`,
      ...(o.bnRelu && fwd ? [`${indent}  rC[half + tid] = min(r / KHW, C - 1u);`] : []),
      `${indent}}`,
    ];
    // B's element (k, column) where it is stored: the weights w[column, k] (forward), flipped
    // (the data gradient: k = (o, kh, kw) over this convolution's input channels o), or the
    // upstream gradient g[n, column, q] (the weight gradient: k = n·OHW + q). All read along k.
    const bAt = (k: string, col: string): string => {
      if (!fwd) return `((${k} / OHW) * OC + ${col}) * OHW + ${k} % OHW`;
      if (o.flip) return `((${k} / KHW) * OC + ${col}) * KHW + KHW - 1u - ${k} % KHW`;
      return o.vecB ? `(${col} * R + ${k}) / 4u` : `${col} * R + ${k}`;
    };
    const stagingB: TileStaging = {
      tile: 'Bs',
      width: BN,
      bk,
      threads,
      along: 'k',
      vec4: o.vecB === true,
      ...(o.halfB ? { half: true } : {}),
      reg: 'rb',
      read: (mn, kk) => ({
        ok: `k0 + ${kk} < redEnd && tileCol + ${mn} < OC`,
        at: bAt(`(k0 + ${kk})`, `(tileCol + ${mn})`),
        array: 'B',
      }),
    };
    L.push(...tileAccumulators(tm, tn));
    L.push(...stagingRegisters(stagingB));
    // Per step: stage the registers, build the next step's offset table, then (after the
    // barrier) issue the next step's reads before this step's arithmetic.
    L.push('  var k0 = redStart; var half = 0u;');
    L.push(...table('  '));
    L.push('  workgroupBarrier();');
    L.push('  if (k0 < redEnd) {', ...loadA('    '), ...stagingLoad(stagingB, '    '), '  }');
    L.push('  loop {');
    L.push('    if (k0 >= redEnd) { break; }');
    L.push(...storeA('    '), ...stagingStore(stagingB, '    '));
    L.push(`    k0 += ${bk}u;`);
    L.push(...table('    '));
    L.push('    workgroupBarrier();');
    L.push('    if (k0 < redEnd) {', ...loadA('      '), ...stagingLoad(stagingB, '      '), '    }');
    L.push(...tileInnerProduct({ tm, tn, bm: stride, bn: BN, bk }));
    L.push('    workgroupBarrier();');
    L.push('  }');
    L.push(`  let row0 = tileRow + lid.y * ${tm}u; let col0 = tileCol + lid.x * ${tn}u;`);
    if (fwd) L.push(o.split ? '  let yPart = part * M * OC;' : '  let yPart = 0u;');
    else L.push('  let db = part * OC * Kc;');
    for (const r of range(tm)) {
      L.push(`  if (row0 + ${r}u < rows) {`);
      if (fwd) L.push(`    let p = row0 + ${r}u; let yb = yPart + (p / OHW) * OC * OHW + p % OHW;`);
      for (const c of range(tn)) {
        const v = `acc_${r}_${Math.floor(c / 4)}[${c % 4}]`;
        const b = o.bias ? (o.split ? ` + select(0.0, bias[col0 + ${c}u], part == 0u)` : ` + bias[col0 + ${c}u]`) : '';
        if (fwd) L.push(`    if (col0 + ${c}u < OC) { Y[yb + (col0 + ${c}u) * OHW] = ${v}${b}; }`);
        else L.push(`    if (col0 + ${c}u < OC) { Y[db + (col0 + ${c}u) * Kc + row0 + ${r}u] = ${v}; }`);
      }
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});
