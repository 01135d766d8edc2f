// Matmul of f16 operands with f32 sums on subgroup matrices (tensor cores through Dawn's
// experimental 'chromium-experimental-subgroup-matrix': VK_KHR_cooperative_matrix, Metal
// simdgroup matrices), on the shared core in subgroup-matrix-tiles.ts: a workgroup of
// sgRows x sgCols subgroups computes a BM x BN block of C; each step stages a bk-deep tile of A
// and of B in workgroup memory (zero past the product's edges, so any size runs: Linear's
// batches too), laid out so that consecutive threads read consecutive addresses (A k-minor, or
// k-major where it is transposed; B k-major, or k-minor where it is transposed), and each
// subgroup multiplies its tm x tn result matrices from there; results leave through a
// per-subgroup scratch into C within bounds. Batched over workgroup z.
import type { SubgroupMatrixConfig } from '../../adapter-facts.js';
import { defineKernel, uniformPreamble } from '../../kernel.js';
import {
  subgroupMatrixAccumulators,
  subgroupMatrixBlock,
  subgroupMatrixEnables,
  subgroupMatrixProducts,
  subgroupMatrixStores,
  type SubgroupMatrixTiles,
  type TileLayout,
} from './subgroup-matrix-tiles.js';

export interface SubgroupMatrixOptions extends SubgroupMatrixTiles {
  transA: boolean;
  transB: boolean;
  emulate: boolean;
  /** Stage A (B) as vec4<f16> loads: its contiguous axis is a multiple of 4 long (vecLoads). */
  vecA?: boolean;
  vecB?: boolean;
}

/** Which operands the kernel can read as vec4<f16>: those whose contiguous axis is a multiple of 4. */
export function vecLoads(M: number, N: number, K: number, transA: boolean, transB: boolean) {
  return { vecA: (transA ? M : K) % 4 === 0, vecB: (transB ? K : N) % 4 === 0 };
}

/**
 * The configuration to build on: operands of `component`, f32 results (f16 accumulation loses
 * too much for training), the largest M·N·K among those; null when there is none.
 */
export function chooseSubgroupMatrixConfig(
  configs: readonly SubgroupMatrixConfig[],
  component: 'f16' | 'f32',
): SubgroupMatrixConfig | null {
  const usable = configs.filter((c) => c.componentType === component && c.resultComponentType === 'f32');
  usable.sort((a, b) => b.M * b.N * b.K - a.M * a.N * a.K);
  return usable[0] ?? null;
}

/** Workgroups: column blocks, row blocks, batch entries. */
export function subgroupMatrixGrid(
  M: number,
  N: number,
  nb: number,
  o: SubgroupMatrixOptions,
): [number, number, number] {
  const { BM, BN } = subgroupMatrixBlock(o);
  return [Math.ceil(N / BN), Math.ceil(M / BM), nb];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// Uniform words: M, N, K, strideA, strideB, strideC (per batch entry, in elements).
export function subgroupMatrixSource(o: SubgroupMatrixOptions): string {
  const { m, n, tm, tn, sgCols, subgroupSize: SG } = o;
  const { BM, BN, bk } = subgroupMatrixBlock(o);
  const threads = o.sgRows * sgCols * SG;
  const L: string[] = [
    ...subgroupMatrixEnables(o),
    uniformPreamble(),
    `@group(0) @binding(1) var<storage, read> A: array<${o.vecA ? 'vec4<f16>' : 'f16'}>;`,
    `@group(0) @binding(2) var<storage, read> B: array<${o.vecB ? 'vec4<f16>' : 'f16'}>;`,
    '@group(0) @binding(3) var<storage, read_write> C: array<f32>;',
    `var<workgroup> tA: array<f16, ${BM * bk}>;`,
    `var<workgroup> tB: array<f16, ${bk * BN}>;`,
    `var<workgroup> scr: array<f32, ${o.sgRows * sgCols * m * n}>;`,
    `@compute @workgroup_size(${threads})`,
    'fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {',
    '  let M = pu(0u); let N = pu(1u); let K = pu(2u);',
    '  let aBase = wid.z * pu(3u); let bBase = wid.z * pu(4u); let cBase = wid.z * pu(5u);',
    `  let tileRow = wid.y * ${BM}u; let tileCol = wid.x * ${BN}u;`,
    `  let sg = tid / ${SG}u; let lane = tid % ${SG}u;`,
    `  let sm = (sg / ${sgCols}u) * ${tm * m}u; let sn = (sg % ${sgCols}u) * ${tn * n}u;`,
    ...subgroupMatrixAccumulators(o),
    '  var k0 = 0u;',
    '  loop {',
    '    if (k0 >= K) { break; }',
  ];
  // Staging: thread tid takes units tid, tid + threads, ... of each tile, a unit being one
  // element or (vec4 loads) four along the operand's contiguous axis, unit u at tile elements
  // w·u .. w·u + w - 1. A [M, K] (k-minor tile: units run along k, as A's rows do) or transposed
  // [K, M] (k-major: along m); B [K, N] (k-major: along n) or transposed [N, K] (k-minor: along k).
  const stage = (op: 'A' | 'B', layout: TileLayout, vec: boolean) => {
    const [span, first, limit, base] = op === 'A' ? [BM, 'tileRow', 'M', 'aBase'] : [BN, 'tileCol', 'N', 'bBase'];
    const w = vec ? 4 : 1;
    const times = (e: string) => (w === 1 ? e : `(${e}) * 4u`);
    // The unit's row (of A) or column (of B) within the block, and its reduction index in the tile.
    const [p, kk] =
      layout === 'k-minor'
        ? [`u / ${bk / w}u`, times(`u % ${bk / w}u`)]
        : [times(`u % ${span / w}u`), `u / ${span / w}u`];
    const at = layout === 'k-minor' ? `${base} + r * K + k` : `${base} + k * ${limit} + r`;
    const load = vec
      ? `var v = vec4<f16>(); if (r < ${limit} && k < K) { v = ${op}[(${at}) / 4u]; } let t = 4u * u; t${op}[t] = v.x; t${op}[t + 1u] = v.y; t${op}[t + 2u] = v.z; t${op}[t + 3u] = v.w;`
      : `var v = 0.0h; if (r < ${limit} && k < K) { v = ${op}[${at}]; } t${op}[u] = v;`;
    const units = (span * bk) / w;
    for (const j of range(Math.ceil(units / threads))) {
      const u = `tid + ${j * threads}u`;
      const guard = (j + 1) * threads > units ? `if (${u} < ${units}u) ` : '';
      L.push(`    ${guard}{ let u = ${u}; let r = ${first} + ${p}; let k = k0 + ${kk}; ${load} }`);
    }
  };
  stage('A', o.transA ? 'k-major' : 'k-minor', o.vecA === true);
  stage('B', o.transB ? 'k-minor' : 'k-major', o.vecB === true);
  L.push('    workgroupBarrier();');
  L.push(...subgroupMatrixProducts(o, o.transA ? 'k-major' : 'k-minor', o.transB ? 'k-minor' : 'k-major'));
  L.push(`    k0 += ${bk}u;`);
  L.push('  }');
  // Each result matrix through the subgroup's scratch to C, within bounds.
  L.push(...subgroupMatrixStores(o, (v) => `    if (row < M && col < N) { C[cBase + row * N + col] = ${v}; }`));
  L.push('}');
  return L.join('\n');
}

export const matmulSubgroupMatrixKernel = defineKernel<SubgroupMatrixOptions>({
  name: 'matmul-subgroup-matrix',
  inputs: 2,
  outputs: 1,
  source: subgroupMatrixSource,
});
