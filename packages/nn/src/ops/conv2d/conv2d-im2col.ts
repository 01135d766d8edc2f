// Forward of convolutions with few input values per output (c·kh·kw small, e.g. DenseNet's
// 7x7 stride-2 stem over 3 channels) on software adapters: the patches are written out once as
// columns, cols[n] = [K, OH·OW] (im2col), and y[n] = W · cols[n] runs on the tensor matmul,
// whose texture-operand kernel reads both operands with vector loads. The implicit GEMM
// (conv2d-kernel.ts) reads its input one scalar at a time, which is what these short, wide
// products spend their time on. K is padded to a multiple of 4 with zero rows (and the
// weights with zero columns) so that the matmul can stage cols by a plain copy.
import {
  add,
  defineKernel,
  empty,
  getEngine,
  matmulRaw,
  narrow,
  matmulSumBatch,
  pad,
  reshape,
  runKernel,
  scope,
  uniformPreamble,
  Uniforms,
  type Tensor,
} from '@spine/tensor';
import { matmulRoute } from '@spine/tensor/tuning';
import type { ConvGeometry } from './conv2d.js';

const WG = 64;

/** The largest c·kh·kw served (DenseNet's stem has 147; 3x3 convs over 16+ channels take Winograd or the GEMM). */
export const IM2COL_MAX_K = 160;

/**
 * cols[n, k, p] for k = (c, i, j) < K (zero for the padding rows up to Kp) and output pixel p,
 * four pixels per invocation; workgroups [P/4 in blocks of 64, Kp, N], so that k and n come
 * from the workgroup id instead of divisions of a linear index. Words: total (N·Kp·P/4), Kp, K, P/4, C, H, W, OW, kh, kw, sh, sw,
 * ph, pw, dh, dw.
 */
const im2colKernel = defineKernel({
  name: 'nn_conv_im2col',
  inputs: 1,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let Kp = pu(1u); let K = pu(2u); let P4 = pu(3u);
  let C = pu(4u); let H = pi(5u); let W = pi(6u); let OW = pu(7u);
  let KH = pu(8u); let KW = pu(9u);
  let q = wid.x * ${WG}u + lid; let k = wid.y; let n = wid.z;
  if (q >= P4) { return; }
  let i = (n * Kp + k) * P4 + q;
  var v = vec4<f32>(0.0);
  if (k < K) {
    let c = k / (KH * KW); let ki = (k / KW) % KH; let kj = k % KW;
    // OW % 4 == 0: the four pixels share an output row.
    let p0 = 4u * q; let oh = p0 / OW; let ow0 = p0 % OW;
    let ih = i32(oh * pu(10u) + ki * pu(14u)) - pi(12u);
    let okh = ih >= 0 && ih < H;
    let row = (n * C + c) * u32(H * W) + u32(clamp(ih, 0, H - 1) * W);
    let iw0 = i32(ow0 * pu(11u) + kj * pu(15u)) - pi(13u); let sw = pi(11u);
    for (var e = 0; e < 4; e++) {
      let iw = iw0 + e * sw;
      v[e] = select(0.0, x[row + u32(clamp(iw, 0, W - 1))], okh && iw >= 0 && iw < W);
    }
  }
  cols[i] = v;
}`,
});

/**
 * Whether the forward of this convolution runs as im2col + matmul: software adapters, at most
 * IM2COL_MAX_K values per output, OH·OW a multiple of 64 (the columns' rows then copy straight
 * into the matmul's texture), OW a multiple of 4 (a lane's four pixels share a row) and 64+
 * output channels, where the texture route applies, and the columns fit one storage binding.
 */
export function im2colApplies(g: ConvGeometry): boolean {
  if (getEngine().info.kernels === 'gpu') return false;
  const K = g.c * g.kh * g.kw;
  const P = g.oh * g.ow;
  if (K > IM2COL_MAX_K || P % 64 !== 0 || g.ow % 4 !== 0 || g.oc < 64) return false;
  if (g.n > 65535 || P / 4 / WG > 65535) return false; // the kernel's grid dimensions
  // The columns are one tensor bound whole (DenseNet's stem at batch 20 writes 149 MB of them,
  // over lavapipe's 128 MiB binding limit): larger batches take the implicit GEMM.
  if (g.n * Math.ceil(K / 4) * 4 * P * 4 > getEngine().info.limits.maxStorageBufferBindingSize) return false;
  return matmulRoute(g.oc, P, Math.ceil(K / 4) * 4, g.n, false, false, [1, g.n]) === 'texture';
}

/** cols [N, Kp, OH·OW] of x (unpadded), K = c·kh·kw padded with zero rows to Kp. */
function columns(x: Tensor, g: ConvGeometry): { cols: Tensor; K: number; Kp: number } {
  const K = g.c * g.kh * g.kw;
  const Kp = Math.ceil(K / 4) * 4;
  const P = g.oh * g.ow;
  const cols = empty([g.n, Kp, P]);
  const total = (g.n * Kp * P) / 4;
  const u = new Uniforms().u32(
    total,
    Kp,
    K,
    P / 4,
    g.c,
    g.h,
    g.w,
    g.ow,
    g.kh,
    g.kw,
    g.sh,
    g.sw,
    g.ph,
    g.pw,
    g.dh,
    g.dw,
  );
  runKernel(
    im2colKernel,
    {},
    { inputs: [x], outputs: [cols], uniforms: u, workgroups: [Math.ceil(P / 4 / WG), Kp, g.n] },
  );
  return { cols, K, Kp };
}

/** y [N, OC, OH, OW] = conv2d(x, w) (+ bias) by im2col and the tensor matmul; x unpadded. */
export function im2colConv(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry): Tensor {
  return scope(() => {
    const { cols, K, Kp } = columns(x, g);
    const wm = reshape(w, [g.oc, K]);
    const wp =
      Kp === K
        ? wm
        : pad(wm, [
            [0, 0],
            [0, Kp - K],
          ]);
    const y = reshape(matmulRaw(wp, cols), [g.n, g.oc, g.oh, g.ow]);
    return b ? add(y, reshape(b, [1, g.oc, 1, 1])) : y;
  });
}

/**
 * The weight gradient of im2colConv: dW = Σ_n gy[n] · cols[n]ᵀ with the columns written again
 * (x unpadded), on the tensor matmul (the batch summed in the product: matmulSumBatch), instead of the direct weight-gradient kernel, which reads
 * its operands one scalar at a time and needs a padded copy of x.
 */
export function im2colWgrad(x: Tensor, gy: Tensor, g: ConvGeometry): Tensor {
  return scope(() => {
    const { cols, K, Kp } = columns(x, g);
    const dw = matmulSumBatch(reshape(gy, [g.n, g.oc, g.oh * g.ow]), cols, false, true);
    return reshape(Kp === K ? dw : narrow(dw, 1, 0, K), [g.oc, g.c, g.kh, g.kw]);
  });
}
