import type * as T from '@spine/tensor';
import { dropout } from '../ops/norm-loss.js';
import { Module } from './module.js';

/** Inverted dropout (scaled by 1/(1-p) in training, identity in eval), seeded by the engine's generator. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return dropout(x, this.p, { training: this.training });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
