// conv2d (NCHW input, OIHW weights, optional bias), forward and backward, PyTorch's semantics.
// Convolutions run as implicit GEMM (conv2d-kernel.ts on software adapters; on real GPUs the
// workgroup-tiled forward, data and weight gradients of conv2d-gpu-kernel.ts, in the tensor
// matmul's tile table); on software adapters 3x3 stride-1 ones
// with 16+ channels run their forward and data gradient by Winograd F(2x2, 3x3) instead
// (conv2d-winograd.ts). 1x1 stride-1 unpadded ones are a plain batched matmul on the tensor
// engine instead, on real GPUs always and on software adapters where its texture-operand kernel
// applies (pointwiseOnMatmul): W[OC, IC] · X[n][IC, H*W] is already NCHW, so no layout copy is
// needed.
import {
  add,
  defineOp,
  getEngine,
  matmul,
  matmulRaw,
  matmulSumBatch,
  reshape,
  runKernel,
  scope,
  ShapeError,
  sum,
  empty,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';
import { gpuMatmulPlan, matmulRoute, type GpuMatmulPlan } from '@spine/tensor/tuning';
import { convTiledKernel } from './conv2d-gpu-kernel.js';
import type { ConvSubgroupMatrixTiles } from './conv2d-subgroup-matrix-kernel.js';
import { convSubgroupMatrixTiles, runSubgroupMatrixGemm, subgroupMatrixPlan } from './conv2d-subgroup-matrix.js';
import { convGemmKernel, type GemmTiles } from './conv2d-kernel.js';
import { convGemmPixelLanesKernel, PIXEL_LANES, type PixelLaneTiles } from './conv2d-pixel-kernel.js';
import { packWeights, pixelMajor, spread } from './conv2d-layout.js';
import { convWgradKernel } from './conv2d-wgrad-kernel.js';
import { convWgradKLanesKernel, type KLaneTiles } from './conv2d-wgrad-klane-kernel.js';
import { im2colApplies, im2colConv, im2colWgrad } from './conv2d-im2col.js';
import { winogradConv, winogradGrads, winogradTile, winogradWgrad } from './conv2d-winograd.js';

export type IntPair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
}

/** Everything the kernels need about one convolution. */
export interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  oc: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  oh: number;
  ow: number;
}

