// The shared core of the GEMM kernels on subgroup matrices (tensor cores through Dawn's
// experimental 'chromium-experimental-subgroup-matrix'): this package's matmul and @spine/nn's
// implicit-GEMM convolutions. A workgroup of sgRows x sgCols subgroups computes a BM x BN block of
// the result; each step stages a bk-deep tile of both operands in workgroup memory (the kernel's
// own loads: bounds, gathers, conversions), then each subgroup multiplies its tm x tn result
// matrices from those tiles, and at the end passes each through a per-subgroup scratch so that the
// kernel can store it within bounds in its own layout. The lines here are that middle part.
//
// The WGSL they generate expects in scope: `tA`, `tB` (workgroup arrays of the operand type),
// `scr` (workgroup array<f32>, m·n per subgroup), `sg` (the subgroup's index in the workgroup),
// `sm`, `sn` (its first row and column in the block), `lane`, `k0` (the step's first reduction
// index), and for the stores `tileRow`, `tileCol` (the block's first row and column). The builtins'
// spelling follows current Dawn: subgroupMatrixLoad<T, row_major | col_major>(p, offset, stride)
// (row_major: element (r, c) at offset + r·stride + c; col_major: at offset + c·stride + r), the
// matrix types with columns before rows (left<T, K, M>, right<T, N, K>, result<T, N, M>).
// `emulate` replaces the builtins with plain WGSL over the same tiles (lane e of each m x n
// result holds elements e, e + subgroupSize, ...), which any adapter runs: the tests run it.

export interface SubgroupMatrixTiles {
  /** The configuration's shape: left m x k, right k x n, result m x n. */
  m: number;
  n: number;
  k: number;
  /** Result matrices per subgroup along rows and columns. */
  tm: number;
  tn: number;
  /** Subgroups per workgroup along rows and columns. */
  sgRows: number;
  sgCols: number;
  /** Configuration k steps per staged tile. */
  ks: number;
  /** The device's subgroup size (the kernels need one: subgroupMinSize == subgroupMaxSize). */
  subgroupSize: number;
  /** Plain WGSL instead of the builtins (see above). */
  emulate?: boolean;
}

/** A subgroup-matrix configuration and the subgroup size (the device's, or an emulation's). */
export type SubgroupMatrixConfiguration = Pick<SubgroupMatrixTiles, 'm' | 'n' | 'k' | 'subgroupSize'>;
/** The shape of a workgroup's block in result matrices and subgroups (the configuration fixes the rest). */
export type SubgroupMatrixShape = Pick<SubgroupMatrixTiles, 'tm' | 'tn' | 'sgRows' | 'sgCols' | 'ks'>;

/**
 * How a staged tile is laid out: 'k-major' puts the reduction index outermost ([bk][rows or
 * columns]), 'k-minor' innermost ([rows or columns][bk]). Kernels choose the one in which
 * consecutive threads' staging stores land on consecutive addresses.
 */
export type TileLayout = 'k-major' | 'k-minor';

/** The workgroup's output block (rows x columns) and the staged tile's depth. */
export function subgroupMatrixBlock(t: SubgroupMatrixTiles): { BM: number; BN: number; bk: number } {
  return { BM: t.sgRows * t.tm * t.m, BN: t.sgCols * t.tn * t.n, bk: t.ks * t.k };
}

/** Elements of each result matrix per lane. */
export function subgroupMatrixLaneElements(t: SubgroupMatrixTiles): number {
  const E = (t.m * t.n) / t.subgroupSize;
  if (!Number.isInteger(E))
    throw new Error(`subgroup matrices: ${t.m}x${t.n} results are not a whole number per lane of ${t.subgroupSize}`);
  return E;
}

