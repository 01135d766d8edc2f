// Public entry for the normalisation, regularisation, loss and optimizer-update ops.
export { batchNorm2d, batchNormRelu, type BatchNormOptions } from './batchnorm.js';
export { batchNormReluConv1x1, batchNormReluConv2d, type FusionOptions } from './bn-relu-conv.js';
export { localResponseNorm, type LrnOptions } from './lrn.js';
export { dropout, type DropoutOptions } from './dropout.js';
export { softmaxCrossEntropy, type CrossEntropyOptions, type Reduction } from './cross-entropy.js';
export { MomentumArena, sgdStep, type SgdOptions } from './sgd.js';
