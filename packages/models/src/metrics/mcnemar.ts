// McNemar's test for two classifiers scored on the same cases: only the discordant cases count,
// b (A right, B wrong) and c (A wrong, B right). Under the null hypothesis of equal accuracy each
// discordant case falls either way with probability 1/2, so min(b, c) ~ Binomial(b + c, 1/2).
// The exact test doubles that binomial tail; the mid-p version counts the observed value half,
// which keeps the exact test's validity in practice while losing its conservatism (Fagerland,
// Lydersen and Laake 2013 recommend it over both the exact and the chi-squared forms).

export interface McNemarResult {
  /** Cases A got right and B got wrong. */
  b: number;
  /** Cases A got wrong and B got right. */
  c: number;
  /** Cases both got right / both got wrong (not used by the test, reported for the table). */
  bothRight: number;
  bothWrong: number;
  /** Two-sided exact binomial p-value, capped at 1. */
  exactP: number;
  /** Two-sided mid-p value. */
  midP: number;
}

/** P(X = k) for X ~ Binomial(n, 1/2), through the log of the binomial coefficient (no overflow for large n). */
function halfBinomialPmf(n: number, k: number): number {
  let logC = 0;
  const kk = Math.min(k, n - k);
  for (let i = 1; i <= kk; i++) logC += Math.log(n - kk + i) - Math.log(i);
  return Math.exp(logC - n * Math.LN2);
}

/** McNemar's test from the discordant counts. */
export function mcnemarFromCounts(b: number, c: number, bothRight = 0, bothWrong = 0): McNemarResult {
  for (const [name, v] of [
    ['b', b],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`mcnemar: ${name} must be a non-negative integer, got ${v}`);
  }
  const n = b + c;
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += halfBinomialPmf(n, i);
  const atK = halfBinomialPmf(n, k);
  // b === c: the two tails meet at k and both p-values come out as exactly 1.
  const exactP = n === 0 ? 1 : Math.min(1, 2 * tail);
  const midP = n === 0 ? 1 : Math.min(1, 2 * tail - atK);
  return { b, c, bothRight, bothWrong, exactP, midP };
}

/** McNemar's test of two classifiers from whether each got each case right (same cases, same order). */
export function mcnemarTest(correctA: ArrayLike<boolean>, correctB: ArrayLike<boolean>): McNemarResult {
  if (correctA.length !== correctB.length)
    throw new Error(`mcnemar: ${correctA.length} cases for A but ${correctB.length} for B`);
  let b = 0;
  let c = 0;
  let bothRight = 0;
  let bothWrong = 0;
  for (let i = 0; i < correctA.length; i++) {
    const a = correctA[i]!;
    const bb = correctB[i]!;
    if (a && !bb) b++;
    else if (!a && bb) c++;
    else if (a) bothRight++;
    else bothWrong++;
  }
  return mcnemarFromCounts(b, c, bothRight, bothWrong);
}
