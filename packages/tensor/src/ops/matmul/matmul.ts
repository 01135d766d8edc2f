// Batched matmul with optional transposed operands, PyTorch's broadcasting of batch dims.
import { defineOp, type OpContext } from '../../autograd.js';
import { getEngine } from '../../device.js';
import { ShapeError, TensorError } from '../../errors.js';
import { runKernel, Uniforms } from '../../kernel.js';
import { broadcastShapes, formatShape, numel, sameShape, type Shape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { empty, full } from '../creation.js';
import { canVec4, matmulKernel, type MatmulOptions } from './matmul-kernel.js';
import { canPackB, matmulPackKernel, PACK_K_CHUNK } from './matmul-pack.js';
import type { BAffine } from './matmul-stage.js';
import {
  matmulTexturesMode,
  sharedWeightGradsFit,
  textureMatmul,
  textureMatmulFits,
  textureMatmulSumBatch,
  textureProduct,
  textureSharedWeightGrads,
  type TextureProduct,
} from './matmul-texture.js';
import { add, mul, relu } from '../elementwise.js';
import { reshape, slice } from '../shape-ops.js';
import { noGrad } from '../../autograd.js';
import { tieredTiles, type Tiles } from './matmul-tiers.js';
import { gpuMatmulPlan, type GpuMatmulPlan } from './matmul-gpu-tiles.js';
import { sum, sumTo } from '../reduce.js';
import { toF16 } from '../half-cast.js';
import {
  chooseSubgroupMatrixConfig,
  matmulSubgroupMatrixKernel,
  subgroupMatrixGrid,
  vecLoads,
  type SubgroupMatrixOptions,
} from './matmul-subgroup-matrix.js';
import {
  subgroupMatrixBlock,
  type SubgroupMatrixConfiguration,
  type SubgroupMatrixShape,
} from './subgroup-matrix-tiles.js';
import { requireF16 } from '../../half.js';
import { expand } from '../shape-ops.js';

export interface MatmulFlags {
  transA?: boolean;
  transB?: boolean;
  /**
   * The result's dtype for f16 operands: 'f16' (the default, like torch.matmul on halves) or
   * 'f32'. Either way the products are summed in f32; 'f16' rounds the sums to nearest even.
   */
  out?: 'f32' | 'f16';
}

/**
 * Tile choices. GPUs: workgroup tiles from a size-class table (matmul-gpu-tiles.ts). Software adapters: one row of 8 invocations per
 * workgroup (the rows then come from workgroup_id and llvmpipe loads A once per workgroup
 * instead of once per lane) with a 16x8 register block; short matrices (a batch of a few rows)
 * take 4 rows so the block does not compute clamped duplicates. Wider blocks run faster on
 * lavapipe once compiled (B in place, 64x32 ran about twice 16x8's rate at 1024³) but LLVM
 * compiles them far too slowly on a cold shader cache: 16x8 3.5 s, 32x8 12 s, 32x16 30 s, 32x32
 * and 64x32 minutes (docs/PERFORMANCE.md, `bench/mm-compile-probe.mjs`), so products start on 16x8
 * and take the wide block only once a kernel warmer has compiled it elsewhere (matmul-tiers.ts).
 * Products with at least 32 rows read B from packed panels (matmul-pack.ts).
 * `setMatmulTiles` pins a choice (tests, tuning) and bypasses the tiers.
 *
 * On software adapters most products skip all of that: they stage their operands in textures and
 * run a 16x16 block that reads them with textureLoad, 2.8-3.2x the 16x8 block and 1.2-1.75x the
 * 32x32 one at 1024³, and quick to compile (matmul-texture.ts). The buffer kernels remain for
 * small products, operands larger than a texture, pinned tiles, and `setMatmulTextures(false)`.
 */
const pinned: { cpu: Tiles | null; gpu: Tiles | null } = { cpu: null, gpu: null };

function tilesFor(family: 'cpu' | 'gpu', M: number, N: number, K = 1024, nb = 1): Tiles {
  const p = pinned[family];
  if (p) return p;
  if (family === 'gpu') {
    const plan = gpuMatmulPlan(M, N, K, nb);
    return { ...plan.tiles, ...(plan.splits > 1 ? { splits: plan.splits } : {}) };
  }
  // 8 lanes x tn columns per workgroup: narrow outputs (N <= 32) take 4 columns per lane so
  // fewer lanes compute clamped duplicates.
  return { tm: M >= 32 ? 16 : 4, tn: N > 32 ? 8 : 4, wx: 8, wy: 1 };
}

/**
 * Products below this many flops (2·M·N·K over the batch) keep the buffer kernels: staging two
 * textures costs two extra dispatches, which only pays once there is work to save.
 */
export const TEXTURE_MIN_FLOPS = 1 << 20;

/** Which kernel a cpu-family product of this shape takes (tests, probes). */
export function matmulRoute(
  M: number,
  N: number,
  K: number,
  nb = 1,
  transA = false,
  transB = false,
  entries: [number, number] = [nb, nb],
): 'texture' | 'packed' | 'vec4' | 'scalar' {
  if (usesTextures(M, N, K, nb, entries[0], entries[1], transB)) return 'texture';
  const t = tilesFor('cpu', M, N);
  if ((t.packB ?? true) && canPackB(M, K, transA, t.tm, t.tn, t.wy)) return 'packed';
  return canVec4(M, N, K, transA, transB, t.tm, t.tn) ? 'vec4' : 'scalar';
}

function usesTextures(
  M: number,
  N: number,
  K: number,
  nb: number,
  entriesA: number,
  entriesB: number,
  transB: boolean,
  stageB = false,
): boolean {
  const mode = matmulTexturesMode();
  if (mode === false || pinned.cpu) return false;
  if (mode === 'auto' && 2 * M * N * K * nb < TEXTURE_MIN_FLOPS) return false;
  return textureMatmulFits(M, N, K, entriesA, entriesB, transB, stageB);
}

/**
 * Whether matmulRaw with a BAffine applies it as it reads B (cpu family: the texture route's
 * staging; gpu family: the tiled kernel's B tiles) rather than through separate elementwise
 * passes: callers fusing an op into B check this first.
 */
export function stagesBAffine(
  M: number,
  N: number,
  K: number,
  nb = 1,
  transB = false,
  entries: [number, number] = [nb, nb],
): boolean {
  // The gpu family's tiled kernel maps B as it reads its tiles, whatever the shape.
  const family = getEngine().info.kernels;
  return family === 'gpu' || usesTextures(M, N, K, nb, entries[0], entries[1], transB, true);
}

function checkBAffine(b: Tensor, { coef: c }: BAffine): void {
  const rows = b.shape.at(-2)!;
  if (c.dtype !== 'f32' || c.rank !== 2 || c.shape[0]! < rows || c.shape[1] !== 4)
    throw new ShapeError(
      `matmul: bAffine.coef must be f32 [${rows}, 4] for b ${formatShape(b.shape)}, got ${c.dtype} ${formatShape(c.shape)}`,
    );
}

/** b with its BAffine applied, by elementwise ops (the routes that cannot stage it). */
function applyBAffine(b: Tensor, { coef, relu: withRelu }: BAffine): Tensor {
  return noGrad(() => {
    const rows = b.shape.at(-2)!;
    const column = (c: number) =>
      reshape(
        slice(coef, [
          [0, rows],
          [c, c + 1],
        ]),
        [rows, 1],
      );
    const y = add(mul(b, column(2)), column(3));
    return withRelu ? relu(y) : y;
  });
}

/** Pin the tiles of one family (null: back to the automatic choice). */
export function setMatmulTiles(family: 'cpu' | 'gpu', t: Partial<Tiles> | null): void {
  pinned[family] = t ? { ...(pinned[family] ?? tilesFor(family, 1024, 1024)), ...t } : null;
}

export function getMatmulTiles(family: 'cpu' | 'gpu', M = 1024, N = 1024, K = 1024, nb = 1): Tiles {
  return { ...tilesFor(family, M, N, K, nb) };
}

/** The gpu family's tiles, size class and split-K for a product (tests, probes). */
export function matmulGpuPlan(M: number, N: number, K: number, nb = 1): GpuMatmulPlan {
  return gpuMatmulPlan(M, N, K, nb, pinned.gpu);
}

interface Plan {
  M: number;
  N: number;
  K: number;
  batch: number[];
}

function plan(a: Shape, b: Shape, transA: boolean, transB: boolean): Plan {
  if (a.length < 2 || b.length < 2)
    throw new ShapeError(`matmul: operands need rank >= 2, got ${formatShape(a)} and ${formatShape(b)}`);
  const [ar, ac] = a.slice(-2) as [number, number];
  const [br, bc] = b.slice(-2) as [number, number];
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [K2, N] = transB ? [bc, br] : [br, bc];
  if (K !== K2)
    throw new ShapeError(
      `matmul: inner dimensions differ: ${formatShape(a)}${transA ? 'ᵀ' : ''} · ${formatShape(b)}${transB ? 'ᵀ' : ''} (${K} vs ${K2})`,
    );
  const batch = broadcastShapes('matmul (batch dims)', a.slice(0, -2), b.slice(0, -2));
  return { M, N, K, batch };
}

/**
 * Record C = op(A) · op(B) into a new tensor (no autograd). With `bAffine`, B is first mapped
 * row by row (as stored) and ReLU'd: in the staging of the texture route where it applies
 * (stagesBAffine), by elementwise passes elsewhere.
 */
export function matmulRaw(
  a: Tensor,
  b: Tensor,
  transA = false,
  transB = false,
  bAffine: BAffine | null = null,
  outDtype: 'f32' | 'f16' = a.dtype === 'f16' ? 'f16' : 'f32',
): Tensor {
  const half = a.dtype === 'f16';
  if (a.dtype !== b.dtype || (a.dtype !== 'f32' && !half))
    throw new TensorError(`matmul: operands must be both f32 or both f16, got ${a.dtype} and ${b.dtype}`);
  if (half && bAffine) throw new TensorError('matmul: bAffine applies to f32 operands only');
  if (!half && outDtype === 'f16') throw new TensorError('matmul: an f16 result needs f16 operands');
  if (half) {
    // The kernels sum in f32 and write f32; the f16 result is that sum rounded to nearest even.
    const wide = halfMatmul(a, b, transA, transB);
    if (outDtype === 'f32') return wide;
    const narrow = toF16(wide);
    wide.dispose();
    return narrow;
  }
  if (bAffine) checkBAffine(b, bAffine);
  const { M, N, K, batch } = plan(a.shape, b.shape, transA, transB);
  const nb = numel(batch);
  if (bAffine) {
    const entries = (t: Tensor) => (numel(t.shape.slice(0, -2)) === 1 ? 1 : nb);
    if (!stagesBAffine(M, N, K, nb, transB, [entries(a), entries(b)])) {
      // Routes that cannot stage the map: apply it first, then the plain product.
      const mapped = applyBAffine(b, bAffine);
      const result = matmulRaw(a, mapped, transA, transB);
      mapped.dispose();
      return result;
    }
  }
  const out = empty([...batch, M, N]);
  if (M * N * nb === 0) return out;
  if (K === 0) {
    const z = full(out.shape, 0);
    out.dispose();
    return z;
  }
  const [ta, sa, freeA] = batchOperand(a, batch);
  const [tb, sb, freeB] = batchOperand(b, batch);
  const family = getEngine().info.kernels;
  if (nb > 65535) throw new TensorError(`matmul: ${nb} batch entries exceed the 65,535 dispatch limit`);
  if (family === 'cpu' && usesTextures(M, N, K, nb, sa === 0 ? 1 : nb, sb === 0 ? 1 : nb, transB, bAffine !== null)) {
    textureMatmul(ta, sa, tb, sb, out, M, N, K, nb, transA, transB, bAffine);
    if (freeA) ta.dispose();
    if (freeB) tb.dispose();
    return out;
  }
  if (family === 'gpu') {
    const result = gpuMatmul(ta, sa, tb, sb, out, M, N, K, nb, transA, transB, false, bAffine);
    if (freeA) ta.dispose();
    if (freeB) tb.dispose();
    return result;
  }
  const { packB: allowPack = true, ...t } =
    (!pinned.cpu ? tieredTiles(M, N, K, nb, transA, transB) : null) ?? tilesFor(family, M, N);
  if (allowPack && canPackB(M, K, transA, t.tm, t.tn, t.wy)) {
    const packed = packB(tb, sb, N, K, transB, t.wx * t.tn, nb);
    // transB is folded into the panels: one main kernel serves NN and NT (and TN and TT).
    const options: MatmulOptions = { family, transA, transB: false, vec4: true, packedB: true, ...t };
    const wg: [number, number, number] = [Math.ceil(M / t.tm), Math.ceil(N / (t.wx * t.tn)), nb];
    runKernel(matmulKernel, options, {
      inputs: [ta, packed.tensor],
      outputs: [out],
      uniforms: new Uniforms().u32(M, N, K, sa, packed.stride, M * N),
      workgroups: wg,
    });
    packed.tensor.dispose();
  } else {
    const vec4 = canVec4(M, N, K, transA, transB, t.tm, t.tn);
    const options: MatmulOptions = { family, transA, transB, vec4, ...t };
    const wg: [number, number, number] = [Math.ceil(N / (t.tn * t.wx)), Math.ceil(M / (t.tm * t.wy)), nb];
    runKernel(matmulKernel, options, {
      inputs: [ta, tb],
      outputs: [out],
      uniforms: new Uniforms().u32(M, N, K, sa, sb, M * N),
      workgroups: wg,
    });
  }
  if (freeA) ta.dispose();
  if (freeB) tb.dispose();
  return out;
}

/**
 * Σ_b op(A[b]) · op(B[b]) for a [nb, ., .] and b [nb, ., .] into a new [M, N] tensor (no
 * autograd): the weight gradient of a layer applied per image, summed over the batch. On the
 * texture route and on the gpu family the kernel runs its K loop once per entry into the same
 * accumulators, one product with no per-image results to keep or reduce; elsewhere matmulRaw's
 * per-entry products and their sum. `bAffine` as matmulRaw's.
 */
export function matmulSumBatch(
  a: Tensor,
  b: Tensor,
  transA = false,
  transB = false,
  bAffine: BAffine | null = null,
): Tensor {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.dtype !== 'f32' || b.dtype !== 'f32')
    throw new ShapeError(
      `matmulSumBatch: needs f32 operands [nb, ., .] with the same nb, got ${a.dtype} ${formatShape(a.shape)} and ${b.dtype} ${formatShape(b.shape)}`,
    );
  const { M, N, K } = plan(a.shape, b.shape, transA, transB);
  const nb = a.shape[0]!;
  const family = getEngine().info.kernels;
  if (family === 'gpu' && M * N * K * nb > 0) {
    // The tiled kernel runs its K loop once per entry into the same accumulators.
    if (bAffine) checkBAffine(b, bAffine);
    const out = empty([M, N]);
    const { tiles: t } = gpuMatmulPlan(M, N, nb * K, 1, pinned.gpu);
    const options: MatmulOptions = {
      ...gpuKernelOptions(t, M, N, K, transA, transB),
      sumBatch: true,
      ...(bAffine ? { bAffine: true } : {}),
    };
    runKernel(matmulKernel, options, {
      inputs: bAffine ? [a, b, bAffine.coef] : [a, b],
      outputs: [out],
      uniforms: new Uniforms().u32(M, N, K, M * K, K * N, 0, nb, 0, bAffine?.relu ? 1 : 0),
      workgroups: [Math.ceil(N / (t.tn * t.wx)), Math.ceil(M / (t.tm * t.wy)), 1],
    });
    return out;
  }
  const texture = family === 'cpu' && M * N * K * nb > 0 && usesTextures(M, N, K, nb, nb, nb, transB, true);
  if (!texture) {
    const perEntry = matmulRaw(a, b, transA, transB, bAffine);
    const summed = sum(perEntry, 0);
    perEntry.dispose();
    return summed;
  }
  if (bAffine) checkBAffine(b, bAffine);
  const out = empty([M, N]);
  textureMatmulSumBatch(a, b, out, M, N, K, nb, transA, transB, bAffine);
  return out;
}

