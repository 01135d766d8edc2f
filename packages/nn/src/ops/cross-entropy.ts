// Softmax cross-entropy, fused, with torch.nn.CrossEntropyLoss's semantics (PyTorch 1.13):
//
//   logp = x - logsumexp(x)                       (max-shifted: stable for any logits)
//   nll_n = -w[y_n] logp[y_n]        smooth_n = -sum_c w[c] logp[c]     (w = 1 without weights)
//   l_n = (1 - eps) nll_n + eps / C * smooth_n
//   mean: sum_n l_n / sum_n w[y_n]    sum: sum_n l_n    none: l_n
//
// so with weights the mean divides both terms by the summed target weights, as PyTorch's
// cross_entropy_loss_label_smoothing does. Gradient:
//   dl_n/dx_c = (1 - eps) w[y] (p_c - [c = y]) + eps / C (p_c sum_k w[k] - w[c]).
// Kernels: one invocation per row (three passes over the row), a one-invocation reduction
// (batches are small), and a backward with one workgroup row per logits row so the row's
// constants are uniform loads.
import {
  defineKernel,
  defineOp,
  empty,
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
import { checkClassTargets } from './class-targets.js';
import { PLANE_INDEX, planeGrid } from './plane-grid.js';

const WG = 64;
export type Reduction = 'mean' | 'sum' | 'none';

const weightDecl = (weighted: boolean, binding: number) =>
  weighted ? `@group(0) @binding(${binding}) var<storage, read> weight: array<f32>;` : '';
const w = (weighted: boolean, i: string) => (weighted ? `weight[${i}]` : '1.0');

// Words: N, C, eps (f32), NaN (f32, for out-of-range targets; WGSL has no NaN literal).
// rows[n] = l_n; aux[n] = (logsumexp, w[y], sum_c w[c], 0).
const rowsKernel = defineKernel<{ weighted: boolean }>({
  name: 'ce_rows',
  inputs: (o) => (o.weighted ? 3 : 2),
  outputs: 2,
  source: ({ weighted }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<i32>;
${weightDecl(weighted, 3)}
@group(0) @binding(${weighted ? 4 : 3}) var<storage, read_write> rows: array<f32>;
@group(0) @binding(${weighted ? 5 : 4}) var<storage, read_write> aux: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = ${linearIndex(WG)};
  if (n >= pu(0u)) { return; }
  let C = pu(1u); let eps = pf(2u);
  let base = n * C;
  var m = -3.402823e38;
  for (var c = 0u; c < C; c++) { m = max(m, x[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < C; c++) { s += exp(x[base + c] - m); }
  let lse = m + log(s);
  var sm = 0.0; var wsum = 0.0;
  for (var c = 0u; c < C; c++) { let wc = ${w(weighted, 'c')}; sm -= wc * (x[base + c] - lse); wsum += wc; }
  let t = tgt[n];
  if (t < 0 || u32(t) >= C) {
    rows[n] = pf(3u);
    aux[n] = vec4<f32>(lse, pf(3u), wsum, 0.0);
    return;
  }
  let wy = ${w(weighted, 'u32(t)')};
  let nll = -wy * (x[base + u32(t)] - lse);
  rows[n] = (1.0 - eps) * nll + eps / f32(C) * sm;
  aux[n] = vec4<f32>(lse, wy, wsum, 0.0);
}`,
});

// Words: N. loss = sum(rows) / sum(w[y]) (mean) or sum(rows); norm = the factor applied.
const reduceKernel = defineKernel<{ mean: boolean }>({
  name: 'ce_reduce',
  inputs: 2,
  outputs: 2,
  source: ({ mean }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> rows: array<f32>;
@group(0) @binding(2) var<storage, read> aux: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> norm: array<f32>;
@compute @workgroup_size(1)
fn main() {
  var s = 0.0; var ws = 0.0;
  for (var n = 0u; n < pu(0u); n++) { s += rows[n]; ws += aux[n].y; }
  let f = ${mean ? '1.0 / ws' : '1.0'};
  loss[0] = s * f;
  norm[0] = f;
}`,
});

// Words: N, C, eps (f32). Per-row scale: g[0] * norm[0] (mean, sum) or g[n] (none).
const backwardKernel = defineKernel<{ weighted: boolean; perRow: boolean }>({
  name: 'ce_backward',
  inputs: (o) => (o.weighted ? 6 : 5),
  outputs: 1,
  source: ({ weighted, perRow }) => {
    const b = weighted ? 1 : 0;
    return `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<i32>;
${weightDecl(weighted, 3)}
@group(0) @binding(${3 + b}) var<storage, read> aux: array<vec4<f32>>;
@group(0) @binding(${4 + b}) var<storage, read> g: array<f32>;
@group(0) @binding(${5 + b}) var<storage, read> norm: array<f32>;
@group(0) @binding(${6 + b}) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = ${PLANE_INDEX};
  let C = pu(1u);
  let c = wid.x * ${WG}u + lid;
  if (n >= pu(0u) || c >= C) { return; }
  let eps = pf(2u);
  let a = aux[n];
  let scale = ${perRow ? 'g[n]' : 'g[0] * norm[0]'};
  let p = exp(x[n * C + c] - a.x);
  let hot = select(0.0, 1.0, i32(c) == tgt[n]);
  dx[n * C + c] = scale * ((1.0 - eps) * a.y * (p - hot) + eps / f32(C) * (p * a.z - ${w(weighted, 'c')}));
}`;
  },
});

interface CeOptions {
  reduction: Reduction;
  labelSmoothing: number;
}

const crossEntropyOp = defineOp({
  name: 'softmaxCrossEntropy',
  forward: (ctx: OpContext, logits: Tensor, targets: Tensor, weight: Tensor | null, o: CeOptions) => {
    const [N, C] = logits.shape as [number, number];
    const rows = empty([N]);
    const aux = empty([N, 4]);
    const inputs = weight ? [logits, targets, weight] : [logits, targets];
    runKernel(
      rowsKernel,
      { weighted: weight !== null },
      {
        inputs,
        outputs: [rows, aux],
        uniforms: new Uniforms().u32(N, C).f32(o.labelSmoothing, NaN),
        workgroups: grid1d(N, WG),
      },
    );
    ctx.save(logits, targets, aux, ...(weight ? [weight] : []));
    let out = rows;
    if (o.reduction !== 'none') {
      out = empty([]);
      const norm = empty([1]);
      runKernel(
        reduceKernel,
        { mean: o.reduction === 'mean' },
        { inputs: [rows, aux], outputs: [out, norm], uniforms: new Uniforms().u32(N), workgroups: [1] },
      );
      ctx.save(norm);
      norm.dispose();
      rows.dispose();
    }
    aux.dispose();
    Object.assign(ctx, { o, weighted: weight !== null });
    return out;
  },
  backward: (ctx, g) => {
    const o = ctx.o as CeOptions;
    const weighted = ctx.weighted as boolean;
    const [logits, targets, aux] = ctx.saved as [Tensor, Tensor, Tensor];
    const weight = weighted ? ctx.saved[3]! : null;
    const perRow = o.reduction === 'none';
    // 'none' has no norm: bind g in its place (the kernel does not read it).
    const norm = perRow ? g : ctx.saved[weighted ? 4 : 3]!;
    const [N, C] = logits.shape as [number, number];
    const dx = empty(logits.shape);
    const inputs = [logits, targets, ...(weight ? [weight] : []), aux, g, norm];
    runKernel(
      backwardKernel,
      { weighted, perRow },
      {
        inputs,
        outputs: [dx],
        uniforms: new Uniforms().u32(N, C).f32(o.labelSmoothing),
        workgroups: planeGrid(N, C, WG),
      },
    );
    return [dx, null, null];
  },
});

export interface CrossEntropyOptions {
  /** Per-class weights [C] (e.g. to balance the sexes); the mean divides by the targets' summed weights. */
  weight?: Tensor;
  /** PyTorch's label_smoothing in [0, 1] (default 0). */
  labelSmoothing?: number;
  /** 'mean' (default), 'sum', or 'none' (a loss per sample, [N]). */
  reduction?: Reduction;
}

/**
 * Cross-entropy of softmax(logits [N, C]) against class indices targets (i32 [N]), as
 * torch.nn.functional.cross_entropy with optional class weights and label smoothing.
 * Differentiable in the logits. A target outside [0, C) is an error, as in PyTorch: thrown
 * here when the targets' values are on the host (made from host values or read since), else
 * by the next read of any tensor (the loss then holds NaN, never an out-of-bounds read).
 */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { weight = null, labelSmoothing = 0, reduction = 'mean' } = options;
  if (logits.dtype !== 'f32' || logits.rank !== 2)
    throw new ShapeError(
      `softmaxCrossEntropy: logits must be f32 [N, C], got ${logits.dtype} [${logits.shape.join(', ')}]`,
    );
  const [N, C] = logits.shape as [number, number];
  if (targets.dtype !== 'i32' || targets.rank !== 1 || targets.shape[0] !== N)
    throw new ShapeError(
      `softmaxCrossEntropy: targets must be i32 [${N}] (class indices), got ${targets.dtype} [${targets.shape.join(', ')}]`,
    );
  if (weight && (weight.dtype !== 'f32' || weight.rank !== 1 || weight.shape[0] !== C))
    throw new ShapeError(
      `softmaxCrossEntropy: weight must be f32 [${C}], got ${weight.dtype} [${weight.shape.join(', ')}]`,
    );
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new TensorError(`softmaxCrossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  if (!['mean', 'sum', 'none'].includes(reduction))
    throw new TensorError(`softmaxCrossEntropy: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  if (N > 0) checkClassTargets('softmaxCrossEntropy', targets, C, null);
  return crossEntropyOp(logits, targets, weight, { reduction, labelSmoothing });
}
