// torch.nn.functional.nll_loss: the negative log-likelihood of class indices from
// log-probabilities (logSoftmax's output), [N, C] or [N, C, d1, ...] against [N] or [N, d1, ...]:
//
//   l_i = -w[y_i] x[i, y_i]  (0, and weight 0, where y_i = ignoreIndex)
//   mean: sum_i l_i / sum_i w[y_i]     sum: sum_i l_i     none: l_i in the target's shape
//
// One kernel gathers l_i and w[y_i] per sample position; the backward scatters -w[y] g into a
// zero gradient, one invocation per input element. A target outside [0, C) that is not
// ignoreIndex is refused as PyTorch refuses it (class-targets.ts); the kernel writes NaN there.
import {
  defineKernel,
  defineOp,
  div,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  ShapeError,
  sum,
  TensorError,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';
import type { Reduction } from './norm-loss.js';
import { checkClassTargets } from './class-targets.js';
import { checkReduction } from './loss-reduction.js';

const WG = 64;

// Words: M (= N * S), C, S, ignoreIndex (i32), NaN (f32).
const gatherKernel = defineKernel<{ weighted: boolean }>({
  name: 'nll_gather',
  inputs: (o) => (o.weighted ? 3 : 2),
  outputs: 2,
  source: ({ weighted }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<i32>;
${weighted ? '@group(0) @binding(3) var<storage, read> weight: array<f32>;' : ''}
@group(0) @binding(${weighted ? 4 : 3}) var<storage, read_write> rows: array<f32>;
@group(0) @binding(${weighted ? 5 : 4}) var<storage, read_write> wy: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let C = pu(1u); let S = pu(2u);
  let t = tgt[i];
  if (t == pi(3u)) { rows[i] = 0.0; wy[i] = 0.0; return; }
  if (t < 0 || u32(t) >= C) { rows[i] = pf(4u); wy[i] = pf(4u); return; }
  let n = i / S; let s = i % S;
  let w = ${weighted ? 'weight[u32(t)]' : '1.0'};
  rows[i] = -w * x[(n * C + u32(t)) * S + s];
  wy[i] = w;
}`,
});

// Words: total (N * C * S), C, S, ignoreIndex.
const scatterKernel = defineKernel<{ weighted: boolean }>({
  name: 'nll_backward',
  inputs: (o) => (o.weighted ? 3 : 2),
  outputs: 1,
  source: ({ weighted }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> tgt: array<i32>;
${weighted ? '@group(0) @binding(3) var<storage, read> weight: array<f32>;' : ''}
@group(0) @binding(${weighted ? 4 : 3}) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let C = pu(1u); let S = pu(2u);
  let s = i % S; let c = (i / S) % C; let n = i / (S * C);
  let j = n * S + s;
  let t = tgt[j];
  dx[i] = select(0.0, -${weighted ? 'weight[c]' : '1.0'} * g[j], t == i32(c) && t != pi(3u));
}`,
});

interface GatherOptions {
  ignoreIndex: number;
  /** Set by the forward: w[y_i] per sample position, for the mean's denominator. */
  weightsOut?: Tensor;
}

const gatherOp = defineOp({
  name: 'nllLoss',
  forward: (ctx: OpContext, x: Tensor, target: Tensor, weight: Tensor | null, o: GatherOptions) => {
    const [N, C] = x.shape as [number, number];
    const S = x.size / Math.max(1, N * C);
    const rows = empty(target.shape);
    const wy = empty(target.shape);
    runKernel(
      gatherKernel,
      { weighted: weight !== null },
      {
        inputs: weight ? [x, target, weight] : [x, target],
        outputs: [rows, wy],
        uniforms: new Uniforms().u32(target.size, C, S).i32(o.ignoreIndex).f32(NaN),
        workgroups: grid1d(target.size, WG),
      },
    );
    o.weightsOut = wy;
    ctx.save(target, ...(weight ? [weight] : []));
    Object.assign(ctx, { xShape: x.shape, C, S, ignoreIndex: o.ignoreIndex });
    return rows;
  },
  backward: (ctx, g) => {
    const [target, weight] = ctx.saved as [Tensor, Tensor | undefined];
    const shape = ctx.xShape as number[];
    const dx = empty(shape);
    runKernel(
      scatterKernel,
      { weighted: weight !== undefined },
      {
        inputs: weight ? [g, target, weight] : [g, target],
        outputs: [dx],
        uniforms: new Uniforms().u32(dx.size, ctx.C as number, ctx.S as number).i32(ctx.ignoreIndex as number),
        workgroups: grid1d(dx.size, WG),
      },
    );
    return [dx, null, null];
  },
});

export interface NllLossOptions {
  /** Per-class weights [C]; the mean divides by the targets' summed weights. */
  weight?: Tensor;
  /** Target value that contributes nothing, to the loss or to the mean's denominator (default -100). */
  ignoreIndex?: number;
  /** 'mean' (default), 'sum', or 'none' (a loss per target, in the target's shape). */
  reduction?: Reduction;
}

/** Negative log-likelihood of class indices (i32) from log-probabilities, as torch.nn.functional.nll_loss. */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const { weight = null, ignoreIndex = -100, reduction = 'mean' } = options;
  checkReduction('nllLoss', reduction);
  if (input.dtype !== 'f32' || input.rank < 2)
    throw new ShapeError(
      `nllLoss: input must be f32 [N, C] or [N, C, d1, ...] (log-probabilities), got ${input.dtype} [${input.shape.join(', ')}]`,
    );
  const C = input.shape[1]!;
  const want = [input.shape[0]!, ...input.shape.slice(2)];
  if (target.dtype !== 'i32' || target.rank !== want.length || target.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(
      `nllLoss: target must be i32 [${want.join(', ')}] (class indices) for input [${input.shape.join(', ')}], got ${target.dtype} [${target.shape.join(', ')}]`,
    );
  }
  if (weight && (weight.dtype !== 'f32' || weight.rank !== 1 || weight.shape[0] !== C))
    throw new ShapeError(`nllLoss: weight must be f32 [${C}], got ${weight.dtype} [${weight.shape.join(', ')}]`);
  if (!Number.isInteger(ignoreIndex))
    throw new TensorError(`nllLoss: ignoreIndex must be an integer, got ${ignoreIndex}`);
  checkClassTargets('nllLoss', target, C, ignoreIndex);
  const o: GatherOptions = { ignoreIndex };
  const rows = gatherOp(input, target, weight, o);
  const wy = o.weightsOut!;
  if (reduction === 'none') {
    wy.dispose();
    return rows;
  }
  const total = sum(rows);
  rows.dispose();
  if (reduction === 'sum') {
    wy.dispose();
    return total;
  }
  const denominator = sum(wy);
  wy.dispose();
  const mean = div(total, denominator);
  total.dispose();
  denominator.dispose();
  return mean;
}
