// Grouped convolution with few input channels per group (depthwise: one) as direct kernels,
// one invocation per output element (forward), input element (data gradient) and weight
// element (weight gradient, summing over the batch and output pixels). A depthwise layer is
// then three dispatches each way instead of a conv2d chain per channel.
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  sum,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';
import type { ConvGeometry } from './conv2d.js';

const WG = 64;

// Words (all kernels): total, N, C, H, W, OC, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw, groups.
const GEOMETRY = `
  let N = pu(1u); let C = pu(2u); let H = pu(3u); let W = pu(4u); let OC = pu(5u); let OH = pu(6u); let OW = pu(7u);
  let KH = pu(8u); let KW = pu(9u); let sh = i32(pu(10u)); let sw = i32(pu(11u)); let ph = i32(pu(12u)); let pw = i32(pu(13u));
  let dh = i32(pu(14u)); let dw = i32(pu(15u)); let G = pu(16u);
  let Cg = C / G; let OCg = OC / G;`;

const forwardKernel = defineKernel<{ bias: boolean }>({
  name: 'conv2d_grouped_direct',
  inputs: (o) => (o.bias ? 3 : 2),
  outputs: 1,
  source: ({ bias }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
${bias ? '@group(0) @binding(3) var<storage, read> b: array<f32>;' : ''}
@group(0) @binding(${bias ? 4 : 3}) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }${GEOMETRY}
  let ow = i % OW; let oh = (i / OW) % OH; let oc = (i / (OW * OH)) % OC; let n = i / (OW * OH * OC);
  let g = oc / OCg;
  var acc = ${bias ? 'b[oc]' : '0.0'};
  for (var c = 0u; c < Cg; c++) {
    let xb = (n * C + g * Cg + c) * H * W;
    let wb = (oc * Cg + c) * KH * KW;
    for (var kh = 0u; kh < KH; kh++) {
      let ih = i32(oh) * sh - ph + i32(kh) * dh;
      if (ih < 0 || ih >= i32(H)) { continue; }
      for (var kw = 0u; kw < KW; kw++) {
        let iw = i32(ow) * sw - pw + i32(kw) * dw;
        if (iw < 0 || iw >= i32(W)) { continue; }
        acc += x[xb + u32(ih) * W + u32(iw)] * w[wb + kh * KW + kw];
      }
    }
  }
  y[i] = acc;
}`,
});

const dgradKernel = defineKernel({
  name: 'conv2d_grouped_direct_dgrad',
  inputs: 2,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> gy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }${GEOMETRY}
  let iw = i32(i % W); let ih = i32((i / W) % H); let ic = (i / (W * H)) % C; let n = i / (W * H * C);
  let g = ic / Cg; let c = ic % Cg;
  var acc = 0.0;
  for (var o = 0u; o < OCg; o++) {
    let oc = g * OCg + o;
    let yb = (n * OC + oc) * OH * OW;
    let wb = (oc * Cg + c) * KH * KW;
    for (var kh = 0u; kh < KH; kh++) {
      let th = ih + ph - i32(kh) * dh;
      if (th < 0 || th % sh != 0 || th / sh >= i32(OH)) { continue; }
      for (var kw = 0u; kw < KW; kw++) {
        let tw = iw + pw - i32(kw) * dw;
        if (tw < 0 || tw % sw != 0 || tw / sw >= i32(OW)) { continue; }
        acc += gy[yb + u32(th / sh) * OW + u32(tw / sw)] * w[wb + kh * KW + kw];
      }
    }
  }
  dx[i] = acc;
}`,
});

const wgradKernel = defineKernel({
  name: 'conv2d_grouped_direct_wgrad',
  inputs: 2,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dwt: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }${GEOMETRY}
  let kw = i % KW; let kh = (i / KW) % KH; let c = (i / (KW * KH)) % Cg; let oc = i / (KW * KH * Cg);
  let ic = (oc / OCg) * Cg + c;
  var acc = 0.0;
  for (var n = 0u; n < N; n++) {
    for (var oh = 0u; oh < OH; oh++) {
      let ih = i32(oh) * sh - ph + i32(kh) * dh;
      if (ih < 0 || ih >= i32(H)) { continue; }
      for (var ow = 0u; ow < OW; ow++) {
        let iw = i32(ow) * sw - pw + i32(kw) * dw;
        if (iw < 0 || iw >= i32(W)) { continue; }
        acc += gy[((n * OC + oc) * OH + oh) * OW + ow] * x[((n * C + ic) * H + u32(ih)) * W + u32(iw)];
      }
    }
  }
  dwt[i] = acc;
}`,
});

const words = (total: number, g: ConvGeometry, groups: number) =>
  new Uniforms().u32(
    total,
    g.n,
    g.c,
    g.h,
    g.w,
    g.oc,
    g.oh,
    g.ow,
    g.kh,
    g.kw,
    g.sh,
    g.sw,
    g.ph,
    g.pw,
    g.dh,
    g.dw,
    groups,
  );

const directOp = defineOp({
  name: 'conv2dGrouped',
  forward: (ctx: OpContext, x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry, groups: number) => {
    const y = empty([g.n, g.oc, g.oh, g.ow]);
    runKernel(
      forwardKernel,
      { bias: b !== null },
      {
        inputs: b ? [x, w, b] : [x, w],
        outputs: [y],
        uniforms: words(y.size, g, groups),
        workgroups: grid1d(y.size, WG),
      },
    );
    ctx.save(x, w);
    Object.assign(ctx, { g, groups, hasBias: b !== null });
    return y;
  },
  backward: (ctx, gy) => {
    const [x, w] = ctx.saved as [Tensor, Tensor];
    const g = ctx.g as ConvGeometry;
    const groups = ctx.groups as number;
    const dx = empty(x.shape);
    runKernel(
      dgradKernel,
      {},
      { inputs: [gy, w], outputs: [dx], uniforms: words(dx.size, g, groups), workgroups: grid1d(dx.size, WG) },
    );
    const dw = empty(w.shape);
    runKernel(
      wgradKernel,
      {},
      { inputs: [x, gy], outputs: [dw], uniforms: words(dw.size, g, groups), workgroups: grid1d(dw.size, WG) },
    );
    return ctx.hasBias ? [dx, dw, sum(gy, [0, 2, 3])] : [dx, dw];
  },
});

/** The grouped convolution of a checked geometry (see conv2d-grouped.ts), by the direct kernels. */
export function conv2dGroupedDirect(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry, groups: number): Tensor {
  return directOp(x, w, b, g, groups);
}
