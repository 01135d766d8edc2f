// Which conv GEMMs run on subgroup matrices (conv2d-subgroup-matrix-kernel.ts), in what tiles,
// with how much split-K, and running them: f16 operands (conv2dAutocast's, or an f32 input read
// through a BN-ReLU: the fused ops under autocast) on the gpu family where ready() switched them
// on (conv2d-subgroup-matrix-check.ts: where the device offers what f16 products on them need,
// has subgroups of one size, and check convolutions agree with the tiled kernels). Tests switch on the
// emulated kernel instead (setConvSubgroupMatrixEmulation), which runs anywhere.
import {
  empty,
  getEngine,
  runKernel,
  subgroupMatrixBlock,
  sum,
  type SubgroupMatrixConfiguration,
  type SubgroupMatrixShape,
  type Tensor,
  type Uniforms,
} from '@spine/tensor';
import { chooseSubgroupMatrixConfig, splitK } from '@spine/tensor/tuning';
import { convSubgroupMatrixKernel, type ConvSubgroupMatrixTiles } from './conv2d-subgroup-matrix-kernel.js';

let emulation: SubgroupMatrixConfiguration | null = null;

/** Whether the device's own subgroup matrices run conv GEMMs, and why (decided at ready()). */
let route = {
  enabled: false,
  detail: 'off: not checked (ready() checks it where @spine/nn is loaded before it)',
};
/** The check's reference run: every conv GEMM on the tiled kernels, emulation included. */
let suspended = false;

/** Route autocast convolutions to the device's subgroup matrices (or not); `detail` says why. */
export function setConvSubgroupMatrices(enabled: boolean, detail: string): void {
  route = { enabled, detail };
}

/** Whether autocast convolutions run on the device's subgroup matrices (tensor cores), and why. */
export function convSubgroupMatrixStatus(): { enabled: boolean; detail: string } {
  return { ...route };
}

/** Keep every conv GEMM off subgroup matrices while `suspend` holds (the check's reference). */
export function suspendConvSubgroupMatrices(suspend: boolean): void {
  suspended = suspend;
}

/**
 * Route f16 conv GEMMs of the gpu family to the emulated subgroup-matrix kernel in this
 * configuration (tests, on adapters without subgroup matrices); null: back to the device's own.
 */
export function setConvSubgroupMatrixEmulation(c: SubgroupMatrixConfiguration | null): void {
  emulation = c;
}

let pinned: SubgroupMatrixShape | null = null;

/** Pin the block shape of every subgroup-matrix conv GEMM (the tile probe; null: automatic). */
export function setConvSubgroupMatrixShape(s: SubgroupMatrixShape | null): void {
  pinned = s;
}

/** Split the reduction while a GEMM has fewer output workgroups than this (two per SM on an H100). */
const SPLIT_BELOW = 264;

/**
 * The tiles for a conv GEMM with `cols` output columns on subgroup matrices, or null where they
 * do not run it. 2x2 subgroups of 32 rows each (64 a workgroup), 32 or 64 columns (32 where the
 * GEMM has at most 32: DenseNet's growth-rate convolutions), a k tile of 32: a first guess, not
 * measured on a GPU (packages/nn/bench/subgroup-matrix-conv-check.mjs --tiles times others).
 */
