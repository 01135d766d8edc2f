// The metrics history of a run: one JSON object per completed epoch in RUN/metrics.jsonl. The
// checkpoint sidecar carries the same list, and the file is rewritten atomically from it after
// every epoch, so after a crash or a resume metrics.jsonl never lists an epoch the weights on
// disk have not seen, and never lists one twice.

export interface EpochMetrics {
  /** 1-based epoch number. */
  epoch: number;
  /** Learning rate of the first parameter group during this epoch (all groups in `lrs`). */
  lr: number;
  lrs: number[];
  /** Mean training loss over the epoch's images (each batch's mean loss weighted by its size). */
  trainLoss: number;
  trainAccuracy: number;
  /** Absent when the run has no validation loader. */
  valLoss?: number;
  valAccuracy?: number;
  trainImages: number;
  valImages?: number;
  /** Training images per second (forward, backward and update; validation excluded). */
  imagesPerSecond: number;
  /** Wall time of the epoch in seconds, validation included. */
  seconds: number;
}

export const METRICS_FILE = 'metrics.jsonl';

/** metrics.jsonl's text: one line per epoch. */
export function metricsJsonl(history: readonly EpochMetrics[]): string {
  return history.map((m) => JSON.stringify(m) + '\n').join('');
}
