/**
 * Training and evaluation for @spine/models: the trainer (SGD epochs with validation, metrics
 * history, atomic best/last checkpoints, exact resume, graceful Ctrl-C, non-finite-loss stop) and
 * evaluation (predictions, the paper's confusion matrix, binary metrics, a JSON report).
 */
export { TrainingError, isTrainingError, type TrainingErrorCode } from './errors.js';
export {
  train,
  type BatchProgress,
  type Scheduler,
  type TrainHooks,
  type TrainOptions,
  type TrainResult,
} from './trainer.js';
export { METRICS_FILE, writeMetricsHistory, type EpochMetrics } from './history.js';
export {
  CHECKPOINT_VERSION,
  applyCheckpointTensors,
  checkpointDir,
  readCheckpoint,
  readCheckpointMeta,
  saveCheckpoint,
  type CheckpointMeta,
  type CheckpointName,
  type LoadedCheckpoint,
  type PartialEpoch,
  type SaveInput,
} from './checkpoint.js';
export { StopRequest, type StopSignal } from './interrupt.js';
export {
  evaluate,
  formatEvaluation,
  toReport,
  type EvaluateOptions,
  type EvaluationReport,
  type EvaluationResult,
  type Prediction,
} from './evaluate.js';
export { syncDir, writeFileAtomic } from '@spine/imaging/node';
