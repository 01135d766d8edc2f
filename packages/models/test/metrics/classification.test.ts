import { describe, expect, it } from 'vitest';
import {
  binaryMetrics,
  bootstrapAccuracyCI,
  confusionMatrix,
  formatConfusion,
  rocAuc,
  rocCurve,
} from '../../src/metrics/classification.js';

describe('binary metrics', () => {
  it('reproduce the paper’s Table 2 confusion matrix (cervical, originals)', () => {
    // F: 506 right, 47 wrong; M: 65 wrong, 409 right (REFERENCE.md).
    const labels = [...new Array(553).fill(0), ...new Array(474).fill(1)];
    const probs = [
      ...new Array(506).fill(0.1),
      ...new Array(47).fill(0.9),
      ...new Array(65).fill(0.2),
      ...new Array(409).fill(0.8),
    ];
    const m = binaryMetrics(labels, probs);
    expect(m.confusion).toEqual([
      [506, 47],
      [65, 409],
    ]);
    expect(m.accuracy).toBeCloseTo(915 / 1027, 12);
    // The paper prints 0.889 beside this matrix; the matrix itself gives 915/1027 = 0.891.
    expect(m.accuracy.toFixed(3)).toBe('0.891');
    expect(m.sensitivityMale).toBeCloseTo(409 / 474, 12);
    expect(m.specificityMale).toBeCloseTo(506 / 553, 12);
    expect(m.balancedAccuracy).toBeCloseTo((409 / 474 + 506 / 553) / 2, 12);
    expect(m.accuracyCI95[0]).toBeLessThan(m.accuracy);
    expect(m.accuracyCI95[1]).toBeGreaterThan(m.accuracy);
    expect(m.accuracyCI95[1] - m.accuracyCI95[0]).toBeGreaterThan(0.02);
    expect(m.accuracyCI95[1] - m.accuracyCI95[0]).toBeLessThan(0.06);
  });

  it('ROC AUC equals the pairwise probability, ties counting half; curve ends at (1, 1)', () => {
    const labels = [0, 0, 1, 1, 0, 1];
    const scores = [0.1, 0.4, 0.35, 0.8, 0.5, 0.5];
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++)
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
    expect(rocAuc(labels, scores)).toBeCloseTo(wins / pairs, 12);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
    const c = rocCurve(labels, scores);
    expect(c.fpr.at(-1)).toBe(1);
    expect(c.tpr.at(-1)).toBe(1);
    expect(c.fpr.length).toBe(c.thresholds.length);
  });

  it('bootstrap is reproducible for a seed; errors name bad labels; table layout', () => {
    const correct = Array.from({ length: 200 }, (_, i) => i % 5 !== 0);
    expect(bootstrapAccuracyCI(correct, { seed: 3 })).toEqual(bootstrapAccuracyCI(correct, { seed: 3 }));
    expect(() => confusionMatrix([0, 2], [0, 1])).toThrow(/0 \(F\) or 1 \(M\)/);
    expect(
      formatConfusion([
        [546, 7],
        [2, 472],
      ]),
    ).toContain('true M       2    472');
  });
});
