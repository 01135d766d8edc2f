// The cpu-family matmul with both operands in textures (llvmpipe).
//
// On llvmpipe a workgroup runs as SIMD lanes on one CPU thread. A storage-buffer load whose
// address differs per lane becomes a loop over the lanes with a bounds check and a branch per
// element; even a load every lane shares goes through a bounds-checked branch. A texel fetch is
// a vectorised gather with clamped coordinates and no branches. This kernel, a 16x16 block reading
// both operands with textureLoad, staging included, ran 2.8-3.2x as fast as the 16x8 buffer
// kernel at 1024³ and 1.2-1.75x as fast as the packed 32x32 one (`bench/mm-shape-probe.mjs`;
// docs/PERFORMANCE.md, "Texture operands"), and it compiles in seconds where the 32x32 block takes LLVM
// minutes.
//
// So each product first stages op(A), and op(B) unless it reads B in place (few rows), into
// rgba32float scratch textures (matmul-stage.ts: one pass over each operand, which also folds in
// the transposes and pads both to whole blocks), then one kernel reads them. Padding along K is
// zero; the rest of the padding only reaches outputs that are not stored (see stageOperands), so
// the inner loop needs neither clamps nor guards; only C's stores are.
//
// Where the device has subgroups of 8 or more lanes, A is fetched once per workgroup: the 8 lanes
// share their rows of A, so lane l fetches row l of each group of 8 and subgroupBroadcast hands
// it to the others. A's fetches then cost 1/8 of what they did, which lets the block grow in
// rows (32x8 instead of 16x16: the same 256 accumulators, half the B fetches per flop). The
// fetches are most of this kernel's time on llvmpipe: with synthetic operands instead of both
// fetches the 16x16 block ran 3.9x as fast (bench/subgroup-matmul-probe.mjs); the 32x8 block with
// broadcast A ran 1.3-1.55x as fast as the 16x16 one from DenseNet's shapes to 1024³.
import { getEngine } from '../../device.js';
import { defineKernel, runKernel, uniformPreamble, Uniforms } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import { stage, textureCopies, type BAffine } from './matmul-stage.js';

let mode: boolean | 'auto' = 'auto';

/**
 * Texture operands for the cpu family: 'auto' (the default) for products where they fit and
 * pay, true for every product that fits, false never (the buffer kernels and their tier-up).
 */
export function setMatmulTextures(m: boolean | 'auto'): void {
  mode = m;
}

export function matmulTexturesMode(): boolean | 'auto' {
  return mode;
}

let subgroups: boolean | 'auto' = 'auto';

/**
 * Broadcast A across the workgroup's lanes: 'auto' (the default) where the device runs
 * subgroups of at least the workgroup's 8 lanes, false never (tests and probes run both).
 */
export function setTextureSubgroups(on: boolean | 'auto'): void {
  subgroups = on;
}

function subgroupsUsable(): boolean {
  return subgroups !== false && getEngine().info.subgroupMinSize >= LANES;
}

/** Invocations per texture-matmul workgroup, all along N: llvmpipe's SIMD width (8 lanes). */
const LANES = 8;

let vec4Stores = true;

/** Probes and tests: false writes C one float at a time even where N % 4 == 0. */
export function setTextureVec4Stores(on: boolean): void {
  vec4Stores = on;
}

export interface TextureMatmulOptions {
  /** Register block: tm rows x tn columns per invocation (tn a multiple of 4). */
  tm: number;
  tn: number;
  /** Invocations per workgroup, all in one row (the row block then comes from workgroup_id). */
  wx: number;
  /**
   * B read in place from its buffer (row-major [K, N], N and K multiples of 4) instead of a
   * staged texture: for products with few rows, where staging B would cost more than it saves.
   */
  bBuffer: boolean;
  /**
   * With bBuffer: B is stored transposed ([N, K] row-major, K a multiple of 4), read as vec4s
   * along k and combined with dot products (Linear layers' x · Wᵀ with a small batch).
   */
  bTrans?: boolean;
  /**
   * C written as vec4s (N a multiple of 4, so a group of 4 columns is all in range or all out):
   * a quarter of the stores, each a per-lane scatter with a bounds branch on llvmpipe.
   */
  vec4Out?: boolean;
  /**
   * A fetched once per workgroup: lane l reads row l of each group of 8 and subgroupBroadcast
   * shares it (tm a multiple of wx, wx lanes within one subgroup).
   */
  subgroupA?: boolean;
}