/**
 * A product C[e] = op(A[e]) · op(B[e]) of nb entries whose A and/or B the caller's kernel writes
 * straight into the texture route's operand textures (TextureProduct: layouts, slots), then
 * runTextureProduct: no stage pass, no copy. Null where this product does not take the texture
 * route; the caller then writes buffers and calls matmulRaw.
 */
export function prepareTextureProduct(
  M: number,
  N: number,
  K: number,
  nb: number,
  slots: { a?: string; b?: string },
  transB = false,
): TextureProduct | null {
  if (getEngine().info.kernels !== 'cpu' || M * N * K * nb === 0) return null;
  if (!usesTextures(M, N, K, nb, nb, nb, transB, slots.b !== undefined)) return null;
  return textureProduct(M, N, K, nb, slots, transB);
}

/**
 * Both gradients of matmulRaw(w, x, false, false, bAffine) for a weight w [M, K] shared by the
 * batch of x [nb, K, N], from gy [nb, M, N] (no autograd): dx [nb, K, N] = wᵀ · gy[e] (the gradient
 * at the mapped x) and, with `needW`, dw [M, K] = Σ_e gy[e] · map(x[e])ᵀ. On the texture route gy
 * is staged once for both products (textureSharedWeightGrads); elsewhere matmulRaw and
 * matmulSumBatch in turn.
 */
