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
} from './subgroup-matrix-tiles.js';

export interface SubgroupMatrixOptions extends SubgroupMatrixTiles {
  transA: boolean;
  transB: boolean;
  emulate: boolean;
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
    '@group(0) @binding(1) var<storage, read> A: array<f16>;',
    '@group(0) @binding(2) var<storage, read> B: array<f16>;',
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
  // Staging: thread tid takes units tid, tid + threads, ... of each tile, unit u at tA[u] / tB[u].
  // A [M, K] (k-minor tile: units run along k, as A's rows do) or transposed [K, M] (k-major:
  // along m); B [K, N] (k-major: along n) or transposed [N, K] (k-minor: along k).
  const stage = (units: number, at: (u: string) => string) => {
    for (const j of range(Math.ceil(units / threads))) {
      const u = `tid + ${j * threads}u`;
      const guard = (j + 1) * threads > units ? `if (${u} < ${units}u) ` : '';
      L.push(`    ${guard}{ let u = ${u}; ${at('u')} }`);
    }
  };
  stage(BM * bk, (u) =>
    o.transA
      ? `let r = tileRow + ${u} % ${BM}u; let k = k0 + ${u} / ${BM}u; var v = 0.0h; if (r < M && k < K) { v = A[aBase + k * M + r]; } tA[${u}] = v;`
      : `let r = tileRow + ${u} / ${bk}u; let k = k0 + ${u} % ${bk}u; var v = 0.0h; if (r < M && k < K) { v = A[aBase + r * K + k]; } tA[${u}] = v;`,
  );
  stage(bk * BN, (u) =>
    o.transB
      ? `let c = tileCol + ${u} / ${bk}u; let k = k0 + ${u} % ${bk}u; var v = 0.0h; if (c < N && k < K) { v = B[bBase + c * K + k]; } tB[${u}] = v;`
      : `let c = tileCol + ${u} % ${BN}u; let k = k0 + ${u} / ${BN}u; var v = 0.0h; if (c < N && k < K) { v = B[bBase + k * N + c]; } tB[${u}] = v;`,
  );
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
