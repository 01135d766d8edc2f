import type * as T from '@spine/tensor';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, type IntPair } from '../ops/conv-pool.js';
import { Module } from './module.js';

export interface PoolLayerOptions {
  stride?: IntPair;
  padding?: IntPair;
  ceilMode?: boolean;
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernel: IntPair,
    readonly options: PoolLayerOptions = {},
  ) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return maxPool2d(x, { kernel: this.kernel, ...this.options });
  }

  protected override extraRepr(): string {
    return `kernel_size=${JSON.stringify(this.kernel)}, stride=${JSON.stringify(this.options.stride ?? this.kernel)}, padding=${JSON.stringify(this.options.padding ?? 0)}, ceil_mode=${this.options.ceilMode ?? false}`;
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernel: IntPair,
    readonly options: PoolLayerOptions & { countIncludePad?: boolean } = {},
  ) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return avgPool2d(x, { kernel: this.kernel, ...this.options });
  }

  protected override extraRepr(): string {
    return `kernel_size=${JSON.stringify(this.kernel)}, stride=${JSON.stringify(this.options.stride ?? this.kernel)}, padding=${JSON.stringify(this.options.padding ?? 0)}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: IntPair) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  protected override extraRepr(): string {
    return `output_size=${JSON.stringify(this.outputSize)}`;
  }
}
