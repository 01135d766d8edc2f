// torch.nn.functional.group_norm and instance_norm (without running statistics): each sample's
// channels split into groups, each group normalised over its channels and positions with the
// biased variance, then a per-channel affine. Instance norm is group norm with one channel per
// group. Composed of differentiable tensor ops (layer-norm.ts's normalizeOver).
import * as T from '@spine/tensor';
import { normalizeOver } from './layer-norm.js';

export interface GroupNormOptions {
  /** Per-channel scale [C]. */
  weight?: T.Tensor | null;
  /** Per-channel shift [C]. */
  bias?: T.Tensor | null;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/** Per-channel affine of [N, C, ...] by [C] vectors. */
function channelAffine(y: T.Tensor, weight: T.Tensor | null, bias: T.Tensor | null): T.Tensor {
  const view = [y.shape[1]!, ...y.shape.slice(2).map(() => 1)];
  if (weight) y = T.mul(y, T.reshape(weight, view));
  if (bias) y = T.add(y, T.reshape(bias, view));
  return y;
}

function check(name: string, x: T.Tensor, o: GroupNormOptions, minRank: number): void {
  if (x.dtype !== 'f32' || x.rank < minRank)
    throw new T.ShapeError(
      `${name}: input must be f32 [N, C${minRank > 2 ? ', ...spatial' : ', ...'}], got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  const C = x.shape[1]!;
  for (const [key, t] of [
    ['weight', o.weight],
    ['bias', o.bias],
  ] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== C))
      throw new T.ShapeError(`${name}: ${key} must be [${C}], got [${t.shape.join(', ')}]`);
  }
  if (!((o.eps ?? 1e-5) >= 0)) throw new T.TensorError(`${name}: eps must be >= 0, got ${o.eps}`);
}

/** Group norm of [N, C, ...] in `numGroups` groups of C / numGroups channels. */
export function groupNorm(x: T.Tensor, numGroups: number, options: GroupNormOptions = {}): T.Tensor {
  check('groupNorm', x, options, 2);
  const [N, C] = x.shape as [number, number];
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0)
    throw new T.ShapeError(`groupNorm: ${C} channels do not split into ${numGroups} groups`);
  return T.scope(() => {
    const grouped = T.reshape(x, [N, numGroups, x.size / Math.max(1, N * numGroups)]);
    const y = T.reshape(normalizeOver(grouped, [2], options.eps ?? 1e-5), x.shape);
    return channelAffine(y, options.weight ?? null, options.bias ?? null);
  });
}

/** Instance norm of [N, C, ...spatial]: every (sample, channel) plane normalised on its own. */
export function instanceNorm(x: T.Tensor, options: GroupNormOptions = {}): T.Tensor {
  check('instanceNorm', x, options, 3);
  return T.scope(() => {
    const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 2);
    return channelAffine(normalizeOver(x, axes, options.eps ?? 1e-5), options.weight ?? null, options.bias ?? null);
  });
}
