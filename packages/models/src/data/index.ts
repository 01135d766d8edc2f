/**
 * The data layer of @spine/models: datasets (labels CSV or class folders, validated up front),
 * stratified seeded splits saved as split.json, the input transforms, a disk cache of
 * preprocessed films, and a worker-thread DataLoader producing CPU batches. Labels are 0 = female,
 * 1 = male everywhere.
 */
export { DatasetError, formatProblem, isDatasetError, type DatasetProblem } from './errors.js';
export { CsvSyntaxError, parseCsv, parseCsvRecords, type CsvRow, type CsvTable } from './csv.js';
export {
  CLASS_NAMES,
  DEFAULT_NUMERIC_SEX,
  FEMALE,
  MALE,
  describeSexValues,
  parseSex,
  type ClassName,
  type NumericSexCoding,
  type SexLabel,
} from './labels.js';
export { classCounts, sortRecords, type Dataset, type DatasetRecord } from './dataset.js';
export { AUTO_DECODE_LIMIT, validateDataset, type ImageCheck, type ValidateOptions } from './validate.js';
export { loadCsvDataset, type CsvDatasetOptions } from './csv-dataset.js';
export { IMAGE_EXTENSIONS, loadFolderDataset } from './folder-dataset.js';
export { walkFiles, type WalkOptions, type WalkProblem, type WalkResult } from './walk.js';
export { SeededRandom, deriveSeed, permutation } from './random.js';
export {
  DEFAULT_FRACTIONS,
  PAPER_SPLITS,
  SPLIT_NAMES,
  countClasses,
  largestRemainder,
  stratifiedSplit,
  type ClassCounts,
  type DatasetSplit,
  type SplitCounts,
  type SplitName,
  type SplitOptions,
} from './split.js';
export { SPLIT_FILE_VERSION, loadSplit, saveSplit, splitFromFile, toSplitFile, type SplitFile } from './split-file.js';
export { stableKey, stableStringify } from './stable-key.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  preprocess,
  preprocessKey,
  resolveTransform,
  toNetworkInput,
  transformKey,
  type ResizeMode,
  type ResolvedTransform,
  type TransformConfig,
} from './transform.js';
export { DEFAULT_AUGMENT, augmentImage, drawAugment, type AugmentConfig, type AugmentDraw } from './augment.js';
export { PreprocessCache, type CacheStats } from './cache.js';
export { loadNetworkInput } from './pipeline.js';
export { fileErrorReason } from './file-error.js';
export { workerScript } from './worker-script.js';
export { DataLoader, type Batch, type DataLoaderOptions, type LoaderState } from './loader.js';
