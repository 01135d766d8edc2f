// Normalisation layers with per-sample statistics (no running statistics, the same in training
// and eval): torch.nn.LayerNorm, GroupNorm and InstanceNorm2d, with PyTorch's parameter names
// and initialisation (weight 1, bias 0).
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { groupNorm, instanceNorm } from '../ops/group-norm.js';
import { layerNorm } from '../ops/layer-norm.js';
import { Module } from './module.js';

export interface LayerNormLayerOptions {
  eps?: number;
  /** Learn weight and bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];

  constructor(
    normalizedShape: number | readonly number[],
    readonly options: LayerNormLayerOptions = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (options.elementwiseAffine ?? true) {
      this.registerParameter('weight', T.ones(this.normalizedShape));
      this.registerParameter('bias', T.zeros(this.normalizedShape));
    }
  }

  forward(x: T.Tensor): T.Tensor {
    return layerNorm(x, this.normalizedShape, {
      weight: this.optionalParam('weight'),
      bias: this.optionalParam('bias'),
      eps: this.options.eps ?? 1e-5,
    });
  }
}

export interface GroupNormLayerOptions {
  eps?: number;
  /** Learn a per-channel weight and bias (default true). */
  affine?: boolean;
}

export class GroupNorm extends Module {
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    readonly options: GroupNormLayerOptions = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0)
      throw new NnError(`GroupNorm: ${numChannels} channels do not split into ${numGroups} groups`);
    if (options.affine ?? true) {
      this.registerParameter('weight', T.ones([numChannels]));
      this.registerParameter('bias', T.zeros([numChannels]));
    }
  }

  forward(x: T.Tensor): T.Tensor {
    if (x.shape[1] !== this.numChannels)
      throw new T.ShapeError(`GroupNorm: expected ${this.numChannels} channels, got input [${x.shape.join(', ')}]`);
    return groupNorm(x, this.numGroups, {
      weight: this.optionalParam('weight'),
      bias: this.optionalParam('bias'),
      eps: this.options.eps ?? 1e-5,
    });
  }
}

export interface InstanceNormLayerOptions {
  eps?: number;
  /** Learn a per-channel weight and bias (default false, as PyTorch). */
  affine?: boolean;
}

/** torch.nn.InstanceNorm2d with track_running_stats=False (its default): [N, C, H, W]. */
export class InstanceNorm2d extends Module {
  constructor(
    readonly numFeatures: number,
    readonly options: InstanceNormLayerOptions = {},
  ) {
    super();
    if (options.affine ?? false) {
      this.registerParameter('weight', T.ones([numFeatures]));
      this.registerParameter('bias', T.zeros([numFeatures]));
    }
  }

  forward(x: T.Tensor): T.Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures)
      throw new T.ShapeError(`InstanceNorm2d: expected [N, ${this.numFeatures}, H, W], got [${x.shape.join(', ')}]`);
    return instanceNorm(x, {
      weight: this.optionalParam('weight'),
      bias: this.optionalParam('bias'),
      eps: this.options.eps ?? 1e-5,
    });
  }
}
