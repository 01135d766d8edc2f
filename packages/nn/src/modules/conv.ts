import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { defaultLayerInit_ } from '../init.js';
import { type IntPair } from '../ops/conv-pool.js';
import { autocastConv2d } from '../ops/conv2d/conv2d-autocast.js';
import { conv2dGroups } from '../ops/conv2d/conv2d-grouped.js';
import { Module } from './module.js';
import { isAutocastEnabled } from '../amp/autocast.js';

export interface Conv2dLayerOptions {
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  /** Channel groups: in and out channels split into this many parts (inChannels for depthwise). */
  groups?: number;
  bias?: boolean;
}

const pair = (v: IntPair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** torch.nn.Conv2d: weight [out, in / groups, kh, kw], PyTorch's default init. */
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
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0)
      throw new NnError(
        `Conv2d: ${inChannels} input and ${outChannels} output channels do not split into ${groups} groups`,
      );
    const w = this.registerParameter('weight', T.empty([outChannels, inChannels / groups, ...this.kernelSize]))!;
    const b = this.registerParameter('bias', options.bias === false ? null : T.empty([outChannels]));
    defaultLayerInit_(w, b);
  }

  forward(x: T.Tensor): T.Tensor {
    const { stride, padding, dilation, groups } = this.options;
    const o = { stride: stride ?? 1, padding: padding ?? 0, dilation: dilation ?? 1, groups: groups ?? 1 };
    // Under autocast the gpu family's kernels read f16 operands themselves; elsewhere they are rounded in f32.
    if (isAutocastEnabled()) return autocastConv2d(x, this.param('weight'), this.optionalParam('bias'), o);
    return conv2dGroups(x, this.param('weight'), this.optionalParam('bias'), o);
  }

  protected override extraRepr(): string {
    const o = this.options;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(', ')}), stride=${JSON.stringify(o.stride ?? 1)}, padding=${JSON.stringify(o.padding ?? 0)}${(o.groups ?? 1) > 1 ? `, groups=${o.groups}` : ''}${o.bias === false ? ', bias=False' : ''}`;
  }
}
