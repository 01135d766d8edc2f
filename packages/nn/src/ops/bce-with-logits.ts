// torch.nn.functional.binary_cross_entropy_with_logits, in PyTorch's stable form:
//
//   l = (1 - y) x + (1 + (pw - 1) y) softplus(-x),   softplus(-x) = m + log(e^-m + e^(-x-m)), m = max(-x, 0)
//   dl/dx = (1 + (pw - 1) y) sigmoid(x) - pw y       dl/dy = (pw - 1) softplus(-x) - x
//
// pos_weight pw broadcasts against the input's trailing dims (one weight per class); the
// per-element `weight` rescales l. Both are differentiable too, as in PyTorch.
import { mul, ShapeError, type Tensor } from '@spine/tensor';
import type { Reduction } from './norm-loss.js';
import { checkReduction, checkSameShape, reduceLoss } from './loss-reduction.js';
import { pointwiseOp } from './pointwise.js';

const SOFTPLUS_NEG = `
fn softplus_neg(x: T) -> T { let m = max(-x, T(0.0)); return m + log(exp(-m) + exp(-x - m)); }`;

const bce = pointwiseOp({
  name: 'binaryCrossEntropyWithLogits',
  helpers: SOFTPLUS_NEG,
  forward: '(T(1.0) - b) * a + (T(1.0) + (T(c) - T(1.0)) * b) * softplus_neg(a)',
  grads: [
    'a * ((T(1.0) + (T(d) - T(1.0)) * c) / (T(1.0) + exp(-b)) - T(d) * c)',
    'a * ((T(d) - T(1.0)) * softplus_neg(b) - b)',
    'a * c * softplus_neg(b)',
  ],
});

export interface BceWithLogitsOptions {
  /** Weight of the positive term, broadcast against the input's trailing dims (e.g. [C]). */
  posWeight?: Tensor;
  /** Rescaling of each element's loss, broadcast against the input. */
  weight?: Tensor;
  /** 'mean' (default), 'sum', or 'none'. */
  reduction?: Reduction;
}

const broadcastsTo = (t: Tensor, shape: readonly number[]) =>
  t.rank <= shape.length && t.shape.every((d, i) => d === 1 || d === shape[shape.length - t.rank + i]);

/** Binary cross-entropy of sigmoid(input) against targets in [0, 1], from the logits (stable for any logit). */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: BceWithLogitsOptions = {},
): Tensor {
  const { posWeight, weight, reduction = 'mean' } = options;
  const name = 'binaryCrossEntropyWithLogits';
  checkReduction(name, reduction);
  checkSameShape(name, input, target);
  for (const [key, t] of [
    ['posWeight', posWeight],
    ['weight', weight],
  ] as const) {
    if (t && (t.dtype !== 'f32' || !broadcastsTo(t, input.shape)))
      throw new ShapeError(
        `${name}: ${key} [${t.shape.join(', ')}] does not broadcast to the input [${input.shape.join(', ')}]`,
      );
  }
  let loss = bce(input, target, posWeight ?? 1);
  if (weight) {
    const weighted = mul(loss, weight);
    loss.dispose();
    loss = weighted;
  }
  return reduceLoss(loss, reduction);
}
