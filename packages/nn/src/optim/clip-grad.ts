// torch.nn.utils.clip_grad_norm_ and clip_grad_value_: gradients rescaled or clamped in place,
// on the device (the clip coefficient stays a tensor, so nothing is read back).
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';

export interface ClipGradNormOptions {
  /** p of the p-norm (default 2); Infinity for the largest magnitude. */
  normType?: number;
}

const gradsOf = (params: T.Tensor | readonly T.Tensor[]) =>
  (params instanceof T.Tensor ? [params] : params).flatMap((p) => (p.grad ? [p.grad] : []));

/** The p-norm of all of `x`'s values, as a 0-d tensor. */
function pNorm(x: T.Tensor, p: number): T.Tensor {
  return T.scope(() => {
    if (p === Infinity) return T.max(T.abs(x));
    if (p === 1) return T.sum(T.abs(x));
    if (p === 2) return T.sqrt(T.sum(T.square(x)));
    return T.pow(T.sum(T.pow(T.abs(x), p)), 1 / p);
  });
}

/**
 * Scale the gradients of `params` in place so that their joint p-norm is at most `maxNorm`:
 * each is multiplied by min(1, maxNorm / (norm + 1e-6)), PyTorch's coefficient. Returns the
 * norm before clipping (a 0-d tensor; the caller owns it). Parameters without a gradient are
 * skipped; with none at all the norm is 0.
 */
export function clipGradNorm_(
  params: T.Tensor | readonly T.Tensor[],
  maxNorm: number,
  options: ClipGradNormOptions = {},
): T.Tensor {
  const p = options.normType ?? 2;
  if (!(p > 0)) throw new NnError(`clipGradNorm_: normType must be > 0 or Infinity, got ${p}`);
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm))
    throw new NnError(`clipGradNorm_: maxNorm must be a finite number >= 0, got ${maxNorm}`);
  const grads = gradsOf(params);
  if (!grads.length) return T.zeros([]);
  return T.noGrad(() =>
    T.scope(() => {
      const total = pNorm(T.stack(grads.map((g) => pNorm(g, p))), p);
      const coef = T.map('min(b / (a + T(1e-6)), T(1.0))', [total, maxNorm]);
      for (const g of grads) T.assign(g, T.mul(g, coef));
      return total;
    }),
  );
}

/** Clamp every gradient of `params` to [-clipValue, clipValue] in place. */
export function clipGradValue_(params: T.Tensor | readonly T.Tensor[], clipValue: number): void {
  if (!(clipValue >= 0)) throw new NnError(`clipGradValue_: clipValue must be >= 0, got ${clipValue}`);
  T.noGrad(() =>
    T.scope(() => {
      for (const g of gradsOf(params)) T.assign(g, T.clamp(g, -clipValue, clipValue));
    }),
  );
}