/** The kernel's enable directives (f16 tiles either way). */
export function subgroupMatrixEnables(t: SubgroupMatrixTiles): string[] {
  return t.emulate
    ? ['enable f16;']
    : [
        'enable f16;',
        'enable subgroups;',
        'enable chromium_experimental_subgroup_matrix;',
        'diagnostic(off, chromium.subgroup_matrix_uniformity);',
      ];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The accumulators acc_i_j: result matrices, or (emulated) each lane's elements of each. */
export function subgroupMatrixAccumulators(t: SubgroupMatrixTiles): string[] {
  const E = subgroupMatrixLaneElements(t);
  const L: string[] = [];
  for (const i of range(t.tm))
    for (const j of range(t.tn))
      L.push(
        t.emulate
          ? `  var acc_${i}_${j} = array<f32, ${E}>();`
          : `  var acc_${i}_${j} = subgroup_matrix_result<f32, ${t.n}, ${t.m}>();`,
      );
  return L;
}

/**
 * One staged step's products: the subgroup's result matrices accumulate the tiles' product over
 * the tile's bk, then a barrier (the next step overwrites the tiles). `component`: the tiles'
 * element type.
 */
export function subgroupMatrixProducts(
  t: SubgroupMatrixTiles,
  a: TileLayout,
  b: TileLayout,
  component: 'f16' | 'f32' = 'f16',
): string[] {
  return t.emulate ? emulatedProducts(t, a, b) : matrixProducts(t, a, b, component);
}

function matrixProducts(t: SubgroupMatrixTiles, a: TileLayout, b: TileLayout, component: string): string[] {
  const { m, n, k, tm, tn } = t;
  const { BM, BN, bk } = subgroupMatrixBlock(t);
  const left = `subgroup_matrix_left<${component}, ${k}, ${m}>`;
  const right = `subgroup_matrix_right<${component}, ${n}, ${k}>`;
  const S: string[] = [];
  for (const s of range(t.ks)) {
    S.push('    {');
    for (const i of range(tm))
      S.push(
        a === 'k-major'
          ? `      let a${i} = subgroupMatrixLoad<${left}, col_major>(&tA, ${s * k * BM}u + sm + ${i * m}u, ${BM}u);`
          : `      let a${i} = subgroupMatrixLoad<${left}, row_major>(&tA, (sm + ${i * m}u) * ${bk}u + ${s * k}u, ${bk}u);`,
      );
    for (const j of range(tn))
      S.push(
        b === 'k-minor'
          ? `      let b${j} = subgroupMatrixLoad<${right}, col_major>(&tB, (sn + ${j * n}u) * ${bk}u + ${s * k}u, ${bk}u);`
          : `      let b${j} = subgroupMatrixLoad<${right}, row_major>(&tB, ${s * k * BN}u + sn + ${j * n}u, ${BN}u);`,
      );
    for (const i of range(tm))
      for (const j of range(tn))
        S.push(`      acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, acc_${i}_${j});`);
    S.push('    }');
  }
  S.push('    workgroupBarrier();');
  return S;
}

/** The same step in plain WGSL: lane e of each result matrix sums its elements over the tile's k. */
function emulatedProducts(t: SubgroupMatrixTiles, a: TileLayout, b: TileLayout): string[] {
  const { m, n, tm, tn, subgroupSize: SG } = t;
  const { BM, BN, bk } = subgroupMatrixBlock(t);
  const E = subgroupMatrixLaneElements(t);
  // The tile's k as a bound the compiler cannot fold: unrolled, these loops take llvmpipe most
  // of a minute to compile.
  const S: string[] = [`    let kTile = select(${bk}u, 0u, k0 == 0xffffffffu);`];
  for (const i of range(tm))
    for (const j of range(tn)) {
      S.push(`    for (var q = 0u; q < ${E}u; q++) {`);
      S.push(`      let e = lane + q * ${SG}u;`);
      // Element e's row of A and column of B: where k = 0 is, and the step to the next k.
      const [ra, stepA] =
        a === 'k-major' ? [`sm + ${i * m}u + e / ${n}u`, `${BM}u`] : [`(sm + ${i * m}u + e / ${n}u) * ${bk}u`, '1u'];
      const col = `sn + ${j * n}u + e % ${n}u`;
      const [cb, bAt] = b === 'k-minor' ? [`(${col}) * ${bk}u`, 'cb + kk'] : [col, `cb + kk * ${BN}u`];
      S.push(`      let ra = ${ra}; let cb = ${cb};`);
      S.push(`      var s = acc_${i}_${j}[q];`);
      S.push(`      for (var kk = 0u; kk < kTile; kk++) { s += f32(tA[ra + kk * ${stepA}]) * f32(tB[${bAt}]); }`);
      S.push(`      acc_${i}_${j}[q] = s;`);
      S.push('    }');
    }
  S.push('    workgroupBarrier();');
  return S;
}

/** Result matrix (i, j) into the subgroup's scratch at scrBase, row-major m x n. */
export function subgroupMatrixToScratch(t: SubgroupMatrixTiles, i: number, j: number): string {
  const E = subgroupMatrixLaneElements(t);
  return t.emulate
    ? `  for (var q = 0u; q < ${E}u; q++) { scr[scrBase + lane + q * ${t.subgroupSize}u] = acc_${i}_${j}[q]; }`
    : `  subgroupMatrixStore<row_major>(&scr, scrBase, acc_${i}_${j}, ${t.n}u);`;
}

/**
 * The kernel's end: each result matrix through the subgroup's scratch, then its elements copied
 * out by the lanes, `store(value)` being the statement that writes one, with `row` and `col` (the
 * element's place in the whole result: tileRow and tileCol must be in scope) for it to check
 * against the bounds and place in its layout.
 */
export function subgroupMatrixStores(t: SubgroupMatrixTiles, store: (value: string) => string): string[] {
  const { m, n, subgroupSize: SG } = t;
  const E = subgroupMatrixLaneElements(t);
  const L = [`  let scrBase = sg * ${m * n}u;`];
  for (const i of range(t.tm))
    for (const j of range(t.tn)) {
      L.push(subgroupMatrixToScratch(t, i, j));
      L.push('  workgroupBarrier();');
      L.push(`  for (var q = 0u; q < ${E}u; q++) {`);
      L.push(`    let e = lane + q * ${SG}u;`);
      L.push(`    let row = tileRow + sm + ${i * m}u + e / ${n}u; let col = tileCol + sn + ${j * n}u + e % ${n}u;`);
      L.push(store('scr[scrBase + e]'));
      L.push('  }');
      L.push('  workgroupBarrier();');
    }
  return L;
}
