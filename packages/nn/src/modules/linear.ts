import * as T from '@spine/tensor';
import { defaultLayerInit_ } from '../init.js';
import { Module } from './module.js';
import { halfGrad, halfOperand, isAutocastEnabled, maybe } from '../amp/autocast.js';

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
    if (isAutocastEnabled())
      return halfGrad(
        withBias(
          T.matmulAutocast(x, this.param('weight'), { transB: true }),
          maybe(this.optionalParam('bias'), halfOperand),
        ),
      );
    return withBias(T.matmul(x, this.param('weight'), { transB: true }), this.optionalParam('bias'));
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.optionalParam('bias') !== null}`;
  }
}

function withBias(y: T.Tensor, b: T.Tensor | null): T.Tensor {
  if (!b) return y;
  const out = T.add(y, b);
  y.dispose();
  return out;
}