export function matmulSharedWeightGrads(
  w: Tensor,
  x: Tensor,
  gy: Tensor,
  bAffine: BAffine | null,
  needW = true,
): { dx: Tensor; dw: Tensor | null } {
  const [nb, K, N] = x.shape as [number, number, number];
  const M = w.shape[0]!;
  if (w.rank !== 2 || x.rank !== 3 || w.shape[1] !== K || !sameShape(gy.shape, [nb, M, N]))
    throw new ShapeError(
      `matmulSharedWeightGrads: needs w [M, K], x [nb, K, N] and gy [nb, M, N], got ${formatShape(w.shape)}, ${formatShape(x.shape)} and ${formatShape(gy.shape)}`,
    );
  const shared =
    needW &&
    getEngine().info.kernels === 'cpu' &&
    [w, x, gy].every((t) => t.dtype === 'f32') &&
    M * K * N * nb > 0 &&
    usesTextures(K, N, M, nb, 1, nb, false, true) &&
    usesTextures(M, K, N, nb, nb, nb, true, true) &&
    sharedWeightGradsFit(M, K, N, nb);
  if (!shared) {
    const dx = matmulRaw(w, gy, true, false);
    return { dx, dw: needW ? matmulSumBatch(gy, x, false, true, bAffine) : null };
  }
  if (bAffine) checkBAffine(x, bAffine);
  const dx = empty([nb, K, N]);
  const dw = empty([M, K]);
  textureSharedWeightGrads(w, x, gy, dx, dw, M, K, N, nb, bAffine);
  return { dx, dw };
}

