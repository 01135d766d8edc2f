/**
 * Training and evaluation for @spine/models: the trainer (SGD epochs with validation, metrics
 * history, atomic best/last checkpoints, exact resume, graceful Ctrl-C, non-finite-loss stop) and
 * evaluation (predictions, the paper's confusion matrix, binary metrics, a JSON report).
 */
export * from './browser.js';
export { train } from './train-node.js';
export { writeMetricsHistory } from './history-file.js';
export { checkpointDir, readCheckpoint, readCheckpointMeta, runDirStore, saveCheckpoint } from './checkpoint.js';
export { signalStopSource, type StopSignal } from './interrupt-signals.js';
export { syncDir, writeFileAtomic } from '@spine/imaging/node';
