// Layout copies that let the conv GEMM kernels run without bounds tests in their inner loops
// (the cpu family's; the gpu family's tiled kernels imply the zero padding as they read, and
// spread only a strided data gradient's upstream gradient). Each is one cheap pass over a
// tensor the size of an activation or a weight; the GEMMs they feed do C*KH*KW (or more)
// multiply-adds per element they read.
import {
  defineKernel,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  uniformPreamble,
  Uniforms,
  type Tensor,
} from '@spine/tensor';

const WG = 64;

function head(): string {
  return `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
`;
}

/**
 * dst[plane, u, v] = src[plane, (u - offH) / sh, (v - offW) / sw] where that division is exact
 * and in range, else 0. Forward: zero padding (s = 1, off = padding). Data gradient: the
 * upstream gradient spread out by the stride and padded by (K - 1) * d - p, which turns the
 * transposed convolution into a stride-1 convolution over it.
 * Words: total, H, W, Hp, Wp, offH, offW, sh, sw.
 */
const spreadKernel = defineKernel({
  name: 'nn_conv_spread',
  inputs: 1,
  outputs: 1,
  source: () => `${head()}
  let H = pi(1u); let W = pi(2u); let Hp = pu(3u); let Wp = pu(4u);
  let sh = pi(7u); let sw = pi(8u);
  let v = i32(i % Wp); let u = i32((i / Wp) % Hp); let plane = i / (Wp * Hp);
  let a = u - pi(5u); let b = v - pi(6u);
  let ih = a / sh; let iw = b / sw;
  let ok = a >= 0 && b >= 0 && a % sh == 0 && b % sw == 0 && ih < H && iw < W;
  var val = 0.0;
  if (ok) { val = src[plane * u32(H * W) + u32(ih * W + iw)]; }
  dst[i] = val;
}`,
});

export interface Spread {
  hp: number;
  wp: number;
  offH: number;
  offW: number;
  sh: number;
  sw: number;
}

export function spread(x: Tensor, s: Spread): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = empty([n, c, s.hp, s.wp]);
  const u = new Uniforms().u32(out.size, h, w, s.hp, s.wp).i32(s.offH, s.offW).u32(s.sh, s.sw);
  runKernel(spreadKernel, {}, { inputs: [x], outputs: [out], uniforms: u, workgroups: grid1d(out.size, WG) });
  return out;
}

/**
 * Weights as the GEMM's B operand: rows k over (in-channel, kh, kw), columns over output
 * channels padded to a multiple of 4 with zeros (vec4 loads, no tail branch).
 * forward:  B[(ic*KH + kh)*KW + kw, oc] = w[oc, ic, kh, kw]
 * flipped (data gradient): B[(oc*KH + kh)*KW + kw, ic] = w[oc, ic, KH-1-kh, KW-1-kw]
 * Words: total, colsPadded, OC, IC, KH, KW.
 */
const packKernel = defineKernel<{ flip: boolean }>({
  name: 'nn_conv_pack_weights',
  inputs: 1,
  outputs: 1,
  source: ({ flip }) => `${head()}
  let cols = pu(1u); let OC = pu(2u); let IC = pu(3u); let KH = pu(4u); let KW = pu(5u);
  let col = i % cols; let k = i / cols;
  let kw = k % KW; let kh = (k / KW) % KH; let outer = k / (KW * KH);
  ${
    flip
      ? `let oc = outer; let ic = col; let ok = ic < IC;
  let at = ((oc * IC + min(ic, IC - 1u)) * KH + (KH - 1u - kh)) * KW + (KW - 1u - kw);`
      : `let ic = outer; let oc = col; let ok = oc < OC;
  let at = ((min(oc, OC - 1u) * IC + ic) * KH + kh) * KW + kw;`
  }
  dst[i] = select(0.0, src[at], ok);
}`,
});

export function packWeights(w: Tensor, flip: boolean): Tensor {
  const [oc, ic, kh, kw] = w.shape as [number, number, number, number];
  const cols = Math.ceil((flip ? ic : oc) / 4) * 4;
  const rows = (flip ? oc : ic) * kh * kw;
  const out = empty([rows, cols]);
  const u = new Uniforms().u32(out.size, cols, oc, ic, kh, kw);
  runKernel(packKernel, { flip }, { inputs: [w], outputs: [out], uniforms: u, workgroups: grid1d(out.size, WG) });
  return out;
}

/**
 * The upstream gradient pixel-major for the weight-gradient GEMM: dst[n*HW + q, c] =
 * g[n, c, q], channels padded to a multiple of 4 with zeros. Words: total, colsPadded, C, HW.
 */
const pixelMajorKernel = defineKernel({
  name: 'nn_conv_pixel_major',
  inputs: 1,
  outputs: 1,
  source: () => `${head()}
  let cols = pu(1u); let C = pu(2u); let HW = pu(3u);
  let c = i % cols; let p = i / cols; let n = p / HW; let q = p % HW;
  dst[i] = select(0.0, src[(n * C + min(c, C - 1u)) * HW + q], c < C);
}`,
});

export function pixelMajor(g: Tensor): Tensor {
  const [n, c, h, w] = g.shape as [number, number, number, number];
  const cols = Math.ceil(c / 4) * 4;
  const out = empty([n * h * w, cols]);
  const u = new Uniforms().u32(out.size, cols, c, h * w);
  runKernel(pixelMajorKernel, {}, { inputs: [g], outputs: [out], uniforms: u, workgroups: grid1d(out.size, WG) });
  return out;
}
