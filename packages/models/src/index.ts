// @spine/models — models, data and training for spine-cli: everything browser-safe (browser.ts),
// and the data loaders, the trainer and the weight downloads, which need Node.
export * from './browser.js';
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
export { bootstrapCI, bootstrapAucCI } from './metrics/classification.js';
export { mcnemarTest, mcnemarFromCounts, type McNemarResult } from './metrics/mcnemar.js';
export { delongAuc, delongTest, midranks, erfc, type DeLongAuc, type DeLongComparison } from './metrics/delong.js';
export * from './data/index.js';
export * from './train/index.js';
export * from './weights/index.js';
export * from './explain/index.js';
export * from './run/index.js';
