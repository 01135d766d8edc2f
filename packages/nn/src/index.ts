// @spine/nn — neural-network layer on @spine/tensor. Browser-safe: no Node APIs here.
export { NnError } from './errors.js';
export { Module, parameter, type StateEntry, type StateSource, type LoadResult } from './modules/module.js';
export { Sequential } from './modules/sequential.js';
export { Linear } from './modules/linear.js';
export { ShardedLinear, shardRows, DEFAULT_SHARD_BYTES, type ShardedLinearOptions } from './modules/linear-sharded.js';
export type { StateGroup } from './modules/state-groups.js';
export {
  ReLU,
  Flatten,
  Identity,
  LeakyReLU,
  ELU,
  GELU,
  SiLU,
  Hardswish,
  Sigmoid,
  Tanh,
  Softmax,
  LogSoftmax,
} from './modules/activation.js';
export * as init from './init.js';
export { SGD, type ParamGroup, type ParamGroupSpec, type SgdState } from './optim/sgd.js';
export {
  Optimizer,
  type OptimizerStateDict,
  type ParamState,
  type GroupOf,
  type GroupSpec,
} from './optim/optimizer.js';
export { Adam, AdamW, type AdamOptions, type AdamGroupSpec } from './optim/adam.js';
export { RMSprop, type RmspropOptions, type RmspropGroupSpec } from './optim/rmsprop.js';
export { clipGradNorm_, clipGradValue_, type ClipGradNormOptions } from './optim/clip-grad.js';
export { LinearLR, type LinearLROptions } from './optim/linear-lr.js';
export { OneCycleLR, type OneCycleOptions, type HasMomentumGroups } from './optim/one-cycle-lr.js';
export { SequentialLR } from './optim/sequential-lr.js';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  ReduceLROnPlateau,
  type HasParamGroups,
  type PlateauOptions,
} from './optim/lr-scheduler.js';
export { Conv2d, type Conv2dLayerOptions } from './modules/conv.js';
export { Conv1d, type Conv1dLayerOptions } from './modules/conv1d.js';
export { Embedding, type EmbeddingLayerOptions } from './modules/embedding.js';
export { Upsample } from './modules/upsample.js';
export { ConvTranspose2d, type ConvTranspose2dLayerOptions } from './modules/conv-transpose2d.js';
export {
  MultiheadAttention,
  type MultiheadAttentionOptions,
  type AttentionCallOptions,
} from './modules/multihead-attention.js';
export { BatchNorm2d, LocalResponseNorm, type BatchNormLayerOptions } from './modules/norm.js';
export { BatchNorm1d } from './modules/batchnorm1d.js';
export {
  LayerNorm,
  GroupNorm,
  InstanceNorm2d,
  type LayerNormLayerOptions,
  type GroupNormLayerOptions,
  type InstanceNormLayerOptions,
} from './modules/sample-norm.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type PoolLayerOptions } from './modules/pooling.js';
export { Dropout } from './modules/dropout.js';
export { concatBatchNormReluConv1x1Recomputed, type BatchNormReluConv1x1Params } from './ops/recompute-bn-relu-conv.js';
export * from './ops/conv-pool.js';
export * from './ops/norm-loss.js';
export { leakyRelu, elu, gelu, silu, hardswish } from './ops/activations.js';
export { pointwiseOp, type PointwiseSpec } from './ops/pointwise.js';
export {
  mseLoss,
  l1Loss,
  smoothL1Loss,
  type RegressionLossOptions,
  type SmoothL1Options,
} from './ops/regression-losses.js';
export { binaryCrossEntropyWithLogits, type BceWithLogitsOptions } from './ops/bce-with-logits.js';
export { nllLoss, type NllLossOptions } from './ops/nll-loss.js';
export { diceLoss, type DiceLossOptions } from './ops/dice-loss.js';
export { layerNorm, type LayerNormOptions } from './ops/layer-norm.js';
export { groupNorm, instanceNorm, type GroupNormOptions } from './ops/group-norm.js';
export { conv1d, type Conv1dOptions } from './ops/conv1d.js';
export { embedding, type EmbeddingOptions } from './ops/embedding.js';
export { interpolate, type UpsampleOptions, type UpsampleMode } from './ops/upsample.js';
export { convTranspose2d, type ConvTranspose2dOptions } from './ops/conv-transpose2d.js';
export { conv2dGroups, type GroupedConv2dOptions } from './ops/conv2d/conv2d-grouped.js';
export { convSubgroupMatrixStatus } from './ops/conv2d/conv2d-subgroup-matrix.js';
// Registers the ready() check that routes autocast convolutions to subgroup matrices.
import './ops/conv2d/conv2d-subgroup-matrix-check.js';
export { attention, scaledDotProductAttention, type AttentionOptions } from './ops/attention.js';
export { fusedAttention, type FusedAttentionOptions } from './ops/attention-fused.js';
export * from './serialization/index.js';
export { autocast, isAutocastEnabled, halfOperand, halfGrad } from './amp/autocast.js';
export {
  GradScaler,
  type GradScalerOptions,
  type GradScalerState,
  type ScaledOptimizer,
} from './amp/grad-scaler.js';
