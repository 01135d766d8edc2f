import type * as T from '@spine/tensor';
import { interpolate, type UpsampleOptions } from '../ops/upsample.js';
import { Module } from './module.js';

/** torch.nn.Upsample for [N, C, H, W]: 'nearest' (default) or 'bilinear' (alignCorners), by size or scaleFactor. */
export class Upsample extends Module {
  constructor(readonly options: UpsampleOptions) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return interpolate(x, this.options);
  }
}