/**
 * Subgroup-matrix products (matmul-subgroup-matrix.ts): decided when the device is acquired
 * (subgroup-matrix-check.ts: on where a check product agrees with the tiled f16 kernel).
 */
let subgroupMatrices = false;
let subgroupMatrixDetail = 'off: no device yet';

/**
 * Route f16 products of the gpu family to subgroup matrices where the device has them (or not),
 * overriding what ready() decided; `detail` says why (subgroupMatrixStatus).
 */
export function setSubgroupMatrices(
  on: boolean,
  detail = on ? 'on (setSubgroupMatrices)' : 'off (setSubgroupMatrices)',
): void {
  subgroupMatrices = on;
  subgroupMatrixDetail = detail;
}

/** Whether f16 products run on subgroup matrices (tensor cores), and why. */
export function subgroupMatrixStatus(): { enabled: boolean; detail: string } {
  return { enabled: subgroupMatrices, detail: subgroupMatrixDetail };
}

let matmulEmulation: SubgroupMatrixConfiguration | null = null;
let matmulShape: SubgroupMatrixShape | null = null;

/**
 * Route f16 products of the gpu family to the emulated subgroup-matrix kernel in this
 * configuration (tests, on adapters without subgroup matrices); null: back to the device's own.
 */
export function setMatmulSubgroupMatrixEmulation(c: SubgroupMatrixConfiguration | null): void {
  matmulEmulation = c;
}

