// @spine/nn — neural-network layer on @spine/tensor. Browser-safe: no Node APIs here.
export { NnError } from './errors.js';
export { Module, parameter, type StateEntry, type StateSource, type LoadResult } from './modules/module.js';
export { Sequential } from './modules/sequential.js';
export { Linear } from './modules/linear.js';
export { ReLU, Flatten, Identity } from './modules/activation.js';
export * as init from './init.js';
export { LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau, type HasParamGroups, type PlateauOptions } from './optim/lr-scheduler.js';