// Uniform words: M, N, K/4 (rounded up), A rows per batch entry (0: shared), B rows (texture) or
// elements (buffer) per entry (0: shared), C stride per entry.
export const matmulTextureKernel = defineKernel<TextureMatmulOptions>({
  name: 'matmul-texture',
  inputs: (o) => (o.bBuffer ? 1 : 0),
  outputs: 1,
  textures: (o) => (o.bBuffer ? ['sampled'] : ['sampled', 'sampled']),
  source: ({ tm, tn, wx, bBuffer, bTrans, vec4Out, subgroupA }) => {
    const R = (n: number) => Array.from({ length: n }, (_, i) => i);
    const L: string[] = subgroupA ? ['enable subgroups;', uniformPreamble()] : [uniformPreamble()];
    const cType = vec4Out ? 'vec4<f32>' : 'f32';
    if (bBuffer) {
      L.push(
        '@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;',
        `@group(0) @binding(2) var<storage, read_write> C: array<${cType}>;`,
      );
      L.push('@group(0) @binding(3) var At: texture_2d<f32>;');
    } else {
      L.push(`@group(0) @binding(1) var<storage, read_write> C: array<${cType}>;`);
      L.push('@group(0) @binding(2) var At: texture_2d<f32>;', '@group(0) @binding(3) var Bt: texture_2d<f32>;');
    }
    L.push(`@compute @workgroup_size(${wx}, 1)`);
    L.push(
      `fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>${subgroupA ? ', @builtin(subgroup_invocation_id) sid: u32' : ''}) {`,
    );
    L.push('  let M = pu(0u); let N = pu(1u); let K4 = pu(2u);');
    L.push(`  let row0 = wid.x * ${tm}u; let col0 = (wid.y * ${wx}u + lid.x) * ${tn}u;`);
    L.push('  let ay = wid.z * pu(3u) + row0; let by = wid.z * pu(4u); let bx = col0 / 4u;');
    // In place, out-of-range columns read the last vec4 (finite data; their results are not stored).
    if (bBuffer && bTrans)
      L.push('  let b4 = by / 4u;', ...R(tn).map((c) => `  let br${c} = b4 + min(col0 + ${c}u, N - 1u) * K4;`));
    else if (bBuffer)
      L.push(
        '  let N4 = N / 4u; let b4 = by / 4u;',
        ...R(tn / 4).map((q) => `  let bc${q} = b4 + min(bx + ${q}u, N4 - 1u);`),
      );
    for (const r of R(tm)) for (const c of R(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
    L.push('  for (var k = 0u; k < K4; k++) {');
    if (subgroupA) {
      // The loop is uniform (K4 is), so every lane reaches the broadcasts.
      for (const h of R(tm / wx)) L.push(`    let al${h} = textureLoad(At, vec2<u32>(k, ay + ${h * wx}u + sid), 0);`);
      for (const r of R(tm)) L.push(`    let a${r} = subgroupBroadcast(al${Math.floor(r / wx)}, ${r % wx}u);`);
    } else for (const r of R(tm)) L.push(`    let a${r} = textureLoad(At, vec2<u32>(k, ay + ${r}u), 0);`);
    if (bBuffer && bTrans) {
      for (const c of R(tn)) L.push(`    let b${c} = B[br${c} + k];`);
      for (const r of R(tm)) for (const c of R(tn)) L.push(`    acc_${r}_${c} += dot(a${r}, b${c});`);
    } else {
      for (const kk of R(4))
        for (const q of R(tn / 4))
          L.push(
            bBuffer
              ? `    let b${kk}_${q} = B[bc${q} + (4u * k + ${kk}u) * N4];`
              : `    let b${kk}_${q} = textureLoad(Bt, vec2<u32>(bx + ${q}u, by + 4u * k + ${kk}u), 0);`,
          );
    }
    for (const r of R(bBuffer && bTrans ? 0 : tm))
      for (const c of R(tn)) {
        const q = Math.floor(c / 4);
        const s = 'xyzw'[c % 4];
        L.push(
          `    acc_${r}_${c} += a${r}.x * b0_${q}.${s} + a${r}.y * b1_${q}.${s} + a${r}.z * b2_${q}.${s} + a${r}.w * b3_${q}.${s};`,
        );
      }
    L.push('  }');
    L.push('  let cBase = wid.z * pu(5u);');
    for (const r of R(tm)) {
      L.push(`  if (row0 + ${r}u < M) {`);
      if (vec4Out) {
        for (const q of R(tn / 4)) {
          const acc = R(4).map((j) => `acc_${r}_${4 * q + j}`);
          L.push(
            `    if (col0 + ${4 * q}u < N) { C[(cBase + (row0 + ${r}u) * N + col0) / 4u + ${q}u] = vec4<f32>(${acc.join(', ')}); }`,
          );
        }
      } else
        for (const c of R(tn))
          L.push(`    if (col0 + ${c}u < N) { C[cBase + (row0 + ${r}u) * N + col0 + ${c}u] = acc_${r}_${c}; }`);
      L.push('  }');
    }
    L.push('}');
    return L.join('\n');
  },
});

/**
 * Products with fewer rows read B in place. An estimate, not a tuned value: staging costs 2-8 ns
 * per element of B on lavapipe (copy or stage kernel, `bench/texture-staging-probe.mjs`), and
 * each element then feeds 2·M flops, which a staged B makes roughly 1.4x cheaper; the two
 * balance at M of about 100.
 */
export const STAGE_B_MIN_ROWS = 128;

/**
 * Rows per block with A broadcast: 32 where padding M to whole blocks wastes at most 1/8 of the
 * rows, else 16, else 8 (tm must be a multiple of the 8 lanes); 0 below 8 rows.
 */
function subgroupRows(M: number): number {
  for (const tm of [32, 16, 8]) if (M >= tm && (Math.ceil(M / tm) * tm - M) * 8 <= M) return tm;
  return M >= 8 ? 8 : 0;
}

/**
 * The block for a product: with A broadcast, 32x8 (8 lanes) where it fills; otherwise 16x16;
 * narrower for short or thin outputs.
 */
export function textureTiles(M: number, N: number, K: number, transB: boolean, stageB = false): TextureMatmulOptions {
  // A B that a copy can stage (about 2 ns per element) pays from 16 rows: Winograd's 32-row GEMMs
  // at DenseNet's blocks 1 and 2 run faster staged than reading B in place
  // (`bench/texture-staging-probe.mjs 16x32x128x3136 16x32x128x896`).
  const copied = textureCopies() && !transB && N % 64 === 0 && K % 4 === 0 && M >= 16;
  const bBuffer = !stageB && M < STAGE_B_MIN_ROWS && !copied && K % 4 === 0 && (transB || N % 4 === 0);
  const sgRows = subgroupsUsable() ? subgroupRows(M) : 0;
  const shape =
    sgRows > 0
      ? { tm: sgRows, tn: N > 32 ? 8 : 4, subgroupA: true }
      : { tm: M >= 16 ? 16 : M >= 8 ? 8 : 4, tn: N > 64 ? 16 : N > 32 ? 8 : 4 };
  return {
    ...shape,
    wx: LANES,
    bBuffer,
    ...(bBuffer && transB ? { bTrans: true } : {}),
    ...(vec4Stores && N % 4 === 0 ? { vec4Out: true } : {}),
  };
}

interface Geometry {
  tiles: TextureMatmulOptions;
  mp: number;
  kp: number;
  np: number;
}

function geometry(M: number, N: number, K: number, transB: boolean, stageB = false): Geometry {
  const tiles = textureTiles(M, N, K, transB, stageB);
  const wide = tiles.wx * tiles.tn;
  return { tiles, mp: Math.ceil(M / tiles.tm) * tiles.tm, kp: Math.ceil(K / 4) * 4, np: Math.ceil(N / wide) * wide };
}

/**
 * Whether both staged operands fit the adapter's texture size (entries: batch entries staged;
 * stageB: B must be staged, as with a BAffine).
 */
export function textureMatmulFits(
  M: number,
  N: number,
  K: number,
  entriesA: number,
  entriesB: number,
  transB: boolean,
  stageB = false,
): boolean {
  const max = getEngine().info.limits.maxTextureDimension2D;
  const { tiles, mp, kp, np } = geometry(M, N, K, transB, stageB);
  if (kp / 4 > max || entriesA * mp > max || entriesA * entriesB === 0) return false;
  return tiles.bBuffer || (np / 4 <= max && entriesB * kp <= max);
}

/**
 * C[b] = op(A[b]) · op(B[b]) through textures. sa / sb: elements per batch entry of A and B in
 * their buffers (0: one matrix shared by the batch, staged once). `out` is [nb, M, N]. With
 * `bAffine`, B is staged through its affine map (and ReLU).
 */
export function textureMatmul(
  a: Tensor,
  sa: number,
  b: Tensor,
  sb: number,
  out: Tensor,
  M: number,
  N: number,
  K: number,
  nb: number,
  transA: boolean,
  transB: boolean,
  bAffine: BAffine | null = null,
): void {
  // f16 operands are staged (the kernel's in-place B reads f32).
  const half = a.dtype === 'f16';
  const { tiles, mp, kp, np } = geometry(M, N, K, transB, bAffine !== null || half);
  const ea = sa === 0 ? 1 : nb;
  const eb = sb === 0 ? 1 : nb;
  const scratch = getEngine().scratch;
  const at = scratch.get('matmul-a', kp / 4, ea * mp);
  stage({
    src: a,
    dst: at,
    R: M,
    C: K,
    stride: sa,
    trans: transA,
    texels: kp / 4,
    rowsPerEntry: mp,
    entries: ea,
  });
  const wg: [number, number, number] = [mp / tiles.tm, np / (tiles.wx * tiles.tn), nb];
  if (tiles.bBuffer) {
    runKernel(matmulTextureKernel, tiles, {
      inputs: [b],
      outputs: [out],
      textures: [at.view],
      uniforms: new Uniforms().u32(M, N, kp / 4, sa === 0 ? 0 : mp, sb, M * N),
      workgroups: wg,
    });
    return;
  }
  const bt = scratch.get('matmul-b', np / 4, eb * kp);
  stage({
    src: b,
    dst: bt,
    R: K,
    C: N,
    stride: sb,
    trans: transB,
    texels: np / 4,
    rowsPerEntry: kp,
    entries: eb,
    affine: bAffine,
  });
  runKernel(matmulTextureKernel, tiles, {
    inputs: [],
    outputs: [out],
    textures: [at.view, bt.view],
    uniforms: new Uniforms().u32(M, N, kp / 4, sa === 0 ? 0 : mp, sb === 0 ? 0 : kp, M * N),
    workgroups: wg,
  });
}

/**
 * C = Σ_b op(A[b]) · op(B[b]) through textures, `out` [M, N]: the nb entries run along K, so one
 * product over nb · K columns of A and rows of B sums them (StageOptions.split) and no per-entry
 * products are written or reduced. Both operands hold nb entries; B is always staged, through
 * `bAffine` where given. Fits where textureMatmulFits(M, N, nb · K, 1, 1, transB, true).
 */
export function textureMatmulSumBatch(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  M: number,
  N: number,
  K: number,
  nb: number,
  transA: boolean,
  transB: boolean,
  bAffine: BAffine | null = null,
): void {
  const { tiles, mp, kp, np } = geometry(M, N, nb * K, transB, true);
  const scratch = getEngine().scratch;
  const at = scratch.get('matmul-a', kp / 4, mp);
  const bt = scratch.get('matmul-b', np / 4, kp);
  stage({
    src: a,
    dst: at,
    R: M,
    C: nb * K,
    stride: M * K,
    trans: transA,
    texels: kp / 4,
    rowsPerEntry: mp,
    entries: 1,
    split: { axis: 'c', length: K },
  });
  stage({
    src: b,
    dst: bt,
    R: nb * K,
    C: N,
    stride: K * N,
    trans: transB,
    texels: np / 4,
    rowsPerEntry: kp,
    entries: 1,
    split: { axis: 'r', length: K },
    affine: bAffine,
  });
  runKernel(matmulTextureKernel, tiles, {
    inputs: [],
    outputs: [out],
    textures: [at.view, bt.view],
    uniforms: new Uniforms().u32(M, N, kp / 4, 0, 0, M * N),
    workgroups: [mp / tiles.tm, np / (tiles.wx * tiles.tn), 1],
  });
}
