// 3x3 stride-1 convolutions by Winograd's minimal filtering F(m x m, 3x3) (Lavin & Gray 2015),
// for software adapters. Each m x m output tile is A^T [(G g G^T) ⊙ (B^T d B)] A with d the
// α x α input patch (α = m + 2): α² multiplies per tile and channel pair instead of 9m². The
// α² element-wise products summed over input channels are α² independent GEMMs, U[ξ] (out x in)
// · V[ξ] (in x tiles), which run on the tensor engine's batched matmul; the transforms
// (winograd-transforms.ts) prepare the weights (U) and the input patches (V) and turn the
// products back into output tiles. F(2x2) does 2.25x fewer multiply-adds than the direct
// convolution, F(4x4) 4x fewer and moves 1.8x fewer transformed values; winogradTile picks the
// one with fewer GEMM columns x products for the output size (F(4x4) from 12x12 outputs up).
//
// Numerics: the transforms only add, subtract and scale, so results differ from the direct sum
// by rounding: F(2x2) a few ulps of the partial sums, F(4x4) more (its transforms scale by up to
// 8 and 1/24); test/ops/conv2d/conv2d-winograd.test.ts checks both against float64.
import {
  add,
  empty,
  grid1d,
  matmulRaw,
  prepareTextureProduct,
  runKernel,
  runTextureProduct,
  scope,
  TensorError,
  Uniforms,
  type Tensor,
  type TextureProduct,
} from '@spine/tensor';
import {
  alphaOf,
  backwardTransformsKernel,
  gradOutputKernel,
  gradsOutputKernel,
  inputKernel,
  inputWeightsKernel,
  outputKernel,
  TILES_PER_LANE,
  WG,
  weightGradKernel,
  type WinogradTile,
} from './winograd-transforms.js';

export { TILES_PER_LANE, type WinogradTile } from './winograd-transforms.js';

let pinnedTile: WinogradTile | null = null;

/** Pin F(2x2) or F(4x4) (tests and benchmarks; null: winogradTile decides). */
export function setWinogradTile(m: WinogradTile | null): void {
  pinnedTile = m;
}

/** Tile groups of an output size: TILES_PER_LANE tiles of m x m along a row. */
function tileGroups(m: number, oh: number, ow: number): { tH: number; tW: number; txg: number } {
  const tH = Math.ceil(oh / m);
  const tW = Math.ceil(ow / m);
  return { tH, tW, txg: Math.ceil(tW / TILES_PER_LANE) };
}

/**
 * F(2x2) or F(4x4) for an output of oh x ow: the one with fewer GEMM columns times products
 * (α² · tile rows · tile groups), which also bounds the transforms' traffic. At DenseNet's
 * 56², 28² and 14² F(4x4) needs 0.56-0.74 of F(2x2)'s; at 7² F(2x2) wins (F(4x4)'s two tiles
 * per row leave half of a group of four empty).
 */
export function winogradTile(oh: number, ow: number): WinogradTile {
  if (pinnedTile) return pinnedTile;
  const cost = (m: WinogradTile) => {
    const g = tileGroups(m, oh, ow);
    return alphaOf(m) ** 2 * g.tH * g.txg;
  };
  return cost(4) < cost(2) ? 4 : 2;
}

/** Floats each of the V and M intermediates may take per chunk (32 MiB), well under binding limits. */
const CHUNK_FLOATS = 8 * 1024 * 1024;
let chunkFloats = CHUNK_FLOATS;

/** Set the per-chunk size of the intermediates (tests run the chunked path on small inputs; null: default). */
export function setWinogradChunkFloats(n: number | null): void {
  chunkFloats = n ?? CHUNK_FLOATS;
}

export interface WinogradShape {
  /** Zero padding of the input, rows and columns. */
  ph: number;
  pw: number;
  /** Output size: H + 2·ph - 2 by W + 2·pw - 2. */
  oh: number;
  ow: number;
}

