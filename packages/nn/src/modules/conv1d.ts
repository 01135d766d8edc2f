import * as T from '@spine/tensor';
import { defaultLayerInit_ } from '../init.js';
import { conv1d } from '../ops/conv1d.js';
import { Module } from './module.js';

export interface Conv1dLayerOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  bias?: boolean;
}

/** torch.nn.Conv1d (groups = 1): weight [out, in, K], PyTorch's default init. */
export class Conv1d extends Module {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly options: Conv1dLayerOptions = {},
  ) {
    super();
    const w = this.registerParameter('weight', T.empty([outChannels, inChannels, kernelSize]))!;
    const b = this.registerParameter('bias', options.bias === false ? null : T.empty([outChannels]));
    defaultLayerInit_(w, b);
  }

  forward(x: T.Tensor): T.Tensor {
    const { stride, padding, dilation } = this.options;
    return conv1d(x, this.param('weight'), this.optionalParam('bias'), { stride, padding, dilation });
  }
}