export function pairOf(v: IntPair | undefined, fallback: number, what: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min))
    throw new ShapeError(`${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

export function convGeometry(x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dOptions): ConvGeometry {
  if (x.rank !== 4) throw new ShapeError(`conv2d: input must be NCHW (rank 4), got shape [${x.shape.join(', ')}]`);
  if (w.rank !== 4) throw new ShapeError(`conv2d: weight must be [out, in, kH, kW], got shape [${w.shape.join(', ')}]`);
  if (x.dtype !== 'f32' || w.dtype !== 'f32' || (b && b.dtype !== 'f32'))
    throw new ShapeError('conv2d: input, weight and bias must be f32');
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [oc, ic, kh, kw] = w.shape as [number, number, number, number];
  if (ic !== c)
    throw new ShapeError(`conv2d: weight expects ${ic} input channels, input has ${c} (groups are not supported)`);
  if (b && (b.rank !== 1 || b.shape[0] !== oc))
    throw new ShapeError(`conv2d: bias must have shape [${oc}], got [${b.shape.join(', ')}]`);
  const [sh, sw] = pairOf(o.stride, 1, 'conv2d: stride', 1);
  const [ph, pw] = pairOf(o.padding, 0, 'conv2d: padding', 0);
  const [dh, dw] = pairOf(o.dilation, 1, 'conv2d: dilation', 1);
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (oh < 1 || ow < 1)
    throw new ShapeError(
      `conv2d: the ${kh}x${kw} kernel (dilation ${dh}x${dw}) does not fit the padded ${h + 2 * ph}x${wd + 2 * pw} input`,
    );
  return { n, c, h, w: wd, oc, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
}

/**
 * Register blocks. lavapipe: 8 pixels x 8 channels per invocation in 8x1 workgroups, 4
 * channels when there are at most 32 so that lanes do not compute clamped duplicates.
 * Measured against 16x8 (the tensor matmul's choice), 12x8, 16x4, 32x4, 4x8 and 4x4 on 3x3
 * and 1x1-like shapes: 8x8 was fastest or tied in every round-robin run (the conv's A loads
 * are scalar, not vec4, so a taller block buys less than in matmul and spills more).
 * GPUs: the workgroup-tiled kernels (conv2d-gpu-kernel.ts) in the tiles gpuConvPlan picks.
 */
export function convTiles(cols: number): GemmTiles {
  if (pinnedTiles) return pinnedTiles;
  // 12 channels per lane when that wastes fewer clamped columns (96 = 8 lanes x 12: the paper's
  // conv1 ran ~1.2x faster than with 8, whose second workgroup column was half empty).
  const waste = (tn: number) => Math.ceil(cols / (8 * tn)) * 8 * tn - cols;
  return { tm: 8, tn: cols <= 32 ? 4 : waste(12) < waste(8) ? 12 : 8, wx: 8, wy: 1 };
}

/**
 * Software adapters with at most 16 (padded) output channels: lanes over output pixels
 * (conv2d-pixel-kernel.ts), 8 channels x 4 pixels per lane, which beat the register blocks'
 * 4 channels x 8 pixels 2-5x on lavapipe at 8-16 channels. Null elsewhere, or when register
 * blocks are pinned (setConvTiles).
 */
export function pixelLaneTiles(cols: number): PixelLaneTiles | null {
  if (pinnedTiles || getEngine().info.kernels === 'gpu' || cols > 16) return null;
  return { toc: 8, tp: 4 };
}

/** The weight gradient's counterpart of pixelLaneTiles: k rows on the lanes (conv2d-wgrad-klane-kernel.ts). */
export function wgradKLaneTiles(cols: number): KLaneTiles | null {
  if (pinnedTiles || getEngine().info.kernels === 'gpu' || cols > 16) return null;
  return { toc: cols <= 8 ? 8 : 16, tk: 1 };
}

/**
 * The gpu family's tiles and reduction split for a conv GEMM of `rows` x `cols` over `red`: the
 * tensor matmul's size table (a conv GEMM is a matmul whose A operand is gathered), or the
 * pinned tiles (setConvTiles), unsplit.
 */
export function gpuConvPlan(rows: number, cols: number, red: number): GpuMatmulPlan {
  return gpuMatmulPlan(rows, cols, red, 1, pinnedTiles);
}

let pinnedTiles: GemmTiles | null = null;

// On lavapipe F(2x2)'s forward runs 1.5-1.6x faster than the GEMM at 16 -> 32 and 32 -> 32
// channels, 1.5-1.9x at 64 and 128 (`bench/winograd-probe.mjs`); not tried below 16, where the
// transforms' share grows.
const WINOGRAD_MIN_CHANNELS = 16;

/** How 3x3 stride-1 convolutions run: 'auto' (Winograd where it pays), or one path forced. */
export type ConvAlgorithm = 'auto' | 'winograd' | 'gemm';
let algorithm: ConvAlgorithm = 'auto';

/** Force the 3x3 algorithm (tests and benchmarks; 'auto' restores the measured choice). */
export function setConvAlgorithm(a: ConvAlgorithm): void {
  algorithm = a;
}

/**
 * Whether a 3x3, stride-1, undilated convolution from `cin` to `cout` channels takes Winograd
 * F(2x2, 3x3) (conv2d-winograd.ts). Software adapters only: there it does 2.25x fewer
 * multiply-adds and reads the input far less (docs/PERFORMANCE.md); with few channels the transforms
 * cost more than the GEMM saves. Real GPUs keep the tiled implicit GEMM (not measured there).
 */
export function winogradApplies(
  kh: number,
  kw: number,
  stride: [number, number],
  dilation: [number, number],
  cin: number,
  cout: number,
): boolean {
  if (kh !== 3 || kw !== 3 || stride[0] !== 1 || stride[1] !== 1 || dilation[0] !== 1 || dilation[1] !== 1)
    return false;
  if (algorithm !== 'auto') return algorithm === 'winograd';
  if (pinnedTiles || getEngine().info.kernels === 'gpu') return false;
  return cin >= WINOGRAD_MIN_CHANNELS && cout >= WINOGRAD_MIN_CHANNELS;
}

/** Pin the register blocks of the conv GEMMs (benchmarks and tuning; null: automatic). */
export function setConvTiles(t: GemmTiles | null): void {
  pinnedTiles = t;
}

interface GemmDims {
  n: number;
  c: number;
  /** The input's stored rows and columns (the cpu kernels need them padded: offsets 0). */
  hp: number;
  wp: number;
  /** Zero rows and columns implied in front of the stored input (gpu family only). */
  offH: number;
  offW: number;
  oc: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
}

/**
 * Y[n, oc, oh, ow] from an input (padded, or on the gpu family with its padding implied by
 * d.offH and d.offW) and the weights w (`flip`: the data gradient's, turned by 180° with in and
 * out channels swapped). The cpu family's kernels read them packed, B[(c, kh, kw), ocPadded]
 * (packWeights); the gpu family's read w as it is stored.
 */
function convGemm(
  xp: Tensor,
  w: Tensor,
  flip: boolean,
  bias: Tensor | null,
  d: GemmDims,
  bnStats: Tensor | null = null,
): Tensor {
  const y = empty([d.n, d.oc, d.oh, d.ow]);
  if (getEngine().info.kernels === 'gpu') return convGemmGpu(xp, w, flip, bias, d, y, bnStats);
  if (bnStats) throw new Error('convGemm: a BN-ReLU read on the cpu family; this looks like a bug');
  if (d.offH !== 0 || d.offW !== 0)
    throw new Error('convGemm: implied padding on the cpu family; this looks like a bug');
  const packed = packWeights(w, flip);
  const M = d.n * d.oh * d.ow;
  const cols = packed.shape[1]!;
  const t = convTiles(cols);
  const rowBlocks = Math.ceil(M / (t.tm * t.wy));
  const gy = Math.min(rowBlocks, 65535);
  const gz = Math.ceil(rowBlocks / gy);
  const u = new Uniforms().u32(M, d.oc, d.c, d.hp, d.wp, d.oh, d.ow, d.kh, d.kw, d.sh, d.sw, d.dh, d.dw, cols / 4);
  const inputs = bias ? [xp, packed, bias] : [xp, packed];
  const px = pixelLaneTiles(cols);
  if (px) {
    const blocks = Math.ceil(M / (PIXEL_LANES * px.tp));
    const gx = Math.min(blocks, 65535);
    runKernel(
      convGemmPixelLanesKernel,
      { ...px, bias: bias !== null },
      { inputs, outputs: [y], uniforms: u, workgroups: [gx, Math.ceil(cols / px.toc), Math.ceil(blocks / gx)] },
    );
  } else
    runKernel(
      convGemmKernel,
      { ...t, bias: bias !== null },
      { inputs, outputs: [y], uniforms: u, workgroups: [Math.ceil(cols / (t.tn * t.wx)), gy, gz] },
    );
  packed.dispose();
  return y;
}

/**
 * The subgroup-matrix tiles (tensor cores) for a conv GEMM with `cols` output columns of f16
 * operands (conv2dAutocast's), or of f32 x read through a BN-ReLU (`bnRelu`: the fused ops
 * under autocast) with an f16 `b`, where the device runs them; else null.
 */
function halfOnSubgroupMatrices(x: Tensor, b: Tensor, cols: number, bnRelu = false): ConvSubgroupMatrixTiles | null {
  if (b.dtype !== 'f16' || (x.dtype !== 'f16' && !(bnRelu && x.dtype === 'f32'))) return null;
  return convSubgroupMatrixTiles(cols);
}

/** The tiled kernel's options for f16 operands (conv2dAutocast's). */
function halfReads(x: Tensor, b: Tensor): { halfX?: true; halfB?: true } {
  return { ...(x.dtype === 'f16' ? { halfX: true } : {}), ...(b.dtype === 'f16' ? { halfB: true } : {}) };
}

/** convGemm on the gpu family: the tiled kernel, K split over workgroup z where its plan says. */
function convGemmGpu(
  xp: Tensor,
  w: Tensor,
  flip: boolean,
  bias: Tensor | null,
  d: GemmDims,
  y: Tensor,
  bnStats: Tensor | null,
): Tensor {
  const M = d.n * d.oh * d.ow;
  const cols = Math.ceil(d.oc / 4) * 4;
  const R = d.c * d.kh * d.kw;
  const uniforms = (fold: number, splits: number, chunk: number) =>
    new Uniforms()
      .u32(M, d.oc, d.c, d.hp, d.wp, d.oh, d.ow, d.kh, d.kw, d.sh, d.sw, d.dh, d.dw, cols / 4, fold, splits, chunk)
      .i32(d.offH, d.offW);
  // The partial products of a split reduction, summed into the result.
  const summed = (target: Tensor): Tensor => {
    if (target === y) return y;
    y.dispose();
    const out = sum(target, 0);
    target.dispose();
    return out;
  };
  const sgm = halfOnSubgroupMatrices(xp, w, d.oc, bnStats !== null);
  const sgmPlan = sgm && subgroupMatrixPlan(M, d.oc, R, sgm, true);
  if (sgm && sgmPlan)
    return runSubgroupMatrixGemm({
      mode: 'forward',
      tiles: sgm,
      plan: sgmPlan,
      x: xp,
      b: w,
      stats: bnStats,
      bias,
      flip,
      uniforms: (chunk) => uniforms(sgmPlan.fold, sgmPlan.splits, chunk),
      out: y,
    });
  const { tiles: t, splits, chunk } = gpuConvPlan(M, cols, R);
  const rowBlocks = Math.ceil(M / (t.tm * t.wy));
  const gy = Math.min(rowBlocks, 65535);
  const fold = Math.ceil(rowBlocks / gy);
  const u = uniforms(fold, splits, chunk);
  const split = splits > 1 && fold * splits <= 65535;
  const target = split ? empty([splits, ...y.shape]) : y;
  const workgroups: [number, number, number] = [Math.ceil(cols / (t.tn * t.wx)), gy, fold * (split ? splits : 1)];
  runKernel(
    convTiledKernel,
    {
      mode: 'forward',
      ...t,
      bias: bias !== null,
      split,
      ...(bnStats ? { bnRelu: true } : {}),
      // Whole vec4s along k: R and every chunk (a multiple of the k step) multiples of 4.
      ...(flip ? { flip: true } : R % 4 === 0 ? { vecB: true } : {}),
      ...halfReads(xp, w),
    },
    {
      inputs: [xp, w, ...(bnStats ? [bnStats] : []), ...(bias ? [bias] : [])],
      outputs: [target],
      uniforms: u,
      workgroups,
    },
  );
  return summed(target);
}

function padInput(x: Tensor, g: ConvGeometry): Tensor {
  if (g.ph === 0 && g.pw === 0) return x;
  return spread(x, { hp: g.h + 2 * g.ph, wp: g.w + 2 * g.pw, offH: g.ph, offW: g.pw, sh: 1, sw: 1 });
}

/** Whether the general path's kernels read x unpadded, its padding implied (the gpu family's). */
function padsAsItReads(): boolean {
  return getEngine().info.kernels === 'gpu';
}

/**
 * The stored input of the general path and its implied padding: x as it is where the kernels
 * pad as they read or x already holds its padding (a saved padded copy), else x padded.
 */
function storedInput(x: Tensor, g: ConvGeometry): { xs: Tensor; offH: number; offW: number } {
  const padded = x.shape[2] === g.h + 2 * g.ph && x.shape[3] === g.w + 2 * g.pw;
  if (padded) return { xs: x, offH: 0, offW: 0 };
  if (padsAsItReads()) return { xs: x, offH: g.ph, offW: g.pw };
  return { xs: padInput(x, g), offH: 0, offW: 0 };
}

/**
 * Forward of the general (implicit GEMM) path; `x` as storedInput takes it. With `bnStats` (gpu
 * family), of relu(BN(x)), applied as the kernel reads x (batchnorm.ts's per-channel stats).
 */
export function convForward(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  g: ConvGeometry,
  bnStats: Tensor | null = null,
): Tensor {
  return scope(() => {
    const { xs, offH, offW } = storedInput(x, g);
    return convGemm(
      xs,
      w,
      false,
      b,
      {
        n: g.n,
        c: g.c,
        hp: xs.shape[2]!,
        wp: xs.shape[3]!,
        offH,
        offW,
        oc: g.oc,
        oh: g.oh,
        ow: g.ow,
        kh: g.kh,
        kw: g.kw,
        sh: g.sh,
        sw: g.sw,
        dh: g.dh,
        dw: g.dw,
      },
      bnStats,
    );
  });
}

/**
 * Data gradient: dx[ih] = Σ_kh gz[ih + (KH-1)·d - p - kh'·d] · w[KH-1-kh'], gz the upstream
 * gradient with s-1 zeros between rows (and columns). That is a stride-1 convolution of the
 * spread, padded gradient with flipped weights whose in/out channels swap. At stride s it
 * multiplies s² - 1 zeros per useful product; fine for the stride-2 layers of these networks.
 */
export function convDgrad(gy: Tensor, w: Tensor, g: ConvGeometry): Tensor {
  return scope(() => {
    // 1x1 on the matmul: dx[n] = Wᵀ · gy[n] (f16 operands on subgroup matrices: the GEMM below).
    if (isPointwise(g) && pointwiseOnMatmul(g) && !halfOnSubgroupMatrices(gy, w, g.c)) {
      return reshape(matmulRaw(reshape(w, [g.oc, g.c]), reshape(gy, [g.n, g.oc, g.h * g.w]), true, false), [
        g.n,
        g.c,
        g.h,
        g.w,
      ]);
    }
    // Stride 1: the same 3x3 convolution shape (padding 2 - p), so Winograd serves it too.
    if (g.ph <= 2 && g.pw <= 2 && winogradApplies(g.kh, g.kw, [g.sh, g.sw], [g.dh, g.dw], g.oc, g.c)) {
      return winogradConv(gy, w, true, null, {
        ph: 2 - g.ph,
        pw: 2 - g.pw,
        oh: g.h,
        ow: g.w,
      });
    }
    const offH = (g.kh - 1) * g.dh - g.ph;
    const offW = (g.kw - 1) * g.dw - g.pw;
    const hp = g.h + (g.kh - 1) * g.dh;
    const wp = g.w + (g.kw - 1) * g.dw;
    // Stride 1 with padding (K - 1)·d (1x1 unpadded above all) needs no spread copy at all, nor
    // does any stride-1 gradient where the kernels pad as they read.
    const same = offH === 0 && offW === 0 && g.sh === 1 && g.sw === 1 && hp === g.oh && wp === g.ow;
    const implied = !same && g.sh === 1 && g.sw === 1 && padsAsItReads();
    const gp = same || implied ? gy : spread(gy, { hp, wp, offH, offW, sh: g.sh, sw: g.sw });
    return convGemm(gp, w, true, null, {
      n: g.n,
      c: g.oc,
      hp: implied ? g.oh : hp,
      wp: implied ? g.ow : wp,
      offH: implied ? offH : 0,
      offW: implied ? offW : 0,
      oc: g.c,
      oh: g.h,
      ow: g.w,
      kh: g.kh,
      kw: g.kw,
      sh: 1,
      sw: 1,
      dh: g.dh,
      dw: g.dw,
    });
  });
}

/**
 * Weight gradient from the input (padded or not: storedInput) and the upstream gradient; with
 * `bnStats` (gpu family), of a convolution of relu(BN(x)), applied as the kernel reads x.
 */
export function convWgrad(x: Tensor, gy: Tensor, g: ConvGeometry, bnStats: Tensor | null = null): Tensor {
  return scope(() => {
    if (bnStats && getEngine().info.kernels !== 'gpu')
      throw new Error('convWgrad: a BN-ReLU read on the cpu family; this looks like a bug');
    // 1x1 on the matmul: dW = Σ_n gy[n] · x[n]ᵀ (x is its own padded input), one product
    // (f16 operands on subgroup matrices: the GEMM below).
    if (!bnStats && isPointwise(g) && pointwiseOnMatmul(g) && !halfOnSubgroupMatrices(x, gy, g.oc)) {
      const dw = matmulSumBatch(reshape(gy, [g.n, g.oc, g.h * g.w]), reshape(x, [g.n, g.c, g.h * g.w]), false, true);
      return reshape(dw, [g.oc, g.c, 1, 1]);
    }
    const { xs: xp, offH, offW } = storedInput(x, g);
    const gpu = getEngine().info.kernels === 'gpu';
    // The gpu family's kernel reads gy as it is stored; the cpu family's pixel-major.
    const G = gpu ? gy : pixelMajor(gy);
    const cols = Math.ceil(g.oc / 4) * 4;
    const Kc = g.c * g.kh * g.kw;
    const P = g.n * g.oh * g.ow;
    const shape = [g.oc, g.c, g.kh, g.kw];
    const u = (chunk: number) =>
      new Uniforms()
        .u32(
          Kc,
          g.oc,
          g.c,
          xp.shape[2]!,
          xp.shape[3]!,
          g.oh,
          g.ow,
          g.kh,
          g.kw,
          g.sh,
          g.sw,
          g.dh,
          g.dw,
          cols / 4,
          P,
          chunk,
        )
        .i32(offH, offW);
    const sgm = gpu ? halfOnSubgroupMatrices(xp, G, g.oc, bnStats !== null) : null;
    const sgmPlan = sgm && subgroupMatrixPlan(Kc, g.oc, P, sgm);
    if (sgm && sgmPlan)
      return runSubgroupMatrixGemm({
        mode: 'wgrad',
        tiles: sgm,
        plan: sgmPlan,
        x: xp,
        b: G,
        stats: bnStats,
        bias: null,
        flip: false,
        uniforms: u,
        out: empty(shape),
      });
    if (gpu) {
      // Rows k, columns oc, the pixel sum split over workgroup z as the plan says.
      const { tiles: t, splits, chunk } = gpuConvPlan(Kc, cols, P);
      const partial = empty(splits > 1 ? [splits, ...shape] : shape);
      const workgroups: [number, number, number] = [
        Math.ceil(cols / (t.tn * t.wx)),
        Math.ceil(Kc / (t.tm * t.wy)),
        splits,
      ];
      runKernel(
        convTiledKernel,
        {
          mode: 'wgrad',
          ...t,
          bias: false,
          split: splits > 1,
          ...(bnStats ? { bnRelu: true } : {}),
          ...halfReads(xp, G),
        },
        { inputs: bnStats ? [xp, G, bnStats] : [xp, G], outputs: [partial], uniforms: u(chunk), workgroups },
      );
      return splits > 1 ? sum(partial, 0) : partial;
    }
    const kl = wgradKLaneTiles(cols);
    const t = convTiles(cols);
    // Workgroups along x and y before the pixel split: channel-lane blocks, or k-lane blocks.
    const wx = kl ? Math.ceil(Kc / (PIXEL_LANES * kl.tk)) : Math.ceil(cols / (t.tn * t.wx));
    const wy = kl ? Math.ceil(cols / kl.toc) : Math.ceil(Kc / (t.tm * t.wy));
    // Split the pixel sum when the weight tensor alone gives too few workgroups.
    const want = Math.min(Math.ceil(16 / (wx * wy)), Math.max(1, Math.floor(P / 256)));
    const chunk = Math.ceil(P / Math.max(1, want));
    const splits = Math.ceil(P / chunk);
    const partial = empty(splits > 1 ? [splits, ...shape] : shape);
    if (kl)
      runKernel(convWgradKLanesKernel, kl, {
        inputs: [xp, G],
        outputs: [partial],
        uniforms: u(chunk),
        workgroups: [wx, wy, splits],
      });
    else
      runKernel(convWgradKernel, t, {
        inputs: [xp, G],
        outputs: [partial],
        uniforms: u(chunk),
        workgroups: [wx, wy, splits],
      });
    return splits > 1 ? sum(partial, 0) : partial;
  });
}

const convOp = defineOp({
  name: 'conv2d',
  forward: (ctx: OpContext, x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry) => {
    const winograd = winogradApplies(g.kh, g.kw, [g.sh, g.sw], [g.dh, g.dw], g.c, g.oc);
    const im2col = !winograd && algorithm === 'auto' && !pinnedTiles && im2colApplies(g);
    // Winograd, im2col and the gpu family's kernels pad as they read, in the forward and in
    // their weight gradients: the padded copy is made only where the cpu family's direct weight
    // gradient needs it.
    const xp = winograd || im2col || padsAsItReads() ? x : padInput(x, g);
    const y = winograd
      ? scope(() =>
          winogradConv(x, w, false, b, {
            ph: g.ph,
            pw: g.pw,
            oh: g.oh,
            ow: g.ow,
          }),
        )
      : im2col
        ? im2colConv(x, w, b, g)
        : convForward(xp, w, b, g);
    // Keep only what backward will use: the input as the weight gradient reads it (the cpu
    // family's direct path: padded, so backward needs no second padding pass), the weights for
    // the data gradient.
    const needs = [x.requiresGrad, w.requiresGrad, b?.requiresGrad ?? false];
    if (needs[1]) ctx.save(xp);
    if (needs[0]) ctx.save(w);
    ctx.needs = needs;
    ctx.geometry = g;
    ctx.winograd = winograd;
    ctx.im2col = im2col;
    // Gradients come back one per Tensor argument: no slot for a null bias.
    ctx.hasBias = b !== null;
    if (xp !== x) xp.dispose();
    return y;
  },
  backward: (ctx, gy) => {
    const [needX, needW, needB] = ctx.needs as boolean[];
    const xp = needW ? ctx.saved[0]! : null;
    const w = needX ? ctx.saved[needW ? 1 : 0]! : null;
    const g = ctx.geometry as ConvGeometry;
    // Winograd, im2col and the gpu family saved the unpadded input; their weight gradients pad as they read.
    const wgrad = (x: Tensor) =>
      ctx.winograd
        ? scope(() => winogradWgrad(x, gy, { ph: g.ph, pw: g.pw, oh: g.oh, ow: g.ow }, winogradTile(g.oh, g.ow)))
        : ctx.im2col
          ? im2colWgrad(x, gy, g)
          : convWgrad(x, gy, g);
    // Both gradients of a padding-1 Winograd convolution share their transforms' dispatch.
    const both = ctx.winograd && w && xp && g.ph === 1 && g.pw === 1;
    const grads = both ? winogradGrads(xp, gy, w, { ph: 1, pw: 1, oh: g.oh, ow: g.ow }) : null;
    const out: (Tensor | null)[] = grads
      ? [grads.da, grads.dw]
      : [w ? convDgrad(gy, w, g) : null, xp ? wgrad(xp) : null];
    if (ctx.hasBias) out.push(needB ? sum(gy, [0, 2, 3]) : null);
    return out;
  },
});

/**
 * 2-D convolution, PyTorch's `F.conv2d(x, w, b, stride, padding, dilation)` (groups = 1):
 * x [N, C, H, W], w [OC, C, kH, kW], b [OC] or null; stride/padding/dilation a number or
 * [h, w]. Differentiable in x, w and b.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x, w, b, options);
  if (isPointwise(g) && pointwiseOnMatmul(g)) return conv1x1(x, w, b, g);
  return convOp(x, w, b, g);
}

/** 1x1, stride 1, unpadded (dilation is then irrelevant). */
export function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;
}

/**
 * Whether a 1x1 convolution (forward, and the data and weight gradients that
 * concatBatchNormReluConv1x1Recomputed calls directly) runs on the tensor matmul. Real GPUs: always.
 * Software adapters: when the matmul stages its operands in textures (matmul-texture.ts in
 * @spine/tensor). Since that kernel broadcasts A across its subgroup, the matmul beat the
 * implicit GEMM on every DenseNet bottleneck shape of `bench/conv1x1-matmul-probe.mjs`, taking
 * the three directions together: 1.9-2.8x at 56², 1.17x at 7² (1024 channels to 128), 1.8x with
 * 32 output channels; only the weight gradient at 14² and 7² was slower (0.81x, 0.92x).
 */
export function pointwiseOnMatmul(g: ConvGeometry): boolean {
  if (getEngine().info.kernels === 'gpu') return true;
  if (pinnedTiles) return false;
  return matmulRoute(g.oc, g.h * g.w, g.c, g.n, false, false, [1, g.n]) === 'texture';
}

/** 1x1, stride 1, no padding: y[n] = W · x[n] on the tensor matmul (its autograd included). */
function conv1x1(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry): Tensor {
  return scope(() => {
    const y = reshape(matmul(reshape(w, [g.oc, g.c]), reshape(x, [g.n, g.c, g.h * g.w])), [g.n, g.oc, g.h, g.w]);
    return b ? add(y, reshape(b, [1, g.oc, 1, 1])) : y;
  });
}
