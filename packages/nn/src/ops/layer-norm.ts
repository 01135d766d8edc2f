// torch.nn.functional.layer_norm: each sample normalised over its trailing dims with the biased
// variance, then an elementwise affine of those dims' shape:
//
//   y = (x - mean) / sqrt(var + eps) * weight + bias
//
// One fused op (layer-norm-kernels.ts: a kernel per row forward and for the input gradient,
// one per column for the weight and bias gradients). `normalizeOver`, the same normalisation
// composed of tensor ops with autograd's gradient, serves group and instance norm.
import * as T from '@spine/tensor';
import { layerNormFused } from './layer-norm-kernels.js';

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
    throw new T.ShapeError(
      `layerNorm: normalizedShape [${normalizedShape.join(', ')}] must be the trailing dims of the input [${x.shape.join(', ')}]`,
    );
  }
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && !same(t.shape, normalizedShape))
      throw new T.ShapeError(`layerNorm: ${name} must be [${normalizedShape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
  if (!(eps >= 0)) throw new T.TensorError(`layerNorm: eps must be >= 0, got ${eps}`);
  if (x.dtype !== 'f32') throw new T.ShapeError(`layerNorm: input must be f32, got ${x.dtype}`);
  return layerNormFused(x, weight, bias, normalizedShape, eps);
}
