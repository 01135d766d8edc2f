// torch.nn.MultiheadAttention (kdim = vdim = embedDim): the packed in_proj_weight [3E, E] and
// in_proj_bias [3E], out_proj (a Linear), PyTorch's key names and initialisation (Xavier-uniform
// in_proj_weight, zero biases), inputs [L, N, E] or [N, L, E] with batchFirst.
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { fans, uniform_ } from '../init.js';
import { attention } from '../ops/attention.js';
import { fusedAttention } from '../ops/attention-fused.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  bias?: boolean;
  /** Inputs and output are [N, L, E] instead of [L, N, E]. */
  batchFirst?: boolean;
}

export interface AttentionCallOptions {
  /** [N, S], non-zero where a key is padding (PyTorch's True): such keys get no attention. */
  keyPaddingMask?: T.Tensor | null;
  /** Additive mask [L, S] or [N * numHeads, L, S] (-Infinity masks a pair out). */
  attnMask?: T.Tensor | null;
  /** Average the returned weights over the heads (default true): [N, L, S], else [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
  /**
   * Return the attention weights (default true). Without them the attention runs as one fused
   * op that never stores the probabilities (unless attention dropout is active in training).
   */
  needWeights?: boolean;
}

export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly outProj: Linear;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    readonly options: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0)
      throw new NnError(`MultiheadAttention: embedDim ${embedDim} is not divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    const w = this.registerParameter('in_proj_weight', T.empty([3 * embedDim, embedDim]))!;
    const { fanIn, fanOut } = fans(w.shape);
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    uniform_(w, -bound, bound);
    const bias = options.bias ?? true;
    this.registerParameter('in_proj_bias', bias ? T.zeros([3 * embedDim]) : null);
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, bias));
    if (bias) T.noGrad(() => T.assign(this.outProj.param('bias'), T.zeros([embedDim])));
  }

  /** The attention output only ([L, N, E], or [N, L, E] with batchFirst), by the fused op; see forwardWithWeights. */
  forward(query: T.Tensor, key?: T.Tensor, value?: T.Tensor): T.Tensor {
    return this.forwardWithWeights(query, key ?? query, value ?? key ?? query, { needWeights: false }).output;
  }

  /** PyTorch's (attn_output, attn_output_weights) pair; weights null with needWeights false. */
  forwardWithWeights(
    query: T.Tensor,
    key: T.Tensor,
    value: T.Tensor,
    o: AttentionCallOptions = {},
  ): { output: T.Tensor; weights: T.Tensor | null } {
    const E = this.embedDim;
    const H = this.numHeads;
    const d = this.headDim;
    for (const [name, t] of [
      ['query', query],
      ['key', key],
      ['value', value],
    ] as const) {
      if (t.rank !== 3 || t.shape[2] !== E)
        throw new T.ShapeError(
          `MultiheadAttention: ${name} must be [${this.options.batchFirst ? 'N, L' : 'L, N'}, ${E}], got [${t.shape.join(', ')}]`,
        );
    }
    return T.scope(() => {
      // Work in [N, L, E].
      const [q0, k0, v0] = this.options.batchFirst
        ? [query, key, value]
        : [query, key, value].map((t) => T.transpose(t, 0, 1));
      const [N, L] = q0!.shape as [number, number];
      const S = k0!.shape[1]!;
      if (k0!.shape[0] !== N || v0!.shape[0] !== N || v0!.shape[1] !== S)
        throw new T.ShapeError(
          `MultiheadAttention: query, key and value disagree on batch or key length: [${query.shape.join(', ')}], [${key.shape.join(', ')}], [${value.shape.join(', ')}]`,
        );
      const w = this.param('in_proj_weight');
      const b = this.optionalParam('in_proj_bias');
      // Project, then split the heads: [N, len, E] -> [N, H, len, d].
      const project = (x: T.Tensor, i: number) => {
        let y = T.matmul(x, T.narrow(w, 0, i * E, E), { transB: true });
        if (b) y = T.add(y, T.narrow(b, 0, i * E, E));
        return T.permute(T.reshape(y, [N, x.shape[1]!, H, d]), [0, 2, 1, 3]);
      };
      const [q, k, v] = [project(q0!, 0), project(k0!, 1), project(v0!, 2)];
      let mask: T.Tensor | null = null;
      if (o.attnMask) {
        const m = o.attnMask;
        if (m.rank === 2 && m.shape[0] === L && m.shape[1] === S) mask = m;
        else if (m.rank === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S)
          mask = T.reshape(m, [N, H, L, S]);
        else
          throw new T.ShapeError(
            `MultiheadAttention: attnMask must be [${L}, ${S}] or [${N * H}, ${L}, ${S}], got [${m.shape.join(', ')}]`,
          );
      }
      if (o.keyPaddingMask) {
        const p = o.keyPaddingMask;
        if (p.rank !== 2 || p.shape[0] !== N || p.shape[1] !== S)
          throw new T.ShapeError(
            `MultiheadAttention: keyPaddingMask must be [${N}, ${S}], got [${p.shape.join(', ')}]`,
          );
        const additive = T.reshape(T.where(T.cast(p, 'f32'), -Infinity, 0), [N, 1, 1, S]);
        mask = mask ? T.add(mask, additive) : additive;
      }
      const dropoutP = this.options.dropout ?? 0;
      const fused = !(o.needWeights ?? true) && !(dropoutP > 0 && this.training);
      // The fused op takes a mask of [L, S] or the full [N, H, L, S].
      const full =
        mask && mask.rank === 4 && !(mask.shape[0] === N && mask.shape[1] === H && mask.shape[2] === L)
          ? T.expand(mask, [N, H, L, S])
          : mask;
      const { output, weights } = fused
        ? { output: fusedAttention(q, k, v, { attnMask: full }), weights: null }
        : attention(q, k, v, { attnMask: mask, dropoutP, training: this.training });
      const merged = T.reshape(T.permute(output, [0, 2, 1, 3]), [N, L, E]);
      const out = this.outProj.forward(merged);
      return {
        output: this.options.batchFirst ? out : T.transpose(out, 0, 1),
        weights: weights && (o.averageAttnWeights ?? true) ? T.mean(weights, 1) : weights,
      };
    });
  }
}
