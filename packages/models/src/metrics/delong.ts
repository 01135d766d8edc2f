// DeLong, DeLong and Clarke-Pearson (1988): the variance of the ROC AUC (the Mann-Whitney statistic)
// and the covariance of two AUCs measured on the same cases, from each case's "structural
// components". With them two classifiers' AUCs on the same test films are compared by a z test
// that accounts for the films being shared. Components are computed from midranks as in Sun and
// Xu (2014), O(n log n); labels are 0 = female, 1 = male ("positive"), scores are P(male).

export interface DeLongAuc {
  auc: number;
  /** Standard error of the AUC (DeLong). */
  se: number;
}

export interface DeLongComparison {
  aucA: number;
  aucB: number;
  /** aucA - aucB. */
  difference: number;
  /** Standard error of the difference, from the paired covariance. */
  se: number;
  z: number;
  /** Two-sided p-value of z under the standard normal. */
  p: number;
}

/** Ranks 1..n of `values`, ties sharing their mean rank. */
export function midranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

interface Components {
  auc: number;
  /** One per positive case: the share of negatives it outscores (ties 1/2). */
  v10: Float64Array;
  /** One per negative case: the share of positives that outscore it. */
  v01: Float64Array;
}

function components(labels: ArrayLike<number>, scores: ArrayLike<number>): Components {
  if (labels.length !== scores.length) throw new Error(`delong: ${labels.length} labels but ${scores.length} scores`);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw new Error(`delong: labels must be 0 or 1; got ${l} at ${i}`);
    if (!Number.isFinite(scores[i]!)) throw new Error(`delong: score ${i} is not a finite number (${scores[i]})`);
    (l === 1 ? pos : neg).push(scores[i]!);
  }
  const m = pos.length;
  const n = neg.length;
  if (m < 2 || n < 2)
    throw new RangeError(`delong: needs at least 2 cases of each class (got ${m} positive, ${n} negative)`);
  const all = midranks([...pos, ...neg]);
  const withinPos = midranks(pos);
  const withinNeg = midranks(neg);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = (all[i]! - withinPos[i]!) / n;
    sum += v10[i]!;
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (all[m + j]! - withinNeg[j]!) / m;
  return { auc: sum / m, v10, v01 };
}

/** Sample covariance (n - 1 in the denominator). */
function covariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (n - 1);
}

/** The AUC of one classifier and its DeLong standard error. */
export function delongAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): DeLongAuc {
  const c = components(labels, scores);
  return {
    auc: c.auc,
    se: Math.sqrt(covariance(c.v10, c.v10) / c.v10.length + covariance(c.v01, c.v01) / c.v01.length),
  };
}

/** DeLong's paired test of two classifiers' AUCs on the same cases (same labels, same order). */
export function delongTest(
  labels: ArrayLike<number>,
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
): DeLongComparison {
  const a = components(labels, scoresA);
  const b = components(labels, scoresB);
  const m = a.v10.length;
  const n = a.v01.length;
  const variance =
    (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / m +
    (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / n;
  const difference = a.auc - b.auc;
  const se = Math.sqrt(Math.max(0, variance));
  // Identical rankings: no difference and no variance; the test has nothing to reject.
  const z = se > 0 ? difference / se : 0;
  return { aucA: a.auc, aucB: b.auc, difference, se, z, p: se > 0 ? erfc(Math.abs(z) / Math.SQRT2) : 1 };
}

/**
 * The complementary error function, for normal tail probabilities: erfc(x) = 2 / sqrt(pi) *
 * integral from x to infinity of exp(-t^2). Chebyshev fit of Numerical Recipes (erfcc), relative
 * error below 1.2e-7 everywhere.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