/** Pin the block shape of every subgroup-matrix product (the GPU probe; null: automatic). */
export function setMatmulSubgroupMatrixShape(s: SubgroupMatrixShape | null): void {
  matmulShape = s;
}

/**
 * Products that fill fewer workgroups than this over a reduction of SKINNY_K or more keep the
 * tiled f16 kernel, which splits the reduction (10x4096x4096 would have 64 workgroups here).
 */
const FEW_WORKGROUPS = 128;
const SKINNY_K = 512;

/**
 * The subgroup-matrix kernel's options for a product, or null where it does not apply: switched
 * off, the cpu family, no 'chromium-experimental-subgroup-matrix' on the device, no f16
 * configuration with f32 results, subgroups of more than one size, a block the device cannot
 * hold, or a product with too few blocks for its reduction.
 */
export function matmulSubgroupMatrixRoute(
  M: number,
  N: number,
  K: number,
  transA = false,
  transB = false,
  nb = 1,
): SubgroupMatrixOptions | null {
  const engine = getEngine();
  if (engine.info.kernels !== 'gpu') return null;
  let c: SubgroupMatrixConfiguration;
  if (matmulEmulation) c = matmulEmulation;
  else {
    if (!subgroupMatrices) return null;
    if (!engine.device.features.has('chromium-experimental-subgroup-matrix' as GPUFeatureName)) return null;
    const config = chooseSubgroupMatrixConfig(engine.info.subgroupMatrixConfigs, 'f16');
    const sg = engine.info.subgroupMinSize;
    if (!config || sg === 0 || sg !== engine.info.subgroupMaxSize) return null;
    c = { m: config.M, n: config.N, k: config.K, subgroupSize: sg };
  }
  // 2x2 subgroups of about 32x32 results each, a k tile of about 32: a first guess, not
  // measured on a GPU (packages/tensor/bench/subgroup-matrix-check.mjs --tiles times others).
  const shape: SubgroupMatrixShape = matmulShape ?? {
    tm: Math.max(1, Math.round(32 / c.m)),
    tn: Math.max(1, Math.round(32 / c.n)),
    sgRows: 2,
    sgCols: 2,
    ks: Math.max(1, Math.round(32 / c.k)),
  };
  const o: SubgroupMatrixOptions = { ...c, ...shape, transA, transB, emulate: matmulEmulation !== null };
  if ((c.m * c.n) % c.subgroupSize !== 0) return null;
  const { BM, BN, bk } = subgroupMatrixBlock(o);
  // vec4 units need whole vectors along the tile too.
  if (BM % 4 === 0 && BN % 4 === 0 && bk % 4 === 0) Object.assign(o, vecLoads(M, N, K, transA, transB));
  const limits = engine.info.limits;
  const bytes = 2 * (BM * bk + bk * BN) + 4 * o.sgRows * o.sgCols * c.m * c.n;
  const threads = o.sgRows * o.sgCols * c.subgroupSize;
  if (bytes > limits.maxComputeWorkgroupStorageSize || threads > limits.maxComputeInvocationsPerWorkgroup) return null;
  const [gx, gy] = [Math.ceil(N / BN), Math.ceil(M / BM)];
  if (gx > 65535 || gy > 65535) return null;
  if (gx * gy * nb < FEW_WORKGROUPS && K >= SKINNY_K) return null;
  return o;
}

