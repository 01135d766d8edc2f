// Matmul on subgroup matrices (tensor cores through Dawn's experimental
// 'chromium-experimental-subgroup-matrix': VK_KHR_cooperative_matrix, Metal simdgroup matrices).
// One subgroup per workgroup computes a (tm·M) x (tn·N) block of C as tm·tn result matrices,
// stepping K by the configuration's K; operands load straight from storage, row- or
// column-major (a transposed operand is the other majorness of the same buffer), and sums stay
// in the configuration's result type (f32 for training). Every offset depends on workgroup_id
// only, so the builtins run in subgroup-uniform control flow with uniform arguments.
//
// It needs whole tiles: M % (tm·M), N % (tn·N), K % K (matmulSubgroupMatrixFits). The builtins'
// spelling follows current Dawn: subgroupMatrixLoad<T, row_major>(p, offset, stride), the matrix
// types with columns before rows (left<T, K, M>, right<T, N, K>, result<T, N, M>).
import type { SubgroupMatrixConfig } from '../../adapter-facts.js';
import { defineKernel, uniformPreamble } from '../../kernel.js';

export interface SubgroupMatrixOptions {
  /** Operand component type ('f16' or 'f32') and result type, from the chosen configuration. */
  component: 'f16' | 'f32';
  result: 'f32';
  /** The configuration's shape: left M x K, right K x N, result M x N. */
  m: number;
  n: number;
  k: number;
  /** Result matrices per subgroup along rows and columns. */
  tm: number;
  tn: number;
  transA: boolean;
  transB: boolean;
  /**
   * The device's largest subgroup size: the workgroup is one subgroup (where subgroups come
   * smaller, each computes the same block and stores the same values).
   */
  subgroupSize: number;
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

/** Whether a product is made of whole tiles of `o` (the kernel has no bounds checks). */
export function matmulSubgroupMatrixFits(
  M: number,
  N: number,
  K: number,
  o: Pick<SubgroupMatrixOptions, 'm' | 'n' | 'k' | 'tm' | 'tn'>,
): boolean {
  return M > 0 && N > 0 && K > 0 && M % (o.tm * o.m) === 0 && N % (o.tn * o.n) === 0 && K % o.k === 0;
}

/** Workgroups for a product of whole tiles: column blocks, row blocks, batch entries. */
export function subgroupMatrixGrid(
  M: number,
  N: number,
  nb: number,
  o: SubgroupMatrixOptions,
): [number, number, number] {
  return [N / (o.tn * o.n), M / (o.tm * o.m), nb];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// Uniform words: M, N, K, strideA, strideB, strideC (per batch entry, in elements).
export function subgroupMatrixSource(o: SubgroupMatrixOptions): string {
  const { m, n, k, tm, tn } = o;
  const left = `subgroup_matrix_left<${o.component}, ${k}, ${m}>`;
  const right = `subgroup_matrix_right<${o.component}, ${n}, ${k}>`;
  const result = `subgroup_matrix_result<${o.result}, ${n}, ${m}>`;
  const L: string[] = [
    o.component === 'f16' ? 'enable f16;' : '',
    'enable subgroups;',
    'enable chromium_experimental_subgroup_matrix;',
    uniformPreamble(),
    `@group(0) @binding(1) var<storage, read> A: array<${o.component}>;`,
    `@group(0) @binding(2) var<storage, read> B: array<${o.component}>;`,
    `@group(0) @binding(3) var<storage, read_write> C: array<${o.result}>;`,
    `@compute @workgroup_size(${o.subgroupSize})`,
    'fn main(@builtin(workgroup_id) wid: vec3<u32>) {',
    '  let M = pu(0u); let N = pu(1u); let K = pu(2u);',
    '  let aBase = wid.z * pu(3u); let bBase = wid.z * pu(4u); let cBase = wid.z * pu(5u);',
    `  let row0 = wid.y * ${tm * m}u; let col0 = wid.x * ${tn * n}u;`,
  ];
  for (const i of range(tm)) for (const j of range(tn)) L.push(`  var acc_${i}_${j} = ${result}();`);
  L.push(`  for (var k0 = 0u; k0 < K; k0 += ${k}u) {`);
  // A is [M, K] row-major, or transposed: [K, M] row-major, the same tile read column-major.
  for (const i of range(tm)) {
    const at = o.transA ? `aBase + k0 * M + row0 + ${i * m}u, M` : `aBase + (row0 + ${i * m}u) * K + k0, K`;
    L.push(`    let a${i} = subgroupMatrixLoad<${left}, ${o.transA ? 'col_major' : 'row_major'}>(&A, ${at});`);
  }
  for (const j of range(tn)) {
    const at = o.transB ? `bBase + (col0 + ${j * n}u) * K + k0, K` : `bBase + k0 * N + col0 + ${j * n}u, N`;
    L.push(`    let b${j} = subgroupMatrixLoad<${right}, ${o.transB ? 'col_major' : 'row_major'}>(&B, ${at});`);
  }
  for (const i of range(tm))
    for (const j of range(tn))
      L.push(`    acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, acc_${i}_${j});`);
  L.push('  }');
  for (const i of range(tm))
    for (const j of range(tn))
      L.push(
        `  subgroupMatrixStore<row_major>(&C, cBase + (row0 + ${i * m}u) * N + col0 + ${j * n}u, acc_${i}_${j}, N);`,
      );
  L.push('}');
  return L.filter((l) => l !== '').join('\n');
}

export const matmulSubgroupMatrixKernel = defineKernel<SubgroupMatrixOptions>({
  name: 'matmul-subgroup-matrix',
  inputs: 2,
  outputs: 1,
  source: subgroupMatrixSource,
});
