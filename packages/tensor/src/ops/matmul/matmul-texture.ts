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
// rgba32float scratch textures (one pass over each operand, which also folds in the transposes
// and pads both to whole blocks), then one kernel reads them:
//   A texture: texel (k4, b·Mp + r) = op(A)[b][r][4·k4 .. 4·k4 + 3]   (Mp = M rounded up to tm)
//   B texture: texel (c4, b·Kp + k) = op(B)[b][k][4·c4 .. 4·c4 + 3]   (Kp = K rounded up to 4)
// Padding along K is zero; the rest of the padding only reaches outputs that are not stored (see
// `stage`), so the inner loop needs neither clamps nor guards; only C's stores are.
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

let copies = true;

/**
 * Probes only (bench/texture-staging-probe.mjs): false stages every operand with the kernel (and
 * reads B in place below STAGE_B_MIN_ROWS rows).
 */
export function setTextureCopies(on: boolean): void {
  copies = on;
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

export interface StageOptions {
  /**
   * The source holds the logical [R, C] matrix transposed (as [C, R] row-major). The lanes then
   * run along r, the source's contiguous axis, so a workgroup touches 4 cache lines, not 32.
   */
  trans: boolean;
  /**
   * Not transposed, C and the batch stride multiples of 4: one vec4 load per texel (one pass of
   * llvmpipe's per-lane load loop instead of four), about 2x faster. Transposed, R and the
   * stride multiples of 4: a lane stages 4 rows from 4 vec4 loads along r (a 4x4 transpose in
   * registers) instead of 16 scalar loads.
   */
  vec4: boolean;
  /**
   * Invocations per workgroup, along r (trans) or along the texels. 64: llvmpipe runs a
   * workgroup's SIMD passes in one call, so fewer, larger workgroups save its per-workgroup
   * cost; 1.4-2.3x faster than 8 on DenseNet's larger operands (measured with the kernel profiler).
   */
  lanes: number;
  /**
   * Not transposed: rows per workgroup (a power of two dividing lanes), so that a matrix of few
   * texels per row (Winograd's 32-column transformed weights: 8) does not leave most of a
   * workgroup's lanes past the row's end.
   */
  rows?: number;
  /** Stage v · scale + shift per stored row of the source, then ReLU if uniform word 5 says so (BAffine). */
  affine?: boolean;
  /** The source holds f16 (needs 'shader-f16'): loads widen to f32, the texture is f32 as ever. */
  half?: boolean;
}

/**
 * A per-row affine map, optionally followed by ReLU, applied to B as it is staged: row i of b as
 * stored (its second-to-last dim, whether or not the product reads it transposed) becomes
 * b · scale[i] + shift[i], then max(·, 0) with relu. coef is f32 [rows, 4] with each row's scale in
 * column 2 and shift in column 3; columns 0 and 1 are not read, so a caller that keeps two more
 * per-row values beside them (a normalisation's mean and inverse deviation) passes its buffer as it
 * is. A per-channel normalisation and activation in front of a 1x1 convolution then costs no pass
 * of its own, and its output is never stored.
 */
export interface BAffine {
  coef: Tensor;
  relu: boolean;
}

let stageLanes = 64;

/** Probes only: invocations per workgroup of the stage kernel (default 64). */
export function setStageLanes(n: number): void {
  stageLanes = n;
}

// Uniform words: R, C, source stride per batch entry, texels per row, rows per entry (padded),
// relu (with affine).
export const matmulStageKernel = defineKernel<StageOptions>({
  name: 'matmul-stage',
  inputs: (o) => (o.affine ? 2 : 1),
  outputs: 0,
  textures: ['storage'],
  source: (o) => (o.trans && o.vec4 ? stageTransVec4(o) : stagePlain(o)),
});

function stageHeader(o: StageOptions, workgroup: string): string {
  const affine = `@group(0) @binding(2) var<storage, read> coef: array<vec4<f32>>;
fn affine(v: vec4<f32>, k: vec4<f32>) -> vec4<f32> { let y = v * vec4<f32>(k.z) + vec4<f32>(k.w); return select(y, max(y, vec4<f32>(0.0)), pu(5u) != 0u); }
fn affine4(v: vec4<f32>, s: vec4<f32>, t: vec4<f32>) -> vec4<f32> { let y = v * s + t; return select(y, max(y, vec4<f32>(0.0)), pu(5u) != 0u); }`;
  const element = o.vec4 ? 'vec4<f32>' : 'f32';
  return `${o.half ? 'enable f16;\n' : ''}${uniformPreamble()}
@group(0) @binding(1) var<storage, read> S: array<${o.half ? element.replace('f32', 'f16') : element}>;
fn load(i: u32) -> ${element} { return ${element}(S[i]); }
${o.affine ? affine : ''}
@group(0) @binding(${o.affine ? 3 : 2}) var T: texture_storage_2d<rgba32float, write>;
@compute @workgroup_size(${workgroup})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let R = pu(0u); let C = pu(1u);
  let src = gid.z * pu(2u);`;
}

/** One texel per lane: (x, r) from 4 loads (or one vec4 load), zero past the matrix. */
function stagePlain(o: StageOptions): string {
  const at = (c: string) => (o.trans ? `${c} * R + r` : `r * C + ${c}`);
  const load = o.vec4
    ? '    if (4u * x < C) { v = load((src + r * C) / 4u + x); }'
    : `    let c0 = 4u * x;
    if (c0 < C) { v.x = load(src + ${at('c0')}); }
    if (c0 + 1u < C) { v.y = load(src + ${at('(c0 + 1u)')}); }
    if (c0 + 2u < C) { v.z = load(src + ${at('(c0 + 2u)')}); }
    if (c0 + 3u < C) { v.w = load(src + ${at('(c0 + 3u)')}); }`;
  // Stored rows: r (not transposed) or the texel's four columns (transposed).
  const q = [0, 1, 2, 3];
  const k = (j: number) => `coef[min(4u * x + ${j}u, C - 1u)]`;
  const map = o.trans
    ? `affine4(v, vec4<f32>(${q.map((j) => `${k(j)}.z`).join(', ')}), vec4<f32>(${q.map((j) => `${k(j)}.w`).join(', ')}))`
    : 'affine(v, coef[r])';
  const affine = o.affine ? `\n    v = ${map};` : '';
  return `${stageHeader(o, o.trans ? `1, ${o.lanes}` : `${o.lanes / (o.rows ?? 1)}, ${o.rows ?? 1}`)}
  let x = gid.x; let r = gid.y;
  if (x >= pu(3u) || r >= pu(4u)) { return; }
  var v = vec4<f32>(0.0);
  if (r < R) {
${load}${affine}
  }
  textureStore(T, vec2<u32>(x, gid.z * pu(4u) + r), v);
}
`;
}

/** The transposed stage with vec4 loads: a lane writes texels (x, r0 .. r0 + 3). */
function stageTransVec4(o: StageOptions): string {
  const q = [0, 1, 2, 3];
  // Each vec4 holds 4 rows r0.. of one stored row (channel) 4x + j: one affine map for all 4.
  const affine = (j: number) => (o.affine ? ` v${j} = affine(v${j}, coef[4u * x + ${j}u]);` : '');
  return `${stageHeader(o, `1, ${o.lanes}`)}
  let x = gid.x; let r0 = 4u * gid.y;
  if (x >= pu(3u) || r0 >= pu(4u)) { return; }
${q.map((j) => `  var v${j} = vec4<f32>(0.0);`).join('\n')}
  if (r0 < R) {
${q.map((j) => `    if (4u * x + ${j}u < C) { v${j} = load((src + (4u * x + ${j}u) * R + r0) / 4u);${affine(j)} }`).join('\n')}
  }
  let row = gid.z * pu(4u) + r0;
${q.map((i) => `  textureStore(T, vec2<u32>(x, row + ${i}u), vec4<f32>(v0[${i}], v1[${i}], v2[${i}], v3[${i}]));`).join('\n')}
}
`;
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
  const copied = copies && !transB && N % 64 === 0 && K % 4 === 0 && M >= 16;
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
  stage(a, at, M, K, sa, transA, kp / 4, mp, ea);
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
  stage(b, bt, K, N, sb, transB, np / 4, kp, eb, bAffine);
  runKernel(matmulTextureKernel, tiles, {
    inputs: [],
    outputs: [out],
    textures: [at.view, bt.view],
    uniforms: new Uniforms().u32(M, N, kp / 4, sa === 0 ? 0 : mp, sb === 0 ? 0 : kp, M * N),
    workgroups: wg,
  });
}

/**
 * Write the logical [R, C] matrices of `src` (stride per entry) into `dst`, zero-padded. Rows of
 * whole 256-byte multiples (C % 64 == 0, not transposed) are copied instead, about 2-3x faster
 * than the stage kernel on lavapipe; the copy leaves the padding (rows past R, texels past C/4)
 * as earlier products left it, which only ever reaches outputs that are not stored: rows past R
 * are rows of C past M (A) and texels past C/4 are columns of C past N (B), while the padding
 * along K, which does reach stored outputs, does not exist when C (= K for A) is a multiple of 4.
 */
function stage(
  src: Tensor,
  dst: ScratchTexture,
  R: number,
  C: number,
  stride: number,
  trans: boolean,
  texels: number,
  rowsPerEntry: number,
  entries: number,
  affine: BAffine | null = null,
): void {
  const half = src.dtype === 'f16';
  // Texture copies move bytes: f16 values must go through the stage kernel to become f32.
  if (!affine && !half && copies && !trans && C % 64 === 0 && stride % 4 === 0 && R % 4 === 0) {
    const engine = getEngine();
    if (rowsPerEntry === R && (entries === 1 || stride === R * C))
      engine.copyToTexture(src.buffer, 0, C * 4, dst.texture, 0, C / 4, entries * R);
    else
      for (let e = 0; e < entries; e++)
        engine.copyToTexture(src.buffer, e * stride * 4, C * 4, dst.texture, e * rowsPerEntry, C / 4, R);
    return;
  }
  // rowsPerEntry (the padded M or K) is always a multiple of 4, so a lane's 4 rows stay in one entry.
  const vec4 = (trans ? R % 4 === 0 && rowsPerEntry % 4 === 0 : C % 4 === 0) && stride % 4 === 0;
  const lanes = stageLanes;
  // Narrow rows: a workgroup spans several rows, each at least as wide as the texels of a row.
  const rows = trans ? 1 : Math.max(1, lanes / Math.max(4, 2 ** Math.ceil(Math.log2(texels))));
  const opts: StageOptions = {
    trans,
    vec4,
    lanes,
    ...(rows > 1 ? { rows } : {}),
    ...(affine ? { affine: true } : {}),
    ...(half ? { half } : {}),
  };
  const workgroups: [number, number, number] = trans
    ? [texels, Math.ceil(rowsPerEntry / (vec4 ? 4 * lanes : lanes)), entries]
    : [Math.ceil(texels / (lanes / rows)), Math.ceil(rowsPerEntry / rows), entries];
  const uniforms = new Uniforms().u32(R, C, stride, texels, rowsPerEntry, affine?.relu ? 1 : 0);
  runKernel(matmulStageKernel, opts, {
    inputs: affine ? [src, affine.coef] : [src],
    outputs: [],
    textures: [dst.view],
    uniforms,
    workgroups,
  });
}