export function convSubgroupMatrixTiles(cols: number): ConvSubgroupMatrixTiles | null {
  const engine = getEngine();
  if (engine.info.kernels !== 'gpu' || suspended) return null;
  let c: SubgroupMatrixConfiguration;
  if (emulation) c = emulation;
  else {
    if (!route.enabled) return null;
    const config = chooseSubgroupMatrixConfig(engine.info.subgroupMatrixConfigs, 'f16');
    const sg = engine.info.subgroupMinSize;
    if (!config || sg === 0 || sg !== engine.info.subgroupMaxSize) return null;
    c = { m: config.M, n: config.N, k: config.K, subgroupSize: sg };
  }
  if ((c.m * c.n) % c.subgroupSize !== 0) return null;
  const shape: SubgroupMatrixShape = pinned ?? {
    tm: Math.max(1, Math.round(32 / c.m)),
    tn: Math.max(1, Math.round((cols <= 32 ? 32 : 64) / (2 * c.n))),
    sgRows: 2,
    sgCols: 2,
    ks: Math.max(1, Math.round(32 / c.k)),
  };
  const t: ConvSubgroupMatrixTiles = { ...c, ...shape, emulate: emulation !== null };
  const { BM, BN, bk } = subgroupMatrixBlock(t);
  // The tiles (f16), four tables of the step's reduction indices, the subgroups' scratch (f32).
  const bytes = 2 * (BM * bk + bk * BN) + 16 * bk + 4 * t.sgRows * t.sgCols * c.m * c.n;
  const limits = engine.info.limits;
  if (bytes > limits.maxComputeWorkgroupStorageSize) return null;
  const threads = t.sgRows * t.sgCols * c.subgroupSize;
  // The kernel stages one reduction index of B per thread and step.
  if (threads > limits.maxComputeInvocationsPerWorkgroup || threads % bk !== 0) return null;
  return t;
}

/**
 * Workgroups and reduction split of a GEMM of rows x cols over `red` in tiles `t`: row blocks
 * past 65,535 fold over workgroup z (`fold` of them per split) where `foldRows` (the forward's
 * kernel reads the fold); null where the grid does not fit.
 */
export function subgroupMatrixPlan(
  rows: number,
  cols: number,
  red: number,
  t: ConvSubgroupMatrixTiles,
  foldRows = false,
): { workgroups: [number, number, number]; splits: number; chunk: number; fold: number } | null {
  const { BM, BN, bk } = subgroupMatrixBlock(t);
  const blocks = Math.ceil(rows / BM);
  const gx = Math.ceil(cols / BN);
  const gy = Math.min(blocks, 65535);
  const fold = Math.ceil(blocks / gy);
  if (gx > 65535 || (fold > 1 && !foldRows)) return null;
  const { splits, chunk } = splitK(red, 1, gx * blocks, SPLIT_BELOW, bk);
  if (fold * splits > 65535) return null;
  return { workgroups: [gx, gy, fold * splits], splits, chunk, fold };
}

export interface SubgroupMatrixGemm {
  mode: 'forward' | 'wgrad';
  tiles: ConvSubgroupMatrixTiles;
  plan: NonNullable<ReturnType<typeof subgroupMatrixPlan>>;
  /** The gathered operand: f16, or f32 read through the BN-ReLU of `stats`. */
  x: Tensor;
  /** The f16 weights (forward; `flip`: the data gradient's) or incoming gradient (wgrad). */
  b: Tensor;
  stats: Tensor | null;
  bias: Tensor | null;
  flip: boolean;
  /** The kernel's uniform words for a reduction chunk (conv2d.ts builds them as for the tiled kernel). */
  uniforms: (chunk: number) => Uniforms;
  /** The result, written in place where the reduction is not split. */
  out: Tensor;
}

/** One conv GEMM on subgroup matrices: `out`, or (split) the sum of the partial products (`out` disposed). */
export function runSubgroupMatrixGemm(g: SubgroupMatrixGemm): Tensor {
  const split = g.plan.splits > 1;
  const target = split ? empty([g.plan.splits, ...g.out.shape]) : g.out;
  runKernel(
    convSubgroupMatrixKernel,
    {
      mode: g.mode,
      ...g.tiles,
      bias: g.bias !== null,
      split,
      ...(g.flip ? { flip: true } : {}),
      ...(g.x.dtype === 'f32' ? { floatX: true } : {}),
      ...(g.stats ? { bnRelu: true } : {}),
    },
    {
      inputs: [g.x, g.b, ...(g.stats ? [g.stats] : []), ...(g.bias ? [g.bias] : [])],
      outputs: [target],
      uniforms: g.uniforms(g.plan.chunk),
      workgroups: g.plan.workgroups,
    },
  );
  if (!split) return g.out;
  g.out.dispose();
  const out = sum(target, 0);
  target.dispose();
  return out;
}