/**
 * A product of f16 operands into a new f32 tensor. The cpu family stages them into its f32
 * textures where products take that route (both operands staged), and otherwise reads them from
 * buffers (the B panels are f32) with vec4<f16> loads where aligned; the gpu family widens them
 * as it stages its tiles.
 */
function halfMatmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  requireF16('matmul');
  const { M, N, K, batch } = plan(a.shape, b.shape, transA, transB);
  const nb = numel(batch);
  let out = empty([...batch, M, N]);
  if (M * N * nb === 0) return out;
  if (K === 0) {
    const z = full(out.shape, 0);
    out.dispose();
    return z;
  }
  if (nb > 65535) throw new TensorError(`matmul: ${nb} batch entries exceed the 65,535 dispatch limit`);
  const [ta, sa, freeA] = batchOperand(a, batch);
  const [tb, sb, freeB] = batchOperand(b, batch);
  const family = getEngine().info.kernels;
  const sgm = matmulSubgroupMatrixRoute(M, N, K, transA, transB, nb);
  const entries = (s: number) => (s === 0 ? 1 : nb);
  if (!sgm && family === 'cpu' && usesTextures(M, N, K, nb, entries(sa), entries(sb), transB, true))
    // Staged into f32 textures by the stage kernel, which widens f16 as it reads.
    textureMatmul(ta, sa, tb, sb, out, M, N, K, nb, transA, transB);
  else if (sgm)
    runKernel(matmulSubgroupMatrixKernel, sgm, {
      inputs: [ta, tb],
      outputs: [out],
      uniforms: new Uniforms().u32(M, N, K, sa, sb, M * N),
      workgroups: subgroupMatrixGrid(M, N, nb, sgm),
    });
  // A split product comes back summed into a new tensor (`out` disposed).
  else if (family === 'gpu') out = gpuMatmul(ta, sa, tb, sb, out, M, N, K, nb, transA, transB, true);
  else {
    const t = tilesFor('cpu', M, N);
    const vec4 = canVec4(M, N, K, transA, transB, t.tm, t.tn);
    const options: MatmulOptions = { family, transA, transB, vec4, half: true, tm: t.tm, tn: t.tn, wx: t.wx, wy: t.wy };
    runKernel(matmulKernel, options, {
      inputs: [ta, tb],
      outputs: [out],
      uniforms: new Uniforms().u32(M, N, K, sa, sb, M * N),
      workgroups: [Math.ceil(N / (t.tn * t.wx)), Math.ceil(M / (t.tm * t.wy)), nb],
    });
  }
  if (freeA) ta.dispose();
  if (freeB) tb.dispose();
  return out;
}

