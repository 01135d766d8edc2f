// @spine/models — models, data and training for spine-cli.
export {
  SequentialCNN,
  PAPER_SEQCNN,
  ALEXNET_LRN,
  sequentialCnnShapes,
  type SequentialCnnConfig,
  type LrnConfig,
} from './models/sequential-cnn.js';
export {
  DenseNet,
  densenet121,
  densenet169,
  densenet201,
  type DenseNetConfig,
  type DenseNetOptions,
} from './models/densenet/densenet.js';
export {
  DenseLayer,
  DenseBlock,
  Transition,
  type DenseLayerOptions,
  type DenseBlockOptions,
} from './models/densenet/blocks.js';
export { remapLegacyDenseNetKeys } from './models/densenet/legacy-keys.js';
export {
  ResNet,
  BasicBlock,
  Bottleneck,
  resnet18,
  resnet34,
  resnet50,
  type ResNetBlock,
  type ResNetConfig,
  type ResNetOptions,
} from './models/resnet.js';
export { UNet, DoubleConv, UpStage, unet, type UNetConfig } from './models/unet.js';
export {
  binaryMetrics,
  confusionMatrix,
  rocAuc,
  rocCurve,
  bootstrapCI,
  bootstrapAccuracyCI,
  bootstrapAucCI,
  formatConfusion,
  type BinaryMetrics,
} from './metrics/classification.js';
export { mcnemarTest, mcnemarFromCounts, type McNemarResult } from './metrics/mcnemar.js';
export { delongAuc, delongTest, midranks, erfc, type DeLongAuc, type DeLongComparison } from './metrics/delong.js';
export * from './data/index.js';
export * from './train/index.js';
export * from './weights/index.js';
export * from './explain/index.js';
export * from './run/index.js';
export { buildModel, type RunModel } from './run/build-model.js';
