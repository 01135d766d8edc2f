// Matmul kernels: C[b] = op(A[b]) · op(B[b]), op = identity or transpose, row-major f32.
//
// 'cpu' family (lavapipe, SwiftShader): no workgroup memory and no barriers (both are costly
// when a workgroup runs as SIMD lanes on one CPU thread); each invocation keeps a TM x TN block
// of C in registers and reads A and B with vec4 loads straight from storage. Out-of-range rows
// and columns are read clamped and never stored, so no branch sits in the inner loop.
// 'gpu' family: workgroup-tiled kernels (workgroup-memory tiles, vec4 register blocks), in tile
// shapes chosen per problem size (matmul-gpu-tiles.ts).
import { defineKernel, uniformPreamble } from '../../kernel.js';
import { tileAccumulators, tiledKLoop, type TileStaging } from '../../tile-codegen.js';

export interface MatmulOptions {
  family: 'cpu' | 'gpu';
  transA: boolean;
  transB: boolean;
  /**
   * cpu family: vec4 loads along the contiguous axis (needs alignment, see canVec4). gpu family:
   * vec4 stores of C (needs N % 4 == 0).
   */
  vec4: boolean;
  tm: number;
  tn: number;
  wx: number;
  wy: number;
  /**
   * cpu family, vec4 path: B comes packed in k-major column panels (matmul-pack.ts), read as one
   * sequential stream per workgroup, so transB does not change this kernel.
   */
  packedB?: boolean;
  /** gpu family: k per workgroup-memory step (default 16). */
  bk?: number;
  /** gpu family: vec4 global reads of A / B along their contiguous axis (its length % 4 == 0). */
  vecA?: boolean;
  vecB?: boolean;
  /** gpu family: K split over workgroup z into partial products (split-K). */
  split?: boolean;
  /**
   * gpu family: C = Σ_b op(A[b]) · op(B[b]), one [M, N] result; each workgroup runs its K loop
   * once per batch entry (uniform word 6: the entries) into the same accumulators.
   */
  sumBatch?: boolean;
  /**
   * gpu family: B's stored rows mapped as the tiles are read (BAffine: v · coef[row].z +
   * coef[row].w, then ReLU where uniform word 8 is nonzero); coef binds after B.
   */
  bAffine?: boolean;
  /**
   * A and B hold f16 (needs 'shader-f16'): every read widens to f32, so products and sums stay
   * f32 and C is f32. Not with packedB.
   */
  half?: boolean;
}

// Uniform words: M, N, K, strideA, strideB, strideC (per batch entry, in elements); gpu split-K: splits, k per chunk
// (sumBatch: word 6, the entries); gpu bAffine: word 8, ReLU.
const HEAD = (o: MatmulOptions, t: 'f32' | 'vec4<f32>') => `${o.half ? 'enable f16;\n' : ''}${uniformPreamble()}
@group(0) @binding(1) var<storage, read> A: array<${half(o, t)}>;
@group(0) @binding(2) var<storage, read> B: array<${o.packedB ? t : half(o, t)}>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
`;

/** The element type of an operand array: `t`, or its f16 form for half operands. */
function half(o: MatmulOptions, t: string): string {
  return o.half ? t.replace('f32', 'f16') : t;
}

