// torch.nn.functional.layer_norm: each sample normalised over its trailing dims with the biased
// variance, then an elementwise affine of those dims' shape:
//
//   y = (x - mean) / sqrt(var + eps) * weight + bias
//
// Composed of differentiable tensor ops (reductions and elementwise kernels), so the gradient
// is autograd's; group and instance norm reuse `normalizeOver`.
import * as T from '@spine/tensor';

/** (x - mean) / sqrt(var + eps) over `axes` (biased variance), differentiable. */
export function normalizeOver(x: T.Tensor, axes: number[], eps: number): T.Tensor {
  return T.scope(() => {
    const centred = T.sub(x, T.mean(x, axes, true));
    return T.mul(centred, T.rsqrt(T.add(T.mean(T.square(centred), axes, true), eps)));
  });
}

export interface LayerNormOptions {
  weight?: T.Tensor | null;
  bias?: T.Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Layer norm of `x` over its trailing dims `normalizedShape`, as torch.nn.functional.layer_norm. */
export function layerNorm(x: T.Tensor, normalizedShape: readonly number[], options: LayerNormOptions = {}): T.Tensor {
  const { weight = null, bias = null, eps = 1e-5 } = options;
  const k = normalizedShape.length;
  if (!k || k > x.rank || !same(x.shape.slice(x.rank - k), normalizedShape)) {
    throw new T.ShapeError(`layerNorm: normalizedShape [${normalizedShape.join(', ')}] must be the trailing dims of the input [${x.shape.join(', ')}]`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && !same(t.shape, normalizedShape)) throw new T.ShapeError(`layerNorm: ${name} must be [${normalizedShape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
  if (!(eps >= 0)) throw new T.TensorError(`layerNorm: eps must be >= 0, got ${eps}`);
  return T.scope(() => {
    let y = normalizeOver(x, Array.from({ length: k }, (_, i) => x.rank - k + i), eps);
    if (weight) y = T.mul(y, weight);
    if (bias) y = T.add(y, bias);
    return y;
  });
}
