import * as T from '@spine/tensor';
import { defaultLayerInit_ } from '../init.js';
import { Module } from './module.js';

/** y = x Wᵀ + b with W [out, in] (PyTorch's layout and default init). */
export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    const w = this.registerParameter('weight', T.empty([outFeatures, inFeatures]))!;
    const b = this.registerParameter('bias', bias ? T.empty([outFeatures]) : null);
    defaultLayerInit_(w, b);
  }

  forward(x: T.Tensor): T.Tensor {
    const y = T.matmul(x, this.param('weight'), { transB: true });
    const b = this.optionalParam('bias');
    if (!b) return y;
    const out = T.add(y, b);
    y.dispose();
    return out;
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.optionalParam('bias') !== null}`;
  }
}