/** Tile groups per chunk whose intermediates of `channels` stay under the chunk budget (one at the least). */
function groupsPerChunk(m: WinogradTile, channels: number): number {
  return Math.max(1, Math.floor(chunkFloats / (alphaOf(m) ** 2 * channels * TILES_PER_LANE)));
}

/**
 * Run `body(gc, words)` over the tile groups of an output in chunks of gc groups whose
 * intermediates (α² x channels x columns) stay under the chunk budget, one group of
 * TILES_PER_LANE tiles at the least; `words` are the tile words every transform shares.
 */
function forChunks(
  m: WinogradTile,
  channels: number,
  s: WinogradShape,
  n: number,
  body: (gc: number, words: number[]) => void,
): void {
  const { tH, tW, txg } = tileGroups(m, s.oh, s.ow);
  const groups = n * tH * txg;
  const perChunk = groupsPerChunk(m, channels);
  for (let g0 = 0; g0 < groups; g0 += perChunk) {
    const gc = Math.min(perChunk, groups - g0);
    // tH, tW, groups per row, g0, Gc.
    body(gc, [tH, tW, txg, g0, gc]);
  }
}

/** A convolution's 3x3 weights [OC, IC, 3, 3] and their transform U [α², R, K] to write. */
interface WeightsToTransform {
  w: Tensor;
  flip: boolean;
  u: Tensor;
}

/**
 * V [α², C, gc · TILES_PER_LANE] of x's tile groups g0 .. g0 + gc - 1; of relu(BN(x)) when the
 * BN statistics are given (inputKernel's bnRelu). With `weights`, the weights' transform runs
 * in the same dispatch (inputWeightsKernel).
 */
function inputTransform(
  x: Tensor,
  m: WinogradTile,
  s: WinogradShape,
  gc: number,
  words: number[],
  bnStats: Tensor | null,
  weights: WeightsToTransform | null = null,
): Tensor {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const v = empty([alphaOf(m) ** 2, c, gc * TILES_PER_LANE]);
  const u = new Uniforms().u32(c * gc, c, h, w, ...words, s.ph, s.pw);
  const inputs = bnStats ? [x, bnStats] : [x];
  if (!weights) {
    runKernel(
      inputKernel,
      { m, ...(bnStats ? { bnRelu: true } : {}) },
      { inputs, outputs: [v], uniforms: u, workgroups: grid1d(c * gc, WG) },
    );
    return v;
  }
  const [, R, K] = weights.u.shape as [number, number, number];
  u.u32(R * K, R, K);
  runKernel(
    inputWeightsKernel,
    { m, bnRelu: bnStats !== null, flip: weights.flip },
    {
      inputs: [...inputs, weights.w],
      outputs: [v, weights.u],
      uniforms: u,
      workgroups: grid1d(c * gc + R * K, WG),
    },
  );
  return v;
}

/** The α² transformed kernels' tensor for w [OC, IC, 3, 3]: [α², R, K], R and K swapped by `flip`. */
function transformedWeights(w: Tensor, flip: boolean, m: WinogradTile): Tensor {
  const [oc, ic] = w.shape as [number, number];
  return empty(flip ? [alphaOf(m) ** 2, ic, oc] : [alphaOf(m) ** 2, oc, ic]);
}

/** Y [N, R, OH, OW] tiles of the chunk from the products prod [α², R, gc · TILES_PER_LANE] (+ bias). */
function outputTransform(
  prod: Tensor,
  y: Tensor,
  bias: Tensor | null,
  m: WinogradTile,
  s: WinogradShape,
  gc: number,
  words: number[],
): void {
  const r = y.shape[1]!;
  const uo = new Uniforms().u32(r * gc, r, s.oh, s.ow, ...words);
  runKernel(
    outputKernel,
    { m, bias: bias !== null },
    { inputs: bias ? [prod, bias] : [prod], outputs: [y], uniforms: uo, workgroups: grid1d(r * gc, WG) },
  );
}

