// Scaled dot-product attention, softmax(q kᵀ · scale + mask) v, composed of the tensor's batched
// matmul, softmax and elementwise kernels (gradients by autograd). Not fused: the [L, S] score
// matrix is materialised per batch and head.
import * as T from '@spine/tensor';
import { dropout } from './dropout.js';

export interface AttentionOptions {
  /** Added to the scores: [L, S] or any shape broadcasting to [..., L, S] (-Infinity masks a pair out). */
  attnMask?: T.Tensor | null;
  /** Mask out keys after each query's position (query i sees keys 0..i). */
  isCausal?: boolean;
  /** Dropout on the attention weights (only while `training`). */
  dropoutP?: number;
  training?: boolean;
  /** Score scale (default 1 / sqrt(E)). */
  scale?: number;
}

/** An additive [L, S] mask of -Infinity above the diagonal. */
function causalMask(L: number, S: number): T.Tensor {
  const m = new Float32Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = -Infinity;
  return T.tensor(m, [L, S]);
}

/** Output and weights of attention of q [..., L, E] over k [..., S, E] and v [..., S, Ev]. */
export function attention(
  q: T.Tensor,
  k: T.Tensor,
  v: T.Tensor,
  options: AttentionOptions = {},
): { output: T.Tensor; weights: T.Tensor } {
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank)
    throw new T.ShapeError(
      `attention: q, k and v must have one rank >= 2, got [${q.shape.join(', ')}], [${k.shape.join(', ')}], [${v.shape.join(', ')}]`,
    );
  const [L, E] = q.shape.slice(-2) as [number, number];
  const [S, Ek] = k.shape.slice(-2) as [number, number];
  if (Ek !== E || v.shape.at(-2) !== S)
    throw new T.ShapeError(
      `attention: k must be [..., S, ${E}] and v [..., S, Ev] for q [${q.shape.join(', ')}], got k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`,
    );
  const { attnMask = null, isCausal = false, dropoutP = 0, training = false, scale = 1 / Math.sqrt(E) } = options;
  return T.scope(() => {
    let scores = T.mul(T.matmul(q, k, { transB: true }), scale);
    if (isCausal) scores = T.add(scores, causalMask(L, S));
    if (attnMask) scores = T.add(scores, attnMask);
    const weights = T.softmax(scores, -1);
    const used = dropoutP > 0 ? dropout(weights, dropoutP, { training }) : weights;
    return { output: T.matmul(used, v), weights };
  });
}

/** softmax(q kᵀ / sqrt(E) + mask) v, as torch.nn.functional.scaled_dot_product_attention with an additive float mask. */
export function scaledDotProductAttention(
  q: T.Tensor,
  k: T.Tensor,
  v: T.Tensor,
  options: AttentionOptions = {},
): T.Tensor {
  const { output, weights } = attention(q, k, v, options);
  weights.dispose();
  return output;
}
