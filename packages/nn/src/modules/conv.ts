import * as T from '@spine/tensor';
import { defaultLayerInit_ } from '../init.js';
import { conv2d, type IntPair } from '../ops/conv-pool.js';
import { Module } from './module.js';

export interface Conv2dLayerOptions {
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  bias?: boolean;
}

const pair = (v: IntPair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** torch.nn.Conv2d (groups = 1): weight [out, in, kh, kw], PyTorch's default init. */
export class Conv2d extends Module {
  readonly kernelSize: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntPair,
    readonly options: Conv2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize);
    const w = this.registerParameter('weight', T.empty([outChannels, inChannels, ...this.kernelSize]))!;
    const b = this.registerParameter('bias', options.bias === false ? null : T.empty([outChannels]));
    defaultLayerInit_(w, b);
  }

  forward(x: T.Tensor): T.Tensor {
    const { stride, padding, dilation } = this.options;
    return conv2d(x, this.param('weight'), this.optionalParam('bias'), { stride: stride ?? 1, padding: padding ?? 0, dilation: dilation ?? 1 });
  }

  protected override extraRepr(): string {
    const o = this.options;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(', ')}), stride=${JSON.stringify(o.stride ?? 1)}, padding=${JSON.stringify(o.padding ?? 0)}${o.bias === false ? ', bias=False' : ''}`;
  }
}
