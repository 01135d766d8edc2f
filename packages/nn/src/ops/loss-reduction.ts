// PyTorch's `reduction` argument of the losses: 'mean' (default), 'sum' or 'none'.
import * as T from '@spine/tensor';
import type { Reduction } from './norm-loss.js';

export function checkReduction(name: string, reduction: string): asserts reduction is Reduction {
  if (!['mean', 'sum', 'none'].includes(reduction))
    throw new T.TensorError(`${name}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
}

/** Reduce per-element losses; the unreduced tensor is disposed when a reduction replaces it. */
export function reduceLoss(loss: T.Tensor, reduction: Reduction): T.Tensor {
  if (reduction === 'none') return loss;
  const out = reduction === 'mean' ? T.mean(loss) : T.sum(loss);
  loss.dispose();
  return out;
}

/** Inputs of elementwise losses must have one shape (PyTorch broadcasts with a warning; a silent broadcast is usually a bug). */
export function checkSameShape(name: string, input: T.Tensor, target: T.Tensor): void {
  if (input.shape.length !== target.shape.length || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new T.ShapeError(
      `${name}: input [${input.shape.join(', ')}] and target [${target.shape.join(', ')}] must have the same shape`,
    );
  }
}
