import { SeededRandom } from '../data/random.js';

// Evaluation metrics for the binary sex classifier, in the paper's vocabulary. Labels: 0 = female,
// 1 = male. The confusion matrix uses the paper's layout: rows are the true class, columns the
// predicted class, [[FF, FM], [MF, MM]].

export interface BinaryMetrics {
  n: number;
  accuracy: number;
  /** [[true F predicted F, true F predicted M], [true M predicted F, true M predicted M]] */
  confusion: [[number, number], [number, number]];
  /** Recall of each class: female (specificity when male is "positive") and male (sensitivity). */
  sensitivityMale: number;
  specificityMale: number;
  balancedAccuracy: number;
  /** Area under the ROC curve of P(male); NaN when one class is absent. */
  rocAuc: number;
  /** 95% bootstrap percentile interval of the accuracy. */
  accuracyCI95: [number, number];
}

export function confusionMatrix(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
): [[number, number], [number, number]] {
  if (labels.length !== predicted.length)
    throw new Error(`confusionMatrix: ${labels.length} labels but ${predicted.length} predictions`);
  const m: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = predicted[i]!;
    if ((t !== 0 && t !== 1) || (p !== 0 && p !== 1))
      throw new Error(`confusionMatrix: labels must be 0 (F) or 1 (M); got ${t} / ${p} at ${i}`);
    m[t]![p]!++;
  }
  return m;
}

/**
 * ROC AUC as the Mann-Whitney statistic: the probability that a random male scores above a
 * random female, ties counting one half (average ranks).
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const idx = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Float64Array(labels.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = avg;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      pos++;
      rankSum += ranks[i]!;
    }
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** ROC curve points (false-positive rate, true-positive rate) for P(male), thresholds descending. */
export function rocCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const pos = Array.from(labels).filter((l) => l === 1).length;
  const neg = labels.length - pos;
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]!] === 1) tp++;
    else fp++;
    if (i + 1 < order.length && scores[order[i + 1]!] === scores[order[i]!]) continue;
    fpr.push(neg ? fp / neg : 0);
    tpr.push(pos ? tp / pos : 0);
    thresholds.push(scores[order[i]!]!);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Percentile bootstrap interval of a statistic of n cases: `statistic` gets the indices of one
 * resample (drawn with replacement) and returns its value; resamples where it is not finite (e.g.
 * an AUC of a resample with one class only) are left out of the percentiles.
 */
export function bootstrapCI(
  n: number,
  statistic: (indices: Uint32Array) => number,
  options: { samples?: number; seed?: number; level?: number } = {},
): [number, number] {
  if (n === 0) return [NaN, NaN];
  const samples = options.samples ?? 2000;
  const rng = new SeededRandom(options.seed ?? 12345);
  const values = new Float64Array(samples);
  const indices = new Uint32Array(n);
  let kept = 0;
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(rng.float() * n);
    const v = statistic(indices);
    if (Number.isFinite(v)) values[kept++] = v;
  }
  if (kept === 0) return [NaN, NaN];
  const sorted = values.subarray(0, kept).sort();
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const at = (q: number) => sorted[Math.min(kept - 1, Math.max(0, Math.round(q * (kept - 1))))]!;
  return [at(alpha), at(1 - alpha)];
}

/** Percentile bootstrap interval of the accuracy (resampling cases with replacement). */
export function bootstrapAccuracyCI(
  correct: ArrayLike<boolean | number>,
  options: { samples?: number; seed?: number; level?: number } = {},
): [number, number] {
  const n = correct.length;
  return bootstrapCI(
    n,
    (idx) => {
      let hits = 0;
      for (let i = 0; i < n; i++) if (correct[idx[i]!]) hits++;
      return hits / n;
    },
    options,
  );
}

/** Percentile bootstrap interval of the ROC AUC of P(male) (resampling cases; one-class resamples skipped). */
export function bootstrapAucCI(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: { samples?: number; seed?: number; level?: number } = {},
): [number, number] {
  const n = labels.length;
  const l = new Float64Array(n);
  const s = new Float64Array(n);
  return bootstrapCI(
    n,
    (idx) => {
      for (let i = 0; i < n; i++) {
        l[i] = labels[idx[i]!]!;
        s[i] = scores[idx[i]!]!;
      }
      return rocAuc(l, s);
    },
    options,
  );
}

/**
 * All metrics from true labels and P(male) (the predicted class is P >= threshold, default
 * 0.5: the argmax of two softmax outputs).
 */
export function binaryMetrics(
  labels: ArrayLike<number>,
  probMale: ArrayLike<number>,
  options: { threshold?: number; bootstrapSeed?: number } = {},
): BinaryMetrics {
  const threshold = options.threshold ?? 0.5;
  const predicted = Array.from(probMale, (p) => (p >= threshold ? 1 : 0));
  const confusion = confusionMatrix(labels, predicted);
  const [[ff, fm], [mf, mm]] = confusion;
  const n = labels.length;
  const sensitivityMale = mm + mf ? mm / (mm + mf) : NaN;
  const specificityMale = ff + fm ? ff / (ff + fm) : NaN;
  const correct = predicted.map((p, i) => p === labels[i]);
  return {
    n,
    accuracy: n ? (ff + mm) / n : NaN,
    confusion,
    sensitivityMale,
    specificityMale,
    balancedAccuracy: (sensitivityMale + specificityMale) / 2,
    rocAuc: rocAuc(labels, probMale),
    accuracyCI95: bootstrapAccuracyCI(correct, { seed: options.bootstrapSeed ?? 12345 }),
  };
}

/** The confusion matrix as the paper prints it (Tables 2-4, 6). */
export function formatConfusion(m: [[number, number], [number, number]]): string {
  const w = Math.max(6, ...m.flat().map((v) => String(v).length));
  const cell = (v: number | string) => String(v).padStart(w);
  return [
    `${''.padEnd(8)}${cell('F')} ${cell('M')}   <- predicted`,
    `true F  ${cell(m[0][0])} ${cell(m[0][1])}`,
    `true M  ${cell(m[1][0])} ${cell(m[1][1])}`,
  ].join('\n');
}
