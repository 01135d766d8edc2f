// torch.nn.functional.mse_loss, l1_loss and smooth_l1_loss: a formula per element (one
// elementwise kernel, its derivative for each of input and target), then the reduction.
import { TensorError, type Tensor } from '@spine/tensor';
import type { Reduction } from './norm-loss.js';
import { checkReduction, checkSameShape, reduceLoss } from './loss-reduction.js';
import { pointwiseOp } from './pointwise.js';

const squaredError = pointwiseOp({
  name: 'mseLoss',
  forward: '(a - b) * (a - b)',
  grads: ['T(2.0) * (b - c) * a', 'T(-2.0) * (b - c) * a'],
});
const absoluteError = pointwiseOp({
  name: 'l1Loss',
  forward: 'abs(a - b)',
  grads: ['sign(b - c) * a', '-sign(b - c) * a'],
});
// Quadratic below beta, linear above; beta 0 is L1 (PyTorch switches to l1_loss there too).
const smoothL1 = pointwiseOp({
  name: 'smoothL1Loss',
  helpers: `
fn smooth_l1(d: T, beta: T) -> T { let ad = abs(d); return select(ad - T(0.5) * beta, T(0.5) * d * d / beta, ad < beta); }
fn smooth_l1_grad(d: T, beta: T) -> T { return select(sign(d), d / beta, abs(d) < beta); }`,
  forward: 'smooth_l1(a - b, T(c))',
  grads: ['a * smooth_l1_grad(b - c, T(d))', '-a * smooth_l1_grad(b - c, T(d))', null],
});

export interface RegressionLossOptions {
  /** 'mean' (default), 'sum', or 'none' (the per-element losses). */
  reduction?: Reduction;
}

/** Mean squared error, as torch.nn.functional.mse_loss (input and target of one shape). */
export function mseLoss(input: Tensor, target: Tensor, options: RegressionLossOptions = {}): Tensor {
  const { reduction = 'mean' } = options;
  checkReduction('mseLoss', reduction);
  checkSameShape('mseLoss', input, target);
  return reduceLoss(squaredError(input, target), reduction);
}

/** Mean absolute error, as torch.nn.functional.l1_loss (gradient sign(input - target), 0 where equal). */
export function l1Loss(input: Tensor, target: Tensor, options: RegressionLossOptions = {}): Tensor {
  const { reduction = 'mean' } = options;
  checkReduction('l1Loss', reduction);
  checkSameShape('l1Loss', input, target);
  return reduceLoss(absoluteError(input, target), reduction);
}

export interface SmoothL1Options extends RegressionLossOptions {
  /** Where the loss turns from quadratic to linear (default 1; 0 gives L1). */
  beta?: number;
}

/** Huber-like loss, as torch.nn.functional.smooth_l1_loss: 0.5 d² / beta below beta, |d| - 0.5 beta above. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const { reduction = 'mean', beta = 1 } = options;
  checkReduction('smoothL1Loss', reduction);
  checkSameShape('smoothL1Loss', input, target);
  if (!(beta >= 0) || !Number.isFinite(beta))
    throw new TensorError(`smoothL1Loss: beta must be a finite number >= 0, got ${beta}`);
  return reduceLoss(smoothL1(input, target, beta), reduction);
}
