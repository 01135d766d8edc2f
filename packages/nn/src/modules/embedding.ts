import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { embedding } from '../ops/embedding.js';
import { Module } from './module.js';

export interface EmbeddingLayerOptions {
  /** A row kept at zero at initialisation that receives no gradient (e.g. a padding token). */
  paddingIdx?: number | null;
}

/** torch.nn.Embedding: weight [numEmbeddings, embeddingDim] drawn from N(0, 1), the padding row zero. */
export class Embedding extends Module {
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingLayerOptions = {},
  ) {
    super();
    const pad = options.paddingIdx ?? null;
    if (pad !== null && (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings))
      throw new NnError(
        `Embedding: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${pad}`,
      );
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + numEmbeddings : pad;
    const w = T.randn([numEmbeddings, embeddingDim]);
    if (this.paddingIdx !== null) {
      const keep = new Float32Array(numEmbeddings).fill(1);
      keep[this.paddingIdx] = 0;
      const mask = T.tensor(keep, [numEmbeddings, 1]);
      this.registerParameter(
        'weight',
        T.noGrad(() => T.where(mask, w, 0)),
      );
      w.dispose();
      mask.dispose();
    } else this.registerParameter('weight', w);
  }

  forward(indices: T.Tensor): T.Tensor {
    return embedding(indices, this.param('weight'), { paddingIdx: this.paddingIdx });
  }
}
