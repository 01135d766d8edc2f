// Soft Dice loss for segmentation (as MONAI's DiceLoss with its defaults: no activation,
// per sample and channel, the same smoothing in numerator and denominator):
//
//   loss[n, c] = 1 - (2 sum_s p t + smooth) / (sum_s p + sum_s t + smooth)
//
// over the spatial positions s, then the reduction over [N, C]. Composed of differentiable
// tensor ops, so the gradient is autograd's.
import * as T from '@spine/tensor';
import type { Reduction } from './norm-loss.js';
import { checkReduction, checkSameShape, reduceLoss } from './loss-reduction.js';

export interface DiceLossOptions {
  /** Added to numerator and denominator: an empty prediction of an empty mask scores 0, not NaN (default 1e-5). */
  smooth?: number;
  /** 'mean' (default) or 'sum' over samples and channels, or 'none' ([N, C]). */
  reduction?: Reduction;
}

/** Dice loss of probabilities `input` (after sigmoid or softmax) against masks `target` in [0, 1], both [N, C, ...spatial]. */
export function diceLoss(input: T.Tensor, target: T.Tensor, options: DiceLossOptions = {}): T.Tensor {
  const { smooth = 1e-5, reduction = 'mean' } = options;
  checkReduction('diceLoss', reduction);
  checkSameShape('diceLoss', input, target);
  if (input.rank < 3)
    throw new T.ShapeError(`diceLoss: input must be [N, C, ...spatial], got [${input.shape.join(', ')}]`);
  if (!(smooth >= 0) || !Number.isFinite(smooth))
    throw new T.TensorError(`diceLoss: smooth must be a finite number >= 0, got ${smooth}`);
  const spatial = Array.from({ length: input.rank - 2 }, (_, i) => i + 2);
  const loss = T.scope(() => {
    const intersection = T.sum(T.mul(input, target), spatial);
    const cardinality = T.add(T.sum(input, spatial), T.sum(target, spatial));
    return T.sub(1, T.div(T.add(T.mul(intersection, 2), smooth), T.add(cardinality, smooth)));
  });
  return reduceLoss(loss, reduction);
}
