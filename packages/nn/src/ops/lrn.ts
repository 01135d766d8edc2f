// Local response normalisation across channels, PyTorch's formula (F.local_response_norm):
//
//   y_c = x_c / (k + alpha / n * sum_{c' = c - n//2 .. c + (n-1)//2} x_c'^2) ^ beta
//
// with channels outside [0, C) counting as zero (PyTorch pads then average-pools, always
// dividing by n). AlexNet's paper divides by nothing: its (n 5, alpha 1e-4, beta 0.75, k 2)
// is PyTorch's alpha = 1e-4 * 5 = 5e-4 with k 2.
//
// One invocation per spatial position walks the channels with the window in registers (the
// window size is a compile-time option, unrolled), so each input is loaded once and the window
// sum is recomputed from its n squares each step: no running add/subtract that drifts in f32.
// The backward streams the same way, n - 1 channels ahead of the gradient it writes:
//   dx_i = g_i D_i^-beta - (2 alpha beta / n) x_i sum_{c: i in window(c)} g_c x_c D_c^(-beta-1)
// where window(c) contains i for c in i - (n-1)//2 .. i + n//2 (mirrored for even n).
import {
  defineKernel,
  defineOp,
  empty,
  getEngine,
  grid1d,
  linearIndex,
  runKernel,
  ShapeError,
  TensorError,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';

const WG = 64;

interface LrnKernelOptions {
  size: number;
  vec: 1 | 4;
  backward: boolean;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** WGSL that shifts register window `name` (length n) by one and appends `value`. */
const push = (name: string, n: number, value: string) =>
  range(n)
    .map((i) => (i < n - 1 ? `${name}${i} = ${name}${i + 1};` : `${name}${i} = ${value};`))
    .join(' ');
const decl = (name: string, n: number) =>
  range(n)
    .map((i) => `var ${name}${i} = V(0.0);`)
    .join(' ');
const sumSquares = (n: number) =>
  range(n)
    .map((i) => `w${i} * w${i}`)
    .join(' + ');

// Words: positions (N * S / vec), C, S / vec, alpha / n, beta, k.
const lrnKernel = defineKernel<LrnKernelOptions>({
  name: 'lrn',
  inputs: (o) => (o.backward ? 2 : 1),
  outputs: 1,
  source: ({ size: n, vec, backward }) => {
    const h = Math.floor(n / 2);
    const r = Math.floor((n - 1) / 2);
    const head = `${uniformPreamble()}
alias V = ${vec === 4 ? 'vec4<f32>' : 'f32'};
@group(0) @binding(1) var<storage, read> x: array<V>;
${backward ? '@group(0) @binding(2) var<storage, read> g: array<V>;' : ''}
@group(0) @binding(${backward ? 3 : 2}) var<storage, read_write> out: array<V>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let p = ${linearIndex(WG)};
  if (p >= pu(0u)) { return; }
  let C = i32(pu(1u)); let S = pu(2u);
  let base = (p / S) * u32(C) * S + p % S;
  let an = V(pf(3u)); let beta = V(pf(4u)); let k = V(pf(5u));
  ${decl('w', n)}`;
    if (!backward) {
      return `${head}
  for (var s = 0; s < C + ${r}; s++) {
    var nx = V(0.0);
    if (s < C) { nx = x[base + u32(s) * S]; }
    ${push('w', n, 'nx')}
    let c = s - ${r};
    if (c >= 0) {
      out[base + u32(c) * S] = w${h} * pow(k + an * (${sumSquares(n)}), -beta);
    }
  }
}`;
    }
    return `${head}
  ${decl('t', n)} ${decl('d', h + 1)}
  let coef = V(2.0) * an * beta;
  for (var s = 0; s < C + ${n - 1}; s++) {
    var nx = V(0.0);
    if (s < C) { nx = x[base + u32(s) * S]; }
    ${push('w', n, 'nx')}
    let c = s - ${r};
    var tc = V(0.0); var dc = V(0.0);
    if (c >= 0 && c < C) {
      let D = k + an * (${sumSquares(n)});
      let e = pow(D, -beta);
      let gc = g[base + u32(c) * S];
      dc = gc * e;
      tc = gc * w${h} * e / D;
    }
    ${push('t', n, 'tc')}
    ${push('d', h + 1, 'dc')}
    let i = s - ${n - 1};
    if (i >= 0) {
      out[base + u32(i) * S] = d0 - coef * w0 * (${range(n)
        .map((i) => `t${i}`)
        .join(' + ')});
    }
  }
}`;
  },
});

export interface LrnOptions {
  /** Channels in the window (PyTorch's `size`). */
  size: number;
  /** Scale of the window's sum of squares, divided by `size` as PyTorch does (default 1e-4). */
  alpha?: number;
  /** Exponent (default 0.75). */
  beta?: number;
  /** Additive constant (default 1). */
  k?: number;
}

/**
 * Forward on real GPUs: one invocation per output element summing its own window. The channel
 * walk above leaves a GPU mostly idle (one invocation per spatial position, each a long chain of
 * dependent loads); here the window's loads are served by the cache. Words: total, C, S, alpha / n, beta, k.
 */
const lrnDirectKernel = defineKernel<{ size: number }>({
  name: 'lrn_direct',
  inputs: 1,
  outputs: 1,
  source: ({ size: n }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let C = i32(pu(1u)); let S = pu(2u);
  let c = i32((i / S) % u32(C));
  let plane = i - u32(c) * S;
  var sq = 0.0;
  for (var cc = max(c - ${Math.floor(n / 2)}, 0); cc <= min(c + ${Math.floor((n - 1) / 2)}, C - 1); cc++) {
    let v = x[plane + u32(cc) * S];
    sq += v * v;
  }
  out[i] = x[i] * pow(pf(5u) + pf(3u) * sq, -pf(4u));
}`,
});

function launch(x: Tensor, g: Tensor | null, size: number, alpha: number, beta: number, k: number): Tensor {
  const [N, C] = x.shape as [number, number];
  const S = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (g === null && getEngine().info.kernels === 'gpu') {
    const out = empty(x.shape);
    const u = new Uniforms().u32(x.size, C, S).f32(alpha / size, beta, k);
    runKernel(lrnDirectKernel, { size }, { inputs: [x], outputs: [out], uniforms: u, workgroups: grid1d(x.size, WG) });
    return out;
  }
  const vec = S % 4 === 0 ? 4 : 1;
  const positions = (N * S) / vec;
  const out = empty(x.shape);
  const u = new Uniforms().u32(positions, C, S / vec).f32(alpha / size, beta, k);
  runKernel(
    lrnKernel,
    { size, vec, backward: g !== null },
    { inputs: g ? [x, g] : [x], outputs: [out], uniforms: u, workgroups: grid1d(positions, WG) },
  );
  return out;
}

const lrnOp = defineOp({
  name: 'localResponseNorm',
  forward: (ctx: OpContext, x: Tensor, size: number, alpha: number, beta: number, k: number) => {
    ctx.save(x);
    Object.assign(ctx, { size, alpha, beta, k });
    return launch(x, null, size, alpha, beta, k);
  },
  backward: (ctx, g) => [
    launch(ctx.saved[0]!, g, ctx.size as number, ctx.alpha as number, ctx.beta as number, ctx.k as number),
  ],
});

/**
 * Local response normalisation across the channels of x [N, C, ...], as
 * torch.nn.functional.local_response_norm: b_c = a_c / (k + alpha / size * sum a_c'^2)^beta over
 * channels c - size//2 .. c + (size-1)//2 (zero outside). AlexNet's paper variant (alpha not
 * divided by n; n 5, alpha 1e-4, beta 0.75, k 2) is `{ size: 5, alpha: 5 * 1e-4, beta: 0.75, k: 2 }`.
 */
export function localResponseNorm(x: Tensor, options: LrnOptions): Tensor {
  const { size, alpha = 1e-4, beta = 0.75, k = 1 } = options;
  if (x.dtype !== 'f32' || x.rank < 3)
    throw new ShapeError(
      `localResponseNorm: x must be an f32 tensor [N, C, ...] with spatial dims, got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  // Each window position is an unrolled register; past 64 the kernel would only spill.
  if (!Number.isInteger(size) || size < 1 || size > 64)
    throw new TensorError(`localResponseNorm: size must be an integer in 1..64, got ${size}`);
  return lrnOp(x, size, alpha, beta, k);
}