/**
 * A batch operand either matches the output batch (stride = matrix size) or is shared (stride
 * 0); partial broadcasts are materialised (the third value: the caller disposes it).
 */
function batchOperand(t: Tensor, batch: readonly number[]): [Tensor, number, boolean] {
  const rows = t.shape.at(-2)!;
  const cols = t.shape.at(-1)!;
  const own = t.shape.slice(0, -2);
  if (numel(own) === 1) return [t, 0, false];
  const padded = [...new Array<number>(batch.length - own.length).fill(1), ...own];
  if (sameShape(padded, batch)) return [t, rows * cols, false];
  return [expand(t, [...batch, rows, cols]), rows * cols, true];
}

/**
 * The gpu family's product: tiles and split-K from the size table (matmul-gpu-tiles.ts); vec4
 * global reads of an operand whose contiguous axis is a multiple of 4 long, vec4 stores of C
 * where N is. Split products write [splits, batch, M, N] partials and sum them.
 */
function gpuMatmul(
  ta: Tensor,
  sa: number,
  tb: Tensor,
  sb: number,
  out: Tensor,
  M: number,
  N: number,
  K: number,
  nb: number,
  transA: boolean,
  transB: boolean,
  half = false,
  bAffine: BAffine | null = null,
): Tensor {
  const { tiles: t, splits, chunk } = gpuMatmulPlan(M, N, K, nb, pinned.gpu);
  const options: MatmulOptions = {
    ...gpuKernelOptions(t, M, N, K, transA, transB),
    split: splits > 1,
    ...(half ? { half } : {}),
    ...(bAffine ? { bAffine: true } : {}),
  };
  const wg: [number, number, number] = [Math.ceil(N / (t.tn * t.wx)), Math.ceil(M / (t.tm * t.wy)), nb * splits];
  const target = splits > 1 ? empty([splits, ...out.shape]) : out;
  runKernel(matmulKernel, options, {
    inputs: bAffine ? [ta, tb, bAffine.coef] : [ta, tb],
    outputs: [target],
    uniforms: new Uniforms().u32(M, N, K, sa, sb, M * N, splits, chunk, bAffine?.relu ? 1 : 0),
    workgroups: wg,
  });
  if (splits === 1) return out;
  out.dispose();
  const result = sum(target, 0);
  target.dispose();
  return result;
}