/** dw [R, K, 3, 3] from the α² weight-gradient products du [α², R, K]. */
function weightGradTransform(du: Tensor, m: WinogradTile): Tensor {
  const [, r, c] = du.shape as [number, number, number];
  const dw = empty([r, c, 3, 3]);
  runKernel(
    weightGradKernel,
    { m },
    { inputs: [du], outputs: [dw], uniforms: new Uniforms().u32(r * c, r, c), workgroups: grid1d(r * c, WG) },
  );
  return dw;
}

/**
 * y[n, r] = Σ_k conv3x3(x[n, k], w[r, k]) + bias[r] at stride 1, or with `flip` the data
 * gradient's convolution, of w[k, r] turned by 180°. x is [N, K, H, W]; the result
 * [N, R, OH, OW]. The weights are transformed (F(winogradTile(OH, OW))) in the dispatch of the
 * first chunk's input transform. With `bnStats` (batchnorm.ts's per-channel stats), the
 * convolution is of relu(BN(x)), applied as the input transform reads x.
 */
export function winogradConv(
  x: Tensor,
  w: Tensor,
  flip: boolean,
  bias: Tensor | null,
  s: WinogradShape,
  bnStats: Tensor | null = null,
): Tensor {
  const { y } = winogradConvKeep(x, w, flip, bias, s, bnStats, false);
  return y;
}

/**
 * winogradConv that can also hand back V, the input transform, for winogradWgrad to reuse
 * instead of recomputing it (`keepV`, and only when V is one chunk; otherwise v is null).
 */
export function winogradConvKeep(
  x: Tensor,
  w: Tensor,
  flip: boolean,
  bias: Tensor | null,
  s: WinogradShape,
  bnStats: Tensor | null,
  keepV: boolean,
): { y: Tensor; v: Tensor | null } {
  const m = winogradTile(s.oh, s.ow);
  const u = transformedWeights(w, flip, m);
  const [n, c] = x.shape as [number, number];
  const r = u.shape[1]!;
  const y = empty([n, r, s.oh, s.ow]);
  let chunks = 0;
  let kept: Tensor | null = null;
  forChunks(m, Math.max(c, r), s, n, (gc, words) => {
    const weights = chunks++ === 0 ? { w, flip, u } : null;
    const v = scope(() => {
      const vt = inputTransform(x, m, s, gc, words, bnStats, weights);
      outputTransform(matmulRaw(u, vt), y, bias, m, s, gc, words);
      return keepV ? vt : null;
    });
    kept?.dispose();
    kept = v;
  });
  u.dispose();
  if (chunks > 1) {
    (kept as Tensor | null)?.dispose();
    kept = null;
  }
  return { y, v: kept };
}

/**
 * Both gradients of y = winogradConv(x, w, false, null, s, bnStats) at padding 1 (s.ph = s.pw
 * = 1), where the data gradient's output tiles are the weight gradient's: the upstream
 * gradient's two transforms and the flipped weights' in one dispatch, each gradient's product,
 * then both inverse transforms in one dispatch. `da` is the gradient at the convolution's input (at
 * relu(BN(x)) with bnStats); keptV as in winogradWgrad. Intermediates of more than one chunk
 * take winogradConv (flipped) and winogradWgrad.
 */
