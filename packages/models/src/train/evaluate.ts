// Evaluation of a trained classifier on a loader: P(male) per film (softmax of the logits), the
// paper's confusion matrix and the usual binary metrics with a bootstrap interval, and a report
// that survives JSON (NaN, e.g. the AUC of a one-class set, becomes null).
import * as T from '@spine/tensor';
import type { Module } from '@spine/nn';
import { probabilitiesStep } from './probabilities.js';
import type { BatchSource } from './trainer.js';
import { binaryMetrics, formatConfusion, type BinaryMetrics } from '../metrics/classification.js';

export interface Prediction {
  file: string;
  /** 0 = female, 1 = male. */
  label: number;
  probMale: number;
}

export interface EvaluationReport {
  n: number;
  accuracy: number;
  /** Rows true class, columns predicted: [[FF, FM], [MF, MM]] as in the paper's tables. */
  confusion: [[number, number], [number, number]];
  sensitivityMale: number | null;
  specificityMale: number | null;
  balancedAccuracy: number | null;
  rocAuc: number | null;
  accuracyCI95: [number, number] | null;
  threshold: number;
}

export interface EvaluationResult {
  predictions: Prediction[];
  metrics: BinaryMetrics;
  report: EvaluationReport;
}

export interface EvaluateOptions {
  /** P(male) at or above which a film is called male (default 0.5, i.e. argmax). */
  threshold?: number;
  bootstrapSeed?: number;
  onBatch?(done: number, total: number): void;
}

/** Run the model over one epoch of `loader` in eval mode without autograd. */
export async function evaluate(
  model: Module,
  loader: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const threshold = options.threshold ?? 0.5;
  const wasTraining = model.training;
  model.eval();
  const predictions: Prediction[] = [];
  const total = loader.batchesPerEpoch;
  const step = probabilitiesStep(model);
  try {
    let done = 0;
    for await (const b of loader.epoch()) {
      const x = T.tensor(b.images, [...b.shape]);
      // A readback per batch is what evaluation is for; the probabilities are the output.
      const p = step.run(x);
      x.dispose();
      const probs = await p.data();
      p.dispose();
      b.files.forEach((file, i) => predictions.push({ file, label: b.labels[i]!, probMale: probs[2 * i + 1]! }));
      options.onBatch?.(++done, total);
    }
  } finally {
    step.dispose();
    model.train(wasTraining);
  }
  const metrics = binaryMetrics(
    predictions.map((p) => p.label),
    predictions.map((p) => p.probMale),
    { threshold, ...(options.bootstrapSeed !== undefined ? { bootstrapSeed: options.bootstrapSeed } : {}) },
  );
  return { predictions, metrics, report: toReport(metrics, threshold) };
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function toReport(m: BinaryMetrics, threshold = 0.5): EvaluationReport {
  const ci = m.accuracyCI95.every(Number.isFinite) ? m.accuracyCI95 : null;
  return {
    n: m.n,
    accuracy: m.accuracy,
    confusion: m.confusion,
    sensitivityMale: finiteOrNull(m.sensitivityMale),
    specificityMale: finiteOrNull(m.specificityMale),
    balancedAccuracy: finiteOrNull(m.balancedAccuracy),
    rocAuc: finiteOrNull(m.rocAuc),
    accuracyCI95: ci,
    threshold,
  };
}

/** The report as a few readable lines: the confusion matrix and the metrics. */
export function formatEvaluation(r: EvaluationReport): string {
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  return [
    formatConfusion(r.confusion),
    `accuracy           ${pct(r.accuracy)} (95% CI ${r.accuracyCI95 ? `${pct(r.accuracyCI95[0])}-${pct(r.accuracyCI95[1])}` : 'n/a'}, n = ${r.n})`,
    `sensitivity (M)    ${pct(r.sensitivityMale)}`,
    `specificity (F)    ${pct(r.specificityMale)}`,
    `balanced accuracy  ${pct(r.balancedAccuracy)}`,
    `ROC AUC            ${r.rocAuc === null ? 'n/a' : r.rocAuc.toFixed(3)}`,
  ].join('\n');
}
