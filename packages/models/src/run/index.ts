/**
 * @spine/models/run: a run's network spec, its input transform, the quick start's training
 * settings and the paper's network settings, the verdict rule, the prediction CSV and the file
 * format names. Loads no GPU code (the CLI reads it while printing --help);
 * buildModel, which builds the network, is exported by the main and browser entries.
 */
export {
  DENSENET_ARCHS,
  inputTransform,
  isDenseNetConfig,
  type DenseNetArch,
  type DenseNetModelConfig,
  type InputTransform,
  type ModelConfig,
} from './spec.js';
export { quickTrainingSettings, type TrainingSettings } from './quick-preset.js';
export {
  ALEXNET_LRN,
  PAPER_SEQCNN,
  type LrnConfig,
  type SequentialCnnConfig,
} from '../models/sequential-cnn-config.js';
export { DEFAULT_VERDICT, callFor, type Call, type Verdict } from './verdict.js';
export {
  PREDICTION_COLUMN,
  PREDICTION_HEADER,
  csvField,
  formatPredictionRow,
  type PredictionRow,
} from './prediction-csv.js';
export {
  CHECKPOINT_FORMAT,
  WEB_MODEL_FORMAT,
  WEB_MODEL_VERSION,
  webModelMetadata,
  type WebModelSource,
} from './formats.js';
