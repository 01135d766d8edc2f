// conv2d as workgroup-tiled implicit GEMMs for real GPUs ('gpu' family), on the tile machinery of
// @spine/tensor's GPU matmul (tile-codegen.ts: k-major vec4 tiles, tileInnerProduct, register
// prefetch of the next step's reads) and in the tile shapes of its size table.
//
// forward (and the data gradient, a stride-1 convolution of the spread gradient):
//   Y[pixel, oc] = Σ_k im2col(X)[pixel, k] · B[k, oc], k over (ic, kh, kw), B the packed weights;
// weight gradient:
//   dWᵀ[k, oc] = Σ_p im2col(X)[p, k] · G[p, oc], G the pixel-major upstream gradient.
// Both read A as X[rowBase(row) + redOff(r)] from the zero-padded input: each thread's row
// bases are computed once, and each k step's reduction offsets (two divisions each) once per
// workgroup into a small table. B is read as vec4s (its columns padded to a multiple of 4). The
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
}

const NONE = '0xffffffffu';

/**
 * Uniform words. forward: GEMM_UNIFORM_LETS (conv2d-kernel.ts), then 14 row-block fold (z
 * slices of row blocks), 15 splits, 16 k per chunk. wgrad: WGRAD_UNIFORM_LETS
 * (conv2d-wgrad-kernel.ts; its chunk word is the pixels per split).
 */
export const convTiledKernel = defineKernel<ConvTiledOptions>({
  name: 'nn_conv2d_tiled',
  inputs: (o) => (o.bias ? 3 : 2),
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
    const L: string[] = [uniformPreamble()];
    L.push('@group(0) @binding(1) var<storage, read> X: array<f32>;');
    L.push('@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;');
    if (o.bias) L.push('@group(0) @binding(3) var<storage, read> bias: array<f32>;');
    L.push(`@group(0) @binding(${o.bias ? 4 : 3}) var<storage, read_write> Y: array<f32>;`);
    L.push(`var<workgroup> As: array<vec4<f32>, ${(stride * bk) / 4}>;`);
    L.push(`var<workgroup> Bs: array<vec4<f32>, ${(bk * BN) / 4}>;`);
    L.push(`var<workgroup> rOff: array<u32, ${2 * bk}>;`);
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
    } else {
      L.push(...WGRAD_UNIFORM_LETS);
      L.push('  let rows = Kc; let part = wid.z; let redStart = part * chunk; let redEnd = min(P, redStart + chunk);');
      L.push(`  let tileRow = wid.y * ${BM}u;`);
    }
    L.push(`  let tileCol = wid.x * ${BN}u;`);
    L.push(`  let tid = lid.y * ${wx}u + lid.x;`);
    const rowBase = (m: string) =>
      fwd
        ? `(${m} / OHW) * C * plane + ((${m} % OHW) / OW) * sh * Wp + (${m} % OW) * sw`
        : `(${m} / KHW) * plane + ((${m} % KHW) / KW) * dh * Wp + (${m} % KW) * dw`;
    const redOff = (r: string) =>
      fwd
        ? `(${r} / KHW) * plane + ((${r} % KHW) / KW) * dh * Wp + (${r} % KW) * dw`
        : `(${r} / OHW) * image + ((${r} % OHW) / OW) * sh * Wp + (${r} % OW) * sw`;
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
      L.push(`  let am${j} = min(tileRow + ar${j}, rows - 1u); let ab${j} = ${rowBase(`am${j}`)};`);
      L.push(`  var ra${j} = 0.0;`);
    }
    const loadA = (indent: string) =>
      range(perThread).map(
        (j) =>
          `${indent}{ let off = rOff[half + min(ak${j}, ${bk - 1}u)]; ra${j} = 0.0; if (aok${j} && off != ${NONE}) { ra${j} = X[ab${j} + off]; } }`,
      );
    const storeA = (indent: string) =>
      range(perThread).map(
        (j) =>
          `${indent}${(j + 1) * threads > units ? `if (tid + ${j * threads}u < ${units}u) ` : ''}{ As[ak${j} * ${stride / 4}u + ar${j} / 4u][ar${j} % 4u] = ra${j}; }`,
      );
    // Two tables, alternating by step: a step's table is written while threads that passed the
    // previous barrier may still be reading the previous step's (the prologue's reads).
    const table = (indent: string) => [
      `${indent}half = ((k0 - redStart) / ${bk}u) % 2u * ${bk}u;`,
      `${indent}if (tid < ${bk}u) { let r = k0 + tid; rOff[half + tid] = select(${NONE}, ${redOff('r')}, r < redEnd); }`,
    ];
    const stagingB: TileStaging = {
      tile: 'Bs',
      width: BN,
      bk,
      threads,
      along: 'mn',
      vec4: true,
      reg: 'rb',
      read: (mn, kk) => ({
        ok: `k0 + ${kk} < redEnd && tileCol + ${mn} < N4 * 4u`,
        at: `(k0 + ${kk}) * N4 + (tileCol + ${mn}) / 4u`,
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
