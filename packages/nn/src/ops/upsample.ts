// torch.nn.functional.interpolate for 2-D inputs [N, C, H, W], modes 'nearest' and 'bilinear'
// (alignCorners), output from `size` or `scaleFactor`. Both modes are one separable rule: each
// output row (column) reads source rows i0 and i1 with weights l0 and l1 (nearest: i1 = i0,
// l1 = 0). The tables are computed on the host with PyTorch's float32 index arithmetic (so a
// nearest neighbour is the one PyTorch picks), uploaded, and read by the kernels. The backward
// gathers instead of scattering (no float atomics): each source pixel sums the rectangle of
// output pixels that read it, whose bounds are tables too.
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  ShapeError,
  tensor,
  TensorError,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';

const WG = 64;
const f32 = Math.fround;

export type UpsampleMode = 'nearest' | 'bilinear';

interface AxisTable {
  i0: number[];
  i1: number[];
  l0: number[];
  l1: number[];
  /** Per source index: the first and one past the last output index reading it. */
  from: number[];
  to: number[];
}

/** One axis of PyTorch's index rule (UpSample.h: nearest_idx, area_pixel_compute_source_index). */
function axisTable(
  mode: UpsampleMode,
  inSize: number,
  outSize: number,
  scaleFactor: number | undefined,
  alignCorners: boolean,
): AxisTable {
  const t: AxisTable = {
    i0: [],
    i1: [],
    l0: [],
    l1: [],
    from: new Array<number>(inSize).fill(outSize),
    to: new Array<number>(inSize).fill(0),
  };
  const scaleValue = scaleFactor !== undefined ? f32(1 / scaleFactor) : f32(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (mode === 'nearest') {
      const i =
        outSize === inSize
          ? o
          : outSize === 2 * inSize
            ? o >> 1
            : Math.min(Math.floor(f32(o * scaleValue)), inSize - 1);
      t.i0.push(i);
      t.i1.push(i);
      t.l0.push(1);
      t.l1.push(0);
    } else {
      const scale = alignCorners ? (outSize > 1 ? f32((inSize - 1) / (outSize - 1)) : 0) : scaleValue;
      const src = alignCorners ? f32(scale * o) : Math.max(f32(f32(scale * f32(o + 0.5)) - 0.5), 0);
      const i0 = Math.trunc(src);
      const l1 = f32(src - i0);
      t.i0.push(i0);
      t.i1.push(i0 + (i0 < inSize - 1 ? 1 : 0));
      t.l0.push(f32(1 - l1));
      t.l1.push(l1);
    }
  }
  for (let o = 0; o < outSize; o++) {
    for (const i of [t.i0[o]!, t.i1[o]!]) {
      t.from[i] = Math.min(t.from[i]!, o);
      t.to[i] = Math.max(t.to[i]!, o + 1);
    }
  }
  return t;
}

// Tables: idx = [i0h, i1h (Ho each), i0w, i1w (Wo each), fromH, toH (H each), fromW, toW (W each)],
// lam = [l0h, l1h, l0w, l1w]. Words: total, H, W, Ho, Wo.
const forwardKernel = defineKernel({
  name: 'upsample2d',
  inputs: 3,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read> lam: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let H = pu(1u); let W = pu(2u); let Ho = pu(3u); let Wo = pu(4u);
  let ow = i % Wo; let oh = (i / Wo) % Ho; let plane = i / (Wo * Ho);
  let base = plane * H * W;
  let h0 = u32(idx[oh]); let h1 = u32(idx[Ho + oh]);
  let w0 = u32(idx[2u * Ho + ow]); let w1 = u32(idx[2u * Ho + Wo + ow]);
  let a0 = lam[oh]; let a1 = lam[Ho + oh]; let b0 = lam[2u * Ho + ow]; let b1 = lam[2u * Ho + Wo + ow];
  y[i] = a0 * (b0 * x[base + h0 * W + w0] + b1 * x[base + h0 * W + w1]) + a1 * (b0 * x[base + h1 * W + w0] + b1 * x[base + h1 * W + w1]);
}`,
});

const backwardKernel = defineKernel({
  name: 'upsample2d_backward',
  inputs: 3,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read> lam: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
fn weight_of(o: u32, src: i32, i0: u32, i1: u32, l0: u32, l1: u32) -> f32 {
  return select(0.0, lam[l0 + o], idx[i0 + o] == src) + select(0.0, lam[l1 + o], idx[i1 + o] == src);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let H = pu(1u); let W = pu(2u); let Ho = pu(3u); let Wo = pu(4u);
  let w = i % W; let h = (i / W) % H; let plane = i / (W * H);
  let t = 2u * Ho + 2u * Wo;
  var s = 0.0;
  for (var oh = u32(idx[t + h]); oh < u32(idx[t + H + h]); oh++) {
    let a = weight_of(oh, i32(h), 0u, Ho, 0u, Ho);
    var row = 0.0;
    for (var ow = u32(idx[t + 2u * H + w]); ow < u32(idx[t + 2u * H + W + w]); ow++) {
      row += weight_of(ow, i32(w), 2u * Ho, 2u * Ho + Wo, 2u * Ho, 2u * Ho + Wo) * g[(plane * Ho + oh) * Wo + ow];
    }
    s += a * row;
  }
  dx[i] = s;
}`,
});

