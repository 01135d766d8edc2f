/**
 * @spine/models/browser: the parts of @spine/models a web page can run. The main entry also
 * exports the data loaders (fs, worker_threads), the trainer and the weight downloads; this one
 * re-exports only code that needs nothing but WebGPU and ECMAScript: the models, Grad-CAM and its
 * pictures, the metrics, the labels, the evaluation input transform and a run's spec, verdict rule,
 * prediction CSV and file formats (run/). The names are the same
 * objects as the main entry's, so a page and `spine-cli predict` run one implementation.
 *
 * Not here: `preprocessKey`/`transformKey`/`stableKey` (they hash with node:crypto), augmentation
 * (training only), and `explainFiles` (it reads files). test/browser-entry.test.ts bundles this
 * file for the browser and checks that no Node built-in reaches the bundle.
 */
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
  binaryMetrics,
  confusionMatrix,
  rocAuc,
  rocCurve,
  bootstrapAccuracyCI,
  formatConfusion,
  type BinaryMetrics,
} from './metrics/classification.js';
export { CLASS_NAMES, FEMALE, MALE, type ClassName, type SexLabel } from './data/labels.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  preprocess,
  resolveTransform,
  toNetworkInput,
  type ResizeMode,
  type ResolvedTransform,
  type TransformConfig,
} from './data/transform.js';
export { registerCamTarget, camTargetFor, runChildren, type CamTarget } from './explain/cam-target.js';
export { gradCam, camFromActivation, type GradCamResult, type GradCamOptions } from './explain/grad-cam.js';
export { upsampleBilinear, scaleToMax, camOverlay, heatOnImage, type OverlayOptions } from './explain/heatmap.js';
export {
  CamAverager,
  classAverageOverlay,
  type ClassAverage,
  type ClassAverageFigureOptions,
} from './explain/class-average.js';
export * from './run/index.js';
export { buildModel, type RunModel } from './run/build-model.js';
export * from './train/browser.js';
export { parseCsv, CsvSyntaxError, type CsvTable } from './data/csv.js';
export { DEFAULT_NUMERIC_SEX, describeSexValues, parseSex } from './data/labels.js';
export { DatasetError, formatProblem, isDatasetError, type DatasetProblem } from './data/errors.js';
export { classCounts, sortRecords, type Dataset, type DatasetRecord } from './data/dataset.js';
export { stratifiedSplit, countClasses, type DatasetSplit, type SplitOptions } from './data/split.js';
export { toSplitFile, type SplitFile } from './data/split-json.js';
export { deriveSeed, permutation } from './data/random.js';
export { augmentImage, DEFAULT_AUGMENT, type AugmentConfig } from './data/augment.js';
export { stableStringify } from './data/stable-key.js';
export type { Batch, LoaderState } from './data/loader.js';
export { quickTrainingSettings, type TrainingSettings } from './run/quick-preset.js';
export { EVALUATION_CSV_HEADER, evaluationFiles } from './run/evaluation-files.js';
export { splitFromFile } from './data/split-json.js';
export { recordsFromLabels } from './data/csv-dataset.js';
export { datasetFromChecks, unreadableImage, type FileToCheck } from './data/validate.js';
export { IMAGE_EXTENSIONS as DATASET_IMAGE_EXTENSIONS } from './data/folder-dataset.js';
export { filmDecodeOptions } from './data/pipeline.js';