export function winogradGrads(
  x: Tensor,
  gy: Tensor,
  w: Tensor,
  s: WinogradShape,
  bnStats: Tensor | null = null,
  keptV: Tensor | null = null,
): { da: Tensor; dw: Tensor } {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const r = gy.shape[1]!;
  const m = winogradTile(s.oh, s.ow);
  const { tH, tW, txg } = tileGroups(m, s.oh, s.ow);
  const gc = n * tH * txg;
  if (s.ph !== 1 || s.pw !== 1)
    throw new TensorError(
      `winogradGrads: padding ${s.ph}x${s.pw}; this looks like a bug (only padding 1 shares tiles)`,
    );
  if (
    gc > groupsPerChunk(m, Math.max(c, r)) ||
    !sharingFits(alphaOf(m) ** 2 * gc * TILES_PER_LANE, n * h * wd, c, r, keptV !== null)
  ) {
    return {
      da: winogradConv(gy, w, true, null, { ph: 1, pw: 1, oh: h, ow: wd }),
      dw: winogradWgrad(x, gy, s, m, bnStats, keptV),
    };
  }
  const words = [tH, tW, txg, 0, gc];
  const a2 = alphaOf(m) ** 2;
  const cols = gc * TILES_PER_LANE;
  // On the texture route the transforms write the products' operands straight into their
  // textures: the data gradient's A (flipped weights, K = r: whole texels of 4) and B, the
  // weight gradient's A.
  const data = r % 4 === 0 ? prepareTextureProduct(c, cols, r, a2, { a: 'winograd-u', b: 'winograd-v' }) : null;
  const weight = data ? prepareTextureProduct(r, c, cols, a2, { a: 'winograd-dm' }, true) : null;
  if (data && weight) return winogradGradsOnTextures(x, gy, w, s, m, words, bnStats, keptV, data, weight);
  return scope(() => {
    const vg = empty([a2, r, gc * TILES_PER_LANE]);
    const dm = empty([a2, r, gc * TILES_PER_LANE]);
    const uf = transformedWeights(w, true, m);
    // Words: the input transform's of gy (padding 1), the grad-output transform's, the weights'.
    const u = new Uniforms()
      .u32(r * gc, r, s.oh, s.ow, ...words, 1, 1)
      .u32(r * gc, r, s.oh, s.ow, ...words)
      .u32(c * r, c, r);
    runKernel(
      backwardTransformsKernel,
      { m },
      { inputs: [gy, w], outputs: [vg, dm, uf], uniforms: u, workgroups: grid1d(2 * r * gc + c * r, WG) },
    );
    // Each transform freed after its product, the weight gradient's first: see sharingFits.
    const v = keptV ?? inputTransform(x, m, s, gc, words, bnStats);
    const du = matmulRaw(dm, v, false, true);
    dm.dispose();
    if (v !== keptV) v.dispose();
    const prod = matmulRaw(uf, vg);
    uf.dispose();
    vg.dispose();
    return inverseTransforms(prod, du, x.shape as Shape4, r, m, words);
  });
}

type Shape4 = [number, number, number, number];

/**
 * The data gradient's output transform (of its products `prod`, into dx shaped as x) and the
 * weight gradient's (of `du`, into dw [r, c, 3, 3]) in one dispatch.
 */
function inverseTransforms(
  prod: Tensor,
  du: Tensor,
  [n, c, h, wd]: Shape4,
  r: number,
  m: WinogradTile,
  words: number[],
): { da: Tensor; dw: Tensor } {
  const gc = words[4]!;
  const da = empty([n, c, h, wd]);
  const dw = empty([r, c, 3, 3]);
  const uo = new Uniforms().u32(c * gc, c, h, wd, ...words).u32(r * c, r, c);
  runKernel(
    gradsOutputKernel,
    { m },
    { inputs: [prod, du], outputs: [da, dw], uniforms: uo, workgroups: grid1d(c * gc + r * c, WG) },
  );
  return { da, dw };
}

/**
 * winogradGrads' shared-tile path with the backward transforms written into the two products'
 * textures (TextureProduct): no stage pass between a transform and its product.
 */
