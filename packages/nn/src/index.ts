// @spine/nn — neural-network layer on @spine/tensor. Browser-safe: no Node APIs here.
export { NnError } from './errors.js';
export { Module, parameter, type StateEntry, type StateSource, type LoadResult } from './modules/module.js';
export { Sequential } from './modules/sequential.js';
export { Linear } from './modules/linear.js';
export { ReLU, Flatten, Identity } from './modules/activation.js';
export * as init from './init.js';
export { SGD, type ParamGroup, type ParamGroupSpec, type SgdState } from './optim/sgd.js';
export { LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau, type HasParamGroups, type PlateauOptions } from './optim/lr-scheduler.js';
export { Conv2d, type Conv2dLayerOptions } from './modules/conv.js';
export { BatchNorm2d, LocalResponseNorm, type BatchNormLayerOptions } from './modules/norm.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type PoolLayerOptions } from './modules/pooling.js';
export { Dropout } from './modules/dropout.js';
export { DenseLayer, DenseBlock, Transition, type DenseLayerOptions, type DenseBlockOptions } from './modules/densenet-blocks.js';
export { denseBottleneckCheckpoint, type BottleneckParams } from './checkpoint.js';
export * from './ops/conv-pool.js';
export * from './ops/norm-loss.js';
export * from './serialization/index.js';
