/**
 * Pretrained weights: torchvision's registry, the cache folder, resumable verified downloads,
 * .pth -> safetensors conversion, inspection, and the fine-tuning helpers.
 */
export { WeightsError, isWeightsError, type WeightsErrorCode } from './errors.js';
export {
  PRETRAINED_WEIGHTS,
  PRETRAINED_NAMES,
  findPretrained,
  urlFileName,
  type PretrainedWeights,
} from './registry.js';
export { CACHE_DIR_ENV, resolveCacheDir, weightsPaths, type WeightsPaths } from './cache-dir.js';
export { downloadResumable, type DownloadOptions, type DownloadProgress, type DownloadResult } from './download.js';
export {
  fetchPretrainedWeights,
  sha256File,
  type FetchWeightsOptions,
  type FetchWeightsResult,
} from './fetch-weights.js';
export { convertToSafetensors, parameterCountOf, type ConvertResult } from './convert.js';
export {
  detectWeightsFormat,
  inspectWeightsFile,
  isBufferKey,
  readWeightsFile,
  type WeightsFile,
  type WeightsFormat,
  type WeightsSummary,
  type WeightsSummaryEntry,
} from './weights-file.js';
export {
  applyFeatureFreeze,
  featuresFrozenIn,
  loadPretrainedFeatures,
  resetClassifier,
  setFeaturesTrainable,
  unwrapModelKeys,
  type FineTunable,
  type PretrainedLoad,
} from './fine-tune.js';