/** A read of an operand array, widened to f32 (`t`) for half operands. */
function load(o: MatmulOptions, t: 'f32' | 'vec4<f32>', read: string): string {
  return o.half ? `${t}(${read})` : read;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Store the TM x TN register block acc_r_c (scalars) with bounds checks. */
function storeBlock(o: MatmulOptions): string {
  const lines: string[] = [];
  for (const r of range(o.tm)) {
    lines.push(`  if (row0 + ${r}u < M) {`);
    for (const c of range(o.tn))
      lines.push(`    if (col0 + ${c}u < N) { C[cBase + (row0 + ${r}u) * N + col0 + ${c}u] = acc_${r}_${c}; }`);
    lines.push('  }');
  }
  return lines.join('\n');
}

function cpuVec4(o: MatmulOptions): string {
  const { tm, tn } = o;
  const L: string[] = [HEAD(o, 'vec4<f32>')];
  L.push(`@compute @workgroup_size(${o.wx}, ${o.wy})`);
  const packed = o.packedB === true;
  L.push(
    `fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>${packed ? ', @builtin(local_invocation_id) lid: vec3<u32>' : ''}) {`,
  );
  L.push('  let M = pu(0u); let N = pu(1u); let K = pu(2u); let K4 = K / 4u;');
  const w4 = (o.wx * tn) / 4;
  if (packed) {
    // Row blocks along workgroup x, so consecutive workgroups read the same B panel while it is
    // still in cache; the panel along y; the batch entry along z.
    L.push(`  let row0 = wid.x * ${tm}u; let col0 = (wid.y * ${o.wx}u + lid.x) * ${tn}u;`);
    L.push('  let aBase = wid.z * (pu(3u) / 4u); let cBase = wid.z * pu(5u);');
    L.push(`  let pb = wid.z * (pu(4u) / 4u) + wid.y * K * ${w4}u + lid.x * ${tn / 4}u;`);
  }
  // With one row of invocations per workgroup the row block comes from workgroup_id, which
  // llvmpipe's divergence analysis sees as uniform: A is then read with one scalar load per
  // value for all lanes instead of a per-lane loop. No early return either: lanes stay
  // converged (clamped reads, guarded stores).
  if (!packed) {
    L.push(`  let col0 = gid.x * ${tn}u; let row0 = ${o.wy === 1 ? 'wid.y' : 'gid.y'} * ${tm}u;`);
    L.push('  let aBase = gid.z * (pu(3u) / 4u); let bBase = gid.z * (pu(4u) / 4u); let cBase = gid.z * pu(5u);');
  }
  for (const r of range(tm)) for (const c of range(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
  // Clamped row/column addresses, hoisted out of the k loop.
  if (!o.transA) for (const r of range(tm)) L.push(`  let ar${r} = aBase + min(row0 + ${r}u, M - 1u) * K4;`);
  else
    L.push(
      `  let M4 = M / 4u;`,
      ...range(tm / 4).map((q) => `  let ac${q} = aBase + min(row0 / 4u + ${q}u, M4 - 1u);`),
    );
  if (packed) {
    /* B addresses come from pb */
  } else if (!o.transB)
    L.push(
      '  let N4 = N / 4u;',
      ...range(tn / 4).map((q) => `  let bc${q} = bBase + min(col0 / 4u + ${q}u, N4 - 1u);`),
    );
  else for (const c of range(tn)) L.push(`  let br${c} = bBase + min(col0 + ${c}u, N - 1u) * K4;`);
  L.push('  for (var k = 0u; k < K4; k++) {');
  // a_r: vec4 over kk for row r.
  if (!o.transA) for (const r of range(tm)) L.push(`    let a${r} = ${load(o, 'vec4<f32>', `A[ar${r} + k]`)};`);
  else {
    for (const kk of range(4))
      for (const q of range(tm / 4))
        L.push(`    let at${kk}_${q} = ${load(o, 'vec4<f32>', `A[ac${q} + (4u * k + ${kk}u) * M4]`)};`);
    for (const r of range(tm)) {
      const q = Math.floor(r / 4);
      const comp = 'xyzw'[r % 4];
      L.push(`    let a${r} = vec4<f32>(at0_${q}.${comp}, at1_${q}.${comp}, at2_${q}.${comp}, at3_${q}.${comp});`);
    }
  }
  if (packed || !o.transB) {
    for (const kk of range(4))
      for (const q of range(tn / 4))
        L.push(
          packed
            ? `    let b${kk}_${q} = B[pb + (4u * k + ${kk}u) * ${w4}u + ${q}u];`
            : `    let b${kk}_${q} = ${load(o, 'vec4<f32>', `B[bc${q} + (4u * k + ${kk}u) * N4]`)};`,
        );
    for (const r of range(tm))
      for (const c of range(tn)) {
        const q = Math.floor(c / 4);
        const comp = 'xyzw'[c % 4];
        L.push(
          `    acc_${r}_${c} += a${r}.x * b0_${q}.${comp} + a${r}.y * b1_${q}.${comp} + a${r}.z * b2_${q}.${comp} + a${r}.w * b3_${q}.${comp};`,
        );
      }
  } else {
    for (const c of range(tn)) L.push(`    let b${c} = ${load(o, 'vec4<f32>', `B[br${c} + k]`)};`);
    for (const r of range(tm)) for (const c of range(tn)) L.push(`    acc_${r}_${c} += dot(a${r}, b${c});`);
  }
  L.push('  }');
  L.push(storeBlock(o));
  L.push('}');
  return L.join('\n');
}

function cpuScalar(o: MatmulOptions): string {
  const { tm, tn } = o;
  const L: string[] = [HEAD(o, 'f32')];
  L.push(`@compute @workgroup_size(${o.wx}, ${o.wy})`);
  L.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>) {');
  L.push('  let M = pu(0u); let N = pu(1u); let K = pu(2u);');
  L.push(`  let col0 = gid.x * ${tn}u; let row0 = gid.y * ${tm}u;`);
  L.push('  if (row0 >= M || col0 >= N) { return; }');
  L.push('  let aBase = gid.z * pu(3u); let bBase = gid.z * pu(4u); let cBase = gid.z * pu(5u);');
  for (const r of range(tm)) for (const c of range(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
  for (const r of range(tm)) L.push(`  let ri${r} = min(row0 + ${r}u, M - 1u);`);
  for (const c of range(tn)) L.push(`  let ci${c} = min(col0 + ${c}u, N - 1u);`);
  L.push('  for (var k = 0u; k < K; k++) {');
  for (const r of range(tm))
    L.push(`    let a${r} = ${load(o, 'f32', `A[aBase + ${o.transA ? `k * M + ri${r}` : `ri${r} * K + k`}]`)};`);
  for (const c of range(tn))
    L.push(`    let b${c} = ${load(o, 'f32', `B[bBase + ${o.transB ? `ci${c} * K + k` : `k * N + ci${c}`}]`)};`);
  for (const r of range(tm)) for (const c of range(tn)) L.push(`    acc_${r}_${c} += a${r} * b${c};`);
  L.push('  }');
  L.push(storeBlock(o));
  L.push('}');
  return L.join('\n');
}

/**
 * Workgroup-tiled kernel for real GPUs: a (wy*tm) x (wx*tn) tile of C per workgroup, K in steps
 * of bk through workgroup memory (tile-codegen.ts). Both tiles are k-major vec4s, so the inner
 * loop reads tm/4 + tn/4 vec4s (neighbouring threads read neighbouring vec4s, or the same one)
 * for tm*tn multiply-adds on vec4 accumulators. Global reads run along each operand's
 * contiguous axis (coalesced), as vec4s where that axis is a multiple of 4 long, and the next
 * k step's reads are issued before this step's arithmetic. With `split`, workgroup z also
 * splits K into chunks (split-K for products with too few output tiles to fill the device):
 * each chunk writes its partial product to its own slice of C, [splits, batch, M, N], summed
 * afterwards. With `sumBatch`, the K loop runs once per batch entry into the same accumulators.
 * tm and tn are multiples of 4.
 */
function gpuTiled(o: MatmulOptions): string {
  const { tm, tn, wx, wy } = o;
  const BM = wy * tm;
  const BN = wx * tn;
  const bk = o.bk ?? 16;
  const threads = wx * wy;
  const vecA = o.vecA === true;
  const vecB = o.vecB === true;
  const L: string[] = [o.half ? 'enable f16;' : '', uniformPreamble()];
  L.push(`@group(0) @binding(1) var<storage, read> A: array<${half(o, vecA ? 'vec4<f32>' : 'f32')}>;`);
  L.push(`@group(0) @binding(2) var<storage, read> B: array<${half(o, vecB ? 'vec4<f32>' : 'f32')}>;`);
  if (o.bAffine)
    L.push(
      '@group(0) @binding(3) var<storage, read> coef: array<vec4<f32>>;',
      'fn mapB(v: f32, k: vec4<f32>) -> f32 { let y = v * k.z + k.w; return select(y, max(y, 0.0), pu(8u) != 0u); }',
      'fn mapB4(v: vec4<f32>, k: vec4<f32>) -> vec4<f32> { let y = v * k.z + vec4<f32>(k.w); return select(y, max(y, vec4<f32>(0.0)), pu(8u) != 0u); }',
    );
  L.push(
    `@group(0) @binding(${o.bAffine ? 4 : 3}) var<storage, read_write> C: array<${o.vec4 ? 'vec4<f32>' : 'f32'}>;`,
  );
  L.push(
    `var<workgroup> As: array<vec4<f32>, ${(BM * bk) / 4}>;`,
    `var<workgroup> Bs: array<vec4<f32>, ${(bk * BN) / 4}>;`,
  );
  L.push(`@compute @workgroup_size(${wx}, ${wy})`);
  L.push(
    'fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
  );
  L.push('  let M = pu(0u); let N = pu(1u); let K = pu(2u);');
  if (o.sumBatch) {
    L.push('  let kStart = 0u; let kEnd = K; let cBase = 0u;');
  } else if (o.split) {
    // Words 6 and 7: splits, k per chunk (a multiple of bk).
    L.push('  let splits = pu(6u); let entry = wid.z / splits; let part = wid.z % splits;');
    L.push('  let kStart = part * pu(7u); let kEnd = min(K, kStart + pu(7u));');
    L.push('  let cBase = (part * (nwg.z / splits) + entry) * pu(5u);');
  } else {
    L.push('  let entry = wid.z; let kStart = 0u; let kEnd = K; let cBase = entry * pu(5u);');
  }
  if (!o.sumBatch) L.push('  let aBase = entry * pu(3u); let bBase = entry * pu(4u);');
  L.push(`  let tileRow = wid.y * ${BM}u; let tileCol = wid.x * ${BN}u;`);
  L.push(`  let tid = lid.y * ${wx}u + lid.x;`);
  L.push(...tileAccumulators(tm, tn));
  const q = (v: boolean, e: string) => (v ? `(${e}) / 4u` : e);
  const stagingA: TileStaging = {
    tile: 'As',
    width: BM,
    bk,
    threads,
    along: o.transA ? 'mn' : 'k',
    vec4: vecA,
    half: o.half,
    reg: 'ra',
    read: (mn, kk) => ({
      ok: `tileRow + ${mn} < M && k0 + ${kk} < kEnd`,
      at: q(
        vecA,
        o.transA ? `aBase + (k0 + ${kk}) * M + tileRow + ${mn}` : `aBase + (tileRow + ${mn}) * K + k0 + ${kk}`,
      ),
      array: 'A',
    }),
  };
  const stagingB: TileStaging = {
    tile: 'Bs',
    width: BN,
    bk,
    threads,
    along: o.transB ? 'k' : 'mn',
    vec4: vecB,
    half: o.half,
    reg: 'rb',
    read: (mn, kk) => ({
      ok: `tileCol + ${mn} < N && k0 + ${kk} < kEnd`,
      at: q(
        vecB,
        o.transB ? `bBase + (tileCol + ${mn}) * K + k0 + ${kk}` : `bBase + (k0 + ${kk}) * N + tileCol + ${mn}`,
      ),
      array: 'B',
    }),
    // A unit lies within one stored row of B: row n of a transposed B (units along k), else row k.
    ...(o.bAffine
      ? {
          map: (v: string, mn: string, kk: string) =>
            `${vecB ? 'mapB4' : 'mapB'}(${v}, coef[${o.transB ? `tileCol + ${mn}` : `k0 + ${kk}`}])`,
        }
      : {}),
  };
  const kLoop = tiledKLoop([stagingA, stagingB], { tm, tn, bm: BM, bn: BN, bk });
  if (o.sumBatch)
    // The loop bound is a uniform word: the barriers inside stay in uniform control flow.
    L.push(
      '  for (var entry = 0u; entry < pu(6u); entry++) {',
      '  let aBase = entry * pu(3u); let bBase = entry * pu(4u);',
      ...kLoop,
      '  }',
    );
  else L.push(...kLoop);
  L.push(`  let row0 = tileRow + lid.y * ${tm}u; let col0 = tileCol + lid.x * ${tn}u;`);
  for (const r of range(tm)) {
    L.push(`  if (row0 + ${r}u < M) {`);
    // vec4 stores: one 16-byte write per accumulator (N % 4 == 0, so a vec4 is all in or all out).
    if (o.vec4)
      for (const c4 of range(tn / 4))
        L.push(
          `    if (col0 + ${4 * c4}u < N) { C[(cBase + (row0 + ${r}u) * N + col0) / 4u + ${c4}u] = acc_${r}_${c4}; }`,
        );
    else
      for (const c of range(tn))
        L.push(
          `    if (col0 + ${c}u < N) { C[cBase + (row0 + ${r}u) * N + col0 + ${c}u] = acc_${r}_${Math.floor(c / 4)}[${c % 4}]; }`,
        );
    L.push('  }');
  }
  L.push('}');
  return L.join('\n');
}

export const matmulKernel = defineKernel<MatmulOptions>({
  name: 'matmul',
  inputs: (o) => (o.bAffine ? 3 : 2),
  outputs: 1,
  source: (o) => (o.family === 'gpu' ? gpuTiled(o) : o.vec4 ? cpuVec4(o) : cpuScalar(o)),
});

/** vec4 loads need K and the contiguous non-K axes to be multiples of 4. */
export function canVec4(
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  tm: number,
  tn: number,
): boolean {
  if (K % 4 !== 0) return false;
  if (transA && (M % 4 !== 0 || tm % 4 !== 0)) return false;
  if (!transB && (N % 4 !== 0 || tn % 4 !== 0)) return false;
  return true;
}
