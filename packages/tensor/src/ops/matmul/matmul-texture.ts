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
import type { ScratchTexture } from '../../scratch-textures.js';
import type { Tensor } from '../../tensor.js';
import { TensorError } from '../../errors.js';
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
  /**
   * C = Σ_e A[e] · B[e] over the entries (uniform word 6) of both staged operands, one K loop
   * per entry into the same accumulators (matmulSumBatch: a weight gradient summed over the
   * batch without per-image products). The grid's z is 1; B is staged.
   */
  sumEntries?: boolean;
}

// Uniform words: M, N, K/4 (rounded up), A rows per batch entry (0: shared), B rows (texture) or
// elements (buffer) per entry (0: shared), C stride per entry; with sumEntries, the entries.
export const matmulTextureKernel = defineKernel<TextureMatmulOptions>({
  name: 'matmul-texture',
  inputs: (o) => (o.bBuffer ? 1 : 0),
  outputs: 1,
  textures: (o) => (o.bBuffer ? ['sampled'] : ['sampled', 'sampled']),
  source: ({ tm, tn, wx, bBuffer, bTrans, vec4Out, subgroupA, sumEntries }) => {
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
    for (const r of R(tm)) for (const c of R(tn)) L.push(`  var acc_${r}_${c} = 0.0;`);
    // Summing entries, each entry's K loop runs in turn (the loop is uniform: the broadcasts below
    // stay in uniform control flow).
    const entry = sumEntries ? 'e' : 'wid.z';
    if (sumEntries) L.push('  for (var e = 0u; e < pu(6u); e++) {');
    L.push(`  let ay = ${entry} * pu(3u) + row0; let by = ${entry} * pu(4u); let bx = col0 / 4u;`);
    // In place, out-of-range columns read the last vec4 (finite data; their results are not stored).
    if (bBuffer && bTrans)
      L.push('  let b4 = by / 4u;', ...R(tn).map((c) => `  let br${c} = b4 + min(col0 + ${c}u, N - 1u) * K4;`));
    else if (bBuffer)
      L.push(
        '  let N4 = N / 4u; let b4 = by / 4u;',
        ...R(tn / 4).map((q) => `  let bc${q} = b4 + min(bx + ${q}u, N4 - 1u);`),
      );
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
    if (sumEntries) L.push('  }');
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

/** A staged operand's texture and its rows per batch entry (0: one entry shared by the batch). */
interface Staged {
  texture: ScratchTexture;
  rows: number;
}

/** Stage op(A) [M, K] of each of `entries` entries (sa elements apart) into `slot`. */
function stageA(
  g: Geometry,
  a: Tensor,
  sa: number,
  M: number,
  K: number,
  entries: number,
  transA: boolean,
  slot = 'matmul-a',
): ScratchTexture {
  const texture = getEngine().scratch.get(slot, g.kp / 4, entries * g.mp);
  stage({ src: a, dst: texture, R: M, C: K, stride: sa, trans: transA, texels: g.kp / 4, rowsPerEntry: g.mp, entries });
  return texture;
}

/** Stage op(B) [K, N] of each of `entries` entries (sb elements apart) into `slot`, through `affine`. */
function stageB(
  g: Geometry,
  b: Tensor,
  sb: number,
  K: number,
  N: number,
  entries: number,
  transB: boolean,
  affine: BAffine | null,
  slot = 'matmul-b',
): ScratchTexture {
  const texture = getEngine().scratch.get(slot, g.np / 4, entries * g.kp);
  stage({
    src: b,
    dst: texture,
    R: K,
    C: N,
    stride: sb,
    trans: transB,
    texels: g.np / 4,
    rowsPerEntry: g.kp,
    entries,
    affine,
  });
  return texture;
}

/**
 * The block kernel over staged A and B (or B read in place: `buffer`, `stride` elements per
 * entry), C [nb, M, N]; with `sumEntries`, C [M, N] sums that many entries' products.
 */
function runProduct(
  g: Geometry,
  M: number,
  N: number,
  nb: number,
  a: Staged,
  b: Staged | { buffer: Tensor; stride: number },
  out: Tensor,
  sumEntries = 0,
): void {
  const { tiles, mp, kp, np } = g;
  const inPlace = 'buffer' in b;
  runKernel(matmulTextureKernel, sumEntries ? { ...tiles, sumEntries: true } : tiles, {
    inputs: inPlace ? [b.buffer] : [],
    outputs: [out],
    textures: inPlace ? [a.texture.view] : [a.texture.view, b.texture.view],
    uniforms: new Uniforms().u32(M, N, kp / 4, a.rows, inPlace ? b.stride : b.rows, M * N, sumEntries),
    workgroups: [mp / tiles.tm, np / (tiles.wx * tiles.tn), sumEntries ? 1 : nb],
  });
}

/**
 * A texture product some of whose operands a producer kernel writes straight into the textures the
 * product reads, instead of buffers that a stage then copies: A as texel (k / 4, e · a.rows + m)
 * of its storage view, B as texel (n / 4, e · b.rows + k), for entry e; zero along K past K
 * within the last texel. Past M and N anything may stay (those outputs are not stored).
 */
export interface TextureProduct {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly nb: number;
  /** The textures to write (null: that operand is staged from a buffer when the product runs). */
  readonly a: { readonly view: GPUTextureView; readonly rows: number } | null;
  readonly b: { readonly view: GPUTextureView; readonly rows: number } | null;
  readonly geometry: Geometry;
  readonly staged: { a: Staged | null; b: Staged | null };
}

/** An operand a TextureProduct stages itself: its buffer, elements per entry (0: shared), transposed. */
export interface ProductOperand {
  src: Tensor;
  stride: number;
  trans: boolean;
}

/**
 * The textures for a product of nb entries whose A and/or B (`slots`: the scratch slots they take,
 * distinct from 'matmul-a' and 'matmul-b' and from each other) a producer writes.
 */
export function textureProduct(
  M: number,
  N: number,
  K: number,
  nb: number,
  slots: { a?: string; b?: string },
  transB = false,
): TextureProduct {
  const g = geometry(M, N, K, transB, slots.b !== undefined);
  const scratch = getEngine().scratch;
  const a = slots.a ? { texture: scratch.get(slots.a, g.kp / 4, nb * g.mp), rows: g.mp } : null;
  const b = slots.b ? { texture: scratch.get(slots.b, g.np / 4, nb * g.kp), rows: g.kp } : null;
  const view = (t: Staged | null) => (t ? { view: t.texture.view, rows: t.rows } : null);
  return { M, N, K, nb, a: view(a), b: view(b), geometry: g, staged: { a, b } };
}

/** Run a TextureProduct into `out` [nb, M, N], staging (or reading in place) the operands not written. */
export function runTextureProduct(
  p: TextureProduct,
  out: Tensor,
  operands: { a?: ProductOperand; b?: ProductOperand },
): void {
  const { M, N, K, nb, geometry: g } = p;
  const given = (o: ProductOperand | undefined, which: string): ProductOperand => {
    if (!o) throw new TensorError(`runTextureProduct: operand ${which} is neither written nor given`);
    return o;
  };
  let A = p.staged.a;
  if (!A) {
    const a = given(operands.a, 'A');
    A = {
      texture: stageA(g, a.src, a.stride, M, K, a.stride === 0 ? 1 : nb, a.trans),
      rows: a.stride === 0 ? 0 : g.mp,
    };
  }
  let B: Staged | { buffer: Tensor; stride: number } | null = p.staged.b;
  if (!B) {
    const b = given(operands.b, 'B');
    B = g.tiles.bBuffer
      ? { buffer: b.src, stride: b.stride }
      : {
          texture: stageB(g, b.src, b.stride, K, N, b.stride === 0 ? 1 : nb, b.trans, null),
          rows: b.stride === 0 ? 0 : g.kp,
        };
  }
  runProduct(g, M, N, nb, A, B, out);
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
  const g = geometry(M, N, K, transB, bAffine !== null || half);
  const A = { texture: stageA(g, a, sa, M, K, sa === 0 ? 1 : nb, transA), rows: sa === 0 ? 0 : g.mp };
  if (g.tiles.bBuffer) {
    runProduct(g, M, N, nb, A, { buffer: b, stride: sb }, out);
    return;
  }
  const B = { texture: stageB(g, b, sb, K, N, sb === 0 ? 1 : nb, transB, bAffine), rows: sb === 0 ? 0 : g.kp };
  runProduct(g, M, N, nb, A, B, out);
}

/**
 * C = Σ_b op(A[b]) · op(B[b]) through textures, `out` [M, N]: both operands staged entry by entry,
 * the kernel's K loop run once per entry into the same accumulators (sumEntries), so no per-entry
 * products are written or reduced. B is always staged, through `bAffine` where given. Fits where
 * textureMatmulFits(M, N, K, nb, nb, transB, true).
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
  const g = geometry(M, N, K, transB, true);
  const A = { texture: stageA(g, a, M * K, M, K, nb, transA), rows: g.mp };
  const B = { texture: stageB(g, b, K * N, K, N, nb, transB, bAffine), rows: g.kp };
  runProduct(g, M, N, 1, A, B, out, nb);
}

/**
 * Both gradients of out[e] = W · map(X[e]) (W [M, K] shared by the batch of X [nb, K, N]; map: the
 * BAffine, or none) from G = dOut [nb, M, N]: dx[e] = Wᵀ · G[e] (the gradient at map(X)) and
 * dw = Σ_e G[e] · map(X[e])ᵀ, G staged once: its texture is the data gradient's B (rows k of an
 * entry: G's rows) and the weight gradient's A (rows r: G's rows again, texels along its columns).
 * That needs both products to pad G's rows alike (sharedWeightGradsFit); the caller checks.
 */
export function textureSharedWeightGrads(
  w: Tensor,
  x: Tensor,
  gy: Tensor,
  dx: Tensor,
  dw: Tensor,
  M: number,
  K: number,
  N: number,
  nb: number,
  bAffine: BAffine | null,
): void {
  const { data, weight, rows, texels } = sharedGeometry(M, K, N);
  const gt = getEngine().scratch.get('matmul-a', texels, nb * rows);
  stage({ src: gy, dst: gt, R: M, C: N, stride: M * N, trans: false, texels, rowsPerEntry: rows, entries: nb });
  const G = { texture: gt, rows };
  // The weight gradient first: then map(X)ᵀ's slot takes Wᵀ (the queue orders the two).
  const xt = stageB(weight, x, K * N, N, K, nb, true, bAffine);
  runProduct(weight, M, K, 1, G, { texture: xt, rows: weight.kp }, dw, nb);
  const wt = stageA(data, w, 0, K, M, 1, true, 'matmul-b');
  runProduct(data, K, N, nb, { texture: wt, rows: 0 }, G, dx);
}

/** The two products of textureSharedWeightGrads and G's staged rows per entry and texels per row. */
function sharedGeometry(
  M: number,
  K: number,
  N: number,
): { data: Geometry; weight: Geometry; rows: number; texels: number } {
  const data = geometry(K, N, M, false, true);
  const weight = geometry(M, K, N, true, true);
  return { data, weight, rows: data.kp, texels: Math.max(data.np, weight.kp) / 4 };
}

/**
 * Whether textureSharedWeightGrads can share G between two products that each take the texture
 * route (the caller checks that): both pad G's rows alike (M rounded up to 4 for the data
 * gradient's K, to the block's rows for the weight gradient's M) and G's texture fits.
 */
export function sharedWeightGradsFit(M: number, K: number, N: number, nb: number): boolean {
  const { weight, rows, texels } = sharedGeometry(M, K, N);
  const max = getEngine().info.limits.maxTextureDimension2D;
  return weight.mp === rows && texels <= max && nb * rows <= max;
}