/** The gpu family's kernel options for a product in tiles t: vec4 reads and stores where aligned. */
function gpuKernelOptions(
  t: GpuMatmulPlan['tiles'],
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
): MatmulOptions {
  return {
    family: 'gpu',
    transA,
    transB,
    tm: t.tm,
    tn: t.tn,
    wx: t.wx,
    wy: t.wy,
    bk: t.bk,
    vec4: N % 4 === 0,
    vecA: (transA ? M : K) % 4 === 0,
    vecB: (transB ? K : N) % 4 === 0,
  };
}

/**
 * op(B) in k-major panels of `width` columns (matmul-pack.ts); `stride` is the packed size of
 * one batch entry, or 0 when B is shared by the whole batch (then it is packed once).
 */
function packB(
  b: Tensor,
  sb: number,
  N: number,
  K: number,
  transB: boolean,
  width: number,
  nb: number,
): { tensor: Tensor; stride: number } {
  const panels = Math.ceil(N / width);
  const entries = sb === 0 ? 1 : nb;
  const size = panels * K * width;
  const tensor = empty([entries * size]);
  const w4 = width / 4;
  const wg: [number, number, number] = [Math.ceil((panels * w4) / 8), Math.ceil(K / PACK_K_CHUNK), entries];
  runKernel(
    matmulPackKernel,
    { transB, w4 },
    { inputs: [b], outputs: [tensor], uniforms: new Uniforms().u32(N, K, sb, panels), workgroups: wg },
  );
  return { tensor, stride: sb === 0 ? 0 : size };
}

const matmulOp = defineOp({
  name: 'matmul',
  forward: (ctx: OpContext, a: Tensor, b: Tensor, transA: boolean, transB: boolean, out?: 'f32' | 'f16') => {
    ctx.save(a, b);
    ctx.transA = transA;
    ctx.transB = transB;
    return matmulRaw(a, b, transA, transB, null, out);
  },
  backward: (ctx, g) => {
    const [a, b] = ctx.saved as [Tensor, Tensor];
    const tA = ctx.transA as boolean;
    const tB = ctx.transB as boolean;
    const da = tA ? gradProduct(b, g, tB, true, a.shape) : gradProduct(g, b, false, !tB, a.shape);
    const db = tB ? gradProduct(g, a, true, tA, b.shape) : gradProduct(a, g, !tA, false, b.shape);
    return [da, db];
  },
});

/**
 * op(x) · op(y) as the gradient of an operand of `shape`. Where that operand is one matrix shared
 * by a batch (a weight applied to every image), its gradient sums the batch's products:
 * matmulSumBatch's one product instead of a product per entry and their sum.
 */
function gradProduct(x: Tensor, y: Tensor, tx: boolean, ty: boolean, shape: Shape): Tensor {
  const batch = x.shape.slice(0, -2);
  const nb = numel(batch);
  const shared =
    shape.length === 2 && nb > 1 && sameShape(batch, y.shape.slice(0, -2)) && x.dtype === 'f32' && y.dtype === 'f32';
  if (shared) {
    const flat = (t: Tensor) => reshape(t, [nb, ...t.shape.slice(-2)]);
    return matmulSumBatch(flat(x), flat(y), tx, ty);
  }
  const g = matmulRaw(x, y, tx, ty);
  if (sameShape(g.shape, shape)) return g;
  const out = sumTo(g, shape);
  g.dispose();
  return out;
}

/** op(a) · op(b) over the last two dims; leading dims broadcast like torch.matmul. */
export function matmul(a: Tensor, b: Tensor, flags: MatmulFlags = {}): Tensor {
  return matmulOp(a, b, flags.transA ?? false, flags.transB ?? false, flags.out);
}