const upsampleOp = defineOp({
  name: 'upsample2d',
  forward: (ctx: OpContext, x: Tensor, idx: Tensor, lam: Tensor, sizes: [number, number, number, number]) => {
    const [N, C] = x.shape as [number, number];
    const [H, W, Ho, Wo] = sizes;
    const y = empty([N, C, Ho, Wo]);
    runKernel(
      forwardKernel,
      {},
      {
        inputs: [x, idx, lam],
        outputs: [y],
        uniforms: new Uniforms().u32(y.size, H, W, Ho, Wo),
        workgroups: grid1d(y.size, WG),
      },
    );
    ctx.save(idx, lam);
    Object.assign(ctx, { xShape: x.shape, sizes });
    return y;
  },
  backward: (ctx, g) => {
    const [idx, lam] = ctx.saved as [Tensor, Tensor];
    const [H, W, Ho, Wo] = ctx.sizes as [number, number, number, number];
    const dx = empty(ctx.xShape as number[]);
    runKernel(
      backwardKernel,
      {},
      {
        inputs: [g, idx, lam],
        outputs: [dx],
        uniforms: new Uniforms().u32(dx.size, H, W, Ho, Wo),
        workgroups: grid1d(dx.size, WG),
      },
    );
    return [dx, null, null];
  },
});

export interface UpsampleOptions {
  /** Output [height, width] (or one number for both); give this or scaleFactor. */
  size?: number | [number, number];
  /** Output = floor(input * scaleFactor) per axis; the index rule uses 1 / scaleFactor, as PyTorch without recompute_scale_factor. */
  scaleFactor?: number | [number, number];
  mode?: UpsampleMode;
  /** Bilinear only: the corner pixels' centres of input and output coincide (default false). */
  alignCorners?: boolean;
}

/** Resize [N, C, H, W] as torch.nn.functional.interpolate (modes 'nearest', 'bilinear'). Differentiable in x. */
export function interpolate(x: Tensor, options: UpsampleOptions): Tensor {
  const { size, scaleFactor, mode = 'nearest', alignCorners = false } = options;
  if (x.dtype !== 'f32' || x.rank !== 4)
    throw new ShapeError(`interpolate: input must be f32 [N, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`);
  if (mode !== 'nearest' && mode !== 'bilinear')
    throw new TensorError(`interpolate: mode must be 'nearest' or 'bilinear', got '${String(mode)}'`);
  if (alignCorners && mode === 'nearest')
    throw new TensorError("interpolate: alignCorners applies to 'bilinear' only (as in PyTorch)");
  if ((size === undefined) === (scaleFactor === undefined))
    throw new TensorError('interpolate: give either size or scaleFactor');
  const [H, W] = [x.shape[2]!, x.shape[3]!];
  const pair = (v: number | [number, number]) => (typeof v === 'number' ? [v, v] : v);
  const scales = scaleFactor === undefined ? undefined : pair(scaleFactor);
  const [Ho, Wo] = size !== undefined ? pair(size) : [Math.floor(H * scales![0]!), Math.floor(W * scales![1]!)];
  if (scales && !scales.every((s) => s > 0 && Number.isFinite(s)))
    throw new TensorError(`interpolate: scaleFactor must be > 0, got ${String(scaleFactor)}`);
  if (![Ho, Wo].every((d) => Number.isInteger(d) && d >= 1))
    throw new ShapeError(
      `interpolate: output size [${Ho}, ${Wo}] for input [${x.shape.join(', ')}] must be whole and >= 1`,
    );
  const th = axisTable(mode, H, Ho!, scales?.[0], alignCorners);
  const tw = axisTable(mode, W, Wo!, scales?.[1], alignCorners);
  const idx = tensor(
    Int32Array.from([...th.i0, ...th.i1, ...tw.i0, ...tw.i1, ...th.from, ...th.to, ...tw.from, ...tw.to]),
  );
  const lam = tensor(Float32Array.from([...th.l0, ...th.l1, ...tw.l0, ...tw.l1]));
  const y = upsampleOp(x, idx, lam, [H, W, Ho!, Wo!]);
  idx.dispose();
  lam.dispose();
  return y;
}
