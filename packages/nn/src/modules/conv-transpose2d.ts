import * as T from '@spine/tensor';
import { defaultLayerInit_ } from '../init.js';
import { convTranspose2d, type ConvTranspose2dOptions } from '../ops/conv-transpose2d.js';
import type { IntPair } from '../ops/conv-pool.js';
import { Module } from './module.js';

export interface ConvTranspose2dLayerOptions extends ConvTranspose2dOptions {
  bias?: boolean;
}

/** torch.nn.ConvTranspose2d (groups = 1): weight [in, out, kH, kW], PyTorch's default init. */
export class ConvTranspose2d extends Module {
  readonly kernelSize: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntPair,
    readonly options: ConvTranspose2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
    const w = this.registerParameter('weight', T.empty([inChannels, outChannels, ...this.kernelSize]))!;
    const b = this.registerParameter('bias', options.bias === false ? null : T.empty([outChannels]));
    defaultLayerInit_(w, b);
  }

  forward(x: T.Tensor): T.Tensor {
    const { stride, padding, outputPadding, dilation } = this.options;
    return convTranspose2d(x, this.param('weight'), this.optionalParam('bias'), {
      stride,
      padding,
      outputPadding,
      dilation,
    });
  }
}
