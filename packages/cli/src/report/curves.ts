/** Numbers behind the report's evaluation figures, from (label, P(male)) pairs. Pure functions. */

export interface CalibrationBin {
  /** Bin bounds on P(male). */
  lower: number;
  upper: number;
  films: number;
  /** Mean predicted P(male) of the bin's films. */
  meanPredicted: number;
  /** Fraction of the bin's films that are male. */
  fractionMale: number;
}

/**
 * Reliability diagram: `bins` equal-width bins of P(male) (the last one closed at 1); empty bins
 * are left out. A calibrated model has fractionMale close to meanPredicted in every bin.
 */
export function calibrationBins(labels: ArrayLike<number>, probMale: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const n = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const male = new Array<number>(bins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const p = probMale[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    n[b]!++;
    sumP[b]! += p;
    male[b]! += labels[i] === 1 ? 1 : 0;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (n[b] === 0) continue;
    out.push({
      lower: b / bins,
      upper: (b + 1) / bins,
      films: n[b]!,
      meanPredicted: sumP[b]! / n[b]!,
      fractionMale: male[b]! / n[b]!,
    });
  }
  return out;
}

/** Expected calibration error: the film-weighted mean |fractionMale - meanPredicted| over bins. */
export function expectedCalibrationError(bins: readonly CalibrationBin[]): number {
  const total = bins.reduce((s, b) => s + b.films, 0);
  return total === 0
    ? NaN
    : bins.reduce((s, b) => s + (b.films / total) * Math.abs(b.fractionMale - b.meanPredicted), 0);
}

export interface GalleryPick<P> {
  item: P;
  correct: boolean;
  /** Probability of the predicted class. */
  confidence: number;
}

/**
 * The gallery's films: `count` correct predictions and `count` wrong ones (fewer when the test set
 * has fewer), half of each row per true sex: the most confident of each sex in turn, so a network
 * that is surest about one sex still shows the other; a sex with too few films leaves its places to
 * the other. Each row lists female films, then male, each by confidence, highest first.
 */
export function pickGallery<P extends { label: number; probMale: number }>(
  predictions: readonly P[],
  count: number,
  threshold = 0.5,
): { right: GalleryPick<P>[]; wrong: GalleryPick<P>[] } {
  const all = predictions.map((item) => {
    const predicted = item.probMale >= threshold ? 1 : 0;
    return { item, correct: predicted === item.label, confidence: predicted === 1 ? item.probMale : 1 - item.probMale };
  });
  const byConfidence = (a: GalleryPick<P>, b: GalleryPick<P>) => b.confidence - a.confidence;
  const row = (xs: GalleryPick<P>[]) => {
    const bySex = [0, 1].map((label) => xs.filter((p) => p.item.label === label).sort(byConfidence));
    const picked: GalleryPick<P>[] = [];
    for (let i = 0; picked.length < count && i < Math.max(bySex[0]!.length, bySex[1]!.length); i++) {
      // In each round the surer of the two films goes first, so an odd count favours it.
      const round = bySex.flatMap((s) => (i < s.length ? [s[i]!] : [])).sort(byConfidence);
      picked.push(...round.slice(0, count - picked.length));
    }
    return picked.sort((a, b) => a.item.label - b.item.label || byConfidence(a, b));
  };
  return { right: row(all.filter((p) => p.correct)), wrong: row(all.filter((p) => !p.correct)) };
}