function winogradGradsOnTextures(
  x: Tensor,
  gy: Tensor,
  w: Tensor,
  s: WinogradShape,
  m: WinogradTile,
  words: number[],
  bnStats: Tensor | null,
  keptV: Tensor | null,
  data: TextureProduct,
  weight: TextureProduct,
): { da: Tensor; dw: Tensor } {
  const c = x.shape[1]!;
  const r = gy.shape[1]!;
  const gc = words[4]!;
  const a2 = alphaOf(m) ** 2;
  return scope(() => {
    // Words as the buffer path's, each part's texture rows per ξ after its own.
    const u = new Uniforms()
      .u32(r * gc, r, s.oh, s.ow, ...words, 1, 1, data.b!.rows)
      .u32(r * gc, r, s.oh, s.ow, ...words, weight.a!.rows)
      .u32((c * r) / 4, c, r, data.a!.rows);
    runKernel(
      backwardTransformsKernel,
      { m, textures: true },
      {
        inputs: [gy, w],
        outputs: [],
        textures: [data.b!.view, weight.a!.view, data.a!.view],
        uniforms: u,
        workgroups: grid1d(2 * r * gc + (c * r) / 4, WG),
      },
    );
    const prod = empty([a2, c, gc * TILES_PER_LANE]);
    runTextureProduct(data, prod, {});
    const v = keptV ?? inputTransform(x, m, s, gc, words, bnStats);
    const du = empty([a2, r, c]);
    runTextureProduct(weight, du, { b: { src: v, stride: c * gc * TILES_PER_LANE, trans: true } });
    if (v !== keptV) v.dispose();
    return inverseTransforms(prod, du, x.shape as Shape4, r, m, words);
  });
}

/**
 * Whether winogradGrads' shared dispatch holds no more floats at once than the two gradients
 * in turn. Shared: both of gy's transforms (S = α² · cols · R each; `perChannel` = α² · cols)
 * live together, then beside x's transform (V = P = α² · cols · C, unless kept), then one of
 * them beside the data gradient's product (P), which then meets dx (D = N · C · H · W). In
 * turn: the data gradient's transform, product and dx together, then the weight gradient's
 * transforms beside dx.
 */
function sharingFits(perChannel: number, planeValues: number, c: number, r: number, keptV: boolean): boolean {
  const S = perChannel * r;
  const P = perChannel * c;
  const D = planeValues * c;
  const V = keptV ? 0 : P;
  return Math.max(2 * S + V, S + P, P + D) <= Math.max(S + P + D, D + S + V);
}

/**
 * The weight gradient of y = winogradConv(x, w, false, ·, s) (keptV: the
 * forward's V from winogradConvKeep, used instead of transforming x again):
 * dw [R, K, 3, 3] from x [N, K, H, W] and the upstream gradient gy [N, R, OH, OW]. The
 * adjoint of the forward, step by step: dU[ξ] = Σ over tiles dM[ξ] · V[ξ]^T (α² GEMMs of
 * R x K over the tiles, on the tensor matmul) with V the input transform of the forward and
 * dM the upstream gradient's (gradOutputKernel), then dw = G^T dU G. No padded copy of x: the
 * input transform pads as it reads. `bnStats`: of relu(BN(x)), as in winogradConv.
 */
export function winogradWgrad(
  x: Tensor,
  gy: Tensor,
  s: WinogradShape,
  m: WinogradTile,
  bnStats: Tensor | null = null,
  keptV: Tensor | null = null,
): Tensor {
  const [n, c] = x.shape as [number, number];
  const r = gy.shape[1]!;
  let du: Tensor | null = null;
  forChunks(m, Math.max(c, r), s, n, (gc, words) => {
    const sum = scope(() => {
      const dm = empty([alphaOf(m) ** 2, r, gc * TILES_PER_LANE]);
      const ug = new Uniforms().u32(r * gc, r, s.oh, s.ow, ...words);
      runKernel(gradOutputKernel, { m }, { inputs: [gy], outputs: [dm], uniforms: ug, workgroups: grid1d(r * gc, WG) });
      // keptV: the forward's V (winogradConvKeep), whole when it was kept at all.
      const part = matmulRaw(dm, keptV ?? inputTransform(x, m, s, gc, words, bnStats), false, true);
      return du ? add(du, part) : part;
    });
    du?.dispose();
    du = sum;
  });
  const dw = weightGradTransform(du!, m);
  (du as Tensor | null)?.dispose();
  return dw;
}
