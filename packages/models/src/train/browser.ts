// The browser-safe part of training: the loop over a RunStore, checkpoints as data, an in-memory
// store, the metrics history, stop requests and evaluation.
export { TrainingError, isTrainingError, type TrainingErrorCode } from './errors.js';
export {
  trainInStore,
  type BatchProgress,
  type BatchSource,
  type Scheduler,
  type StoreTrainOptions,
  type TrainCommonOptions,
  type TrainHooks,
  type TrainOptions,
  type TrainResult,
} from './trainer.js';
export { METRICS_FILE, metricsJsonl, type EpochMetrics } from './history.js';
export {
  CHECKPOINT_VERSION,
  applyCheckpointTensors,
  checkpointFromTensors,
  checkpointMeta,
  checkpointTensorsName,
  collectCheckpointTensors,
  parseCheckpointMeta,
  type CheckpointMeta,
  type CheckpointName,
  type LoadedCheckpoint,
  type PartialEpoch,
  type RunStore,
  type SaveInput,
} from './checkpoint-format.js';
export { StopRequest, type StopSource } from './interrupt.js';
export {
  evaluate,
  formatEvaluation,
  toReport,
  type EvaluateOptions,
  type EvaluationReport,
  type EvaluationResult,
  type Prediction,
} from './evaluate.js';
export { probabilitiesStep, type ProbabilitiesStep } from './probabilities.js';
export { CHECKPOINTS_FOLDER, MemoryRunStore, type MemoryRunStoreOptions } from './memory-store.js';
export { MemoryLoader, type MemoryLoaderOptions } from './memory-loader.js';
