import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootstrapAccuracyCI, bootstrapAucCI, rocAuc } from '../../src/metrics/classification.js';
import { delongAuc, delongTest, erfc, midranks } from '../../src/metrics/delong.js';
import { mcnemarFromCounts, mcnemarTest } from '../../src/metrics/mcnemar.js';

// From scripts/paired_tests_goldens.py: exact binomial fractions for McNemar; DeLong from the
// pairwise kernel over every positive-negative pair (not midranks) and math.erfc.
interface Goldens {
  mcnemar: { b: number; c: number; exactP: number; midP: number }[];
  delong: {
    labels: number[];
    a: number[];
    b: number[];
    aucA: number;
    aucB: number;
    seA: number;
    se: number;
    z: number;
    p: number;
  }[];
}
const goldens = JSON.parse(readFileSync(new URL('./paired-tests-goldens.json', import.meta.url), 'utf8')) as Goldens;

describe('McNemar', () => {
  it('matches exact binomial tails (b=2, c=8: 2 * (1 + 10 + 45) / 1024 = 0.109375; mid-p 67/1024)', () => {
    const byHand = mcnemarFromCounts(2, 8);
    expect(byHand.exactP).toBeCloseTo(0.109375, 14);
    expect(byHand.midP).toBeCloseTo(67 / 1024, 14);
    for (const g of goldens.mcnemar) {
      const r = mcnemarFromCounts(g.b, g.c);
      expect(r.exactP, `b=${g.b} c=${g.c}`).toBeCloseTo(g.exactP, 12);
      expect(r.midP, `b=${g.b} c=${g.c}`).toBeCloseTo(g.midP, 12);
    }
  });

  it('counts discordant cases from per-case correctness, in both directions', () => {
    const a = [true, true, true, false, false, true, false];
    const b = [true, false, false, true, false, true, false];
    expect(mcnemarTest(a, b)).toMatchObject({ b: 2, c: 1, bothRight: 2, bothWrong: 2 });
    expect(mcnemarTest(b, a)).toMatchObject({ b: 1, c: 2, exactP: 1 });
    expect(() => mcnemarTest([true], [true, false])).toThrow(/1 cases for A but 2 for B/);
    expect(() => mcnemarFromCounts(-1, 2)).toThrow(/b must be a non-negative integer/);
  });
});

describe('DeLong', () => {
  it('AUCs, standard errors, z and p match the pairwise-kernel definition', () => {
    for (const g of goldens.delong) {
      const r = delongTest(g.labels, g.a, g.b);
      expect(r.aucA).toBeCloseTo(g.aucA, 12);
      expect(r.aucB).toBeCloseTo(g.aucB, 12);
      expect(r.aucA).toBeCloseTo(rocAuc(g.labels, g.a), 12);
      expect(r.se).toBeCloseTo(g.se, 12);
      expect(r.z).toBeCloseTo(g.z, 10);
      // erfc is a Chebyshev fit with relative error below 1.2e-7.
      expect(Math.abs(r.p - g.p) / g.p).toBeLessThan(2e-7);
      expect(delongAuc(g.labels, g.a).se).toBeCloseTo(g.seA, 12);
    }
  });

  it('the same scores twice: no difference, p = 1; swapping A and B flips z only', () => {
    const g = goldens.delong[0]!;
    expect(delongTest(g.labels, g.a, g.a)).toMatchObject({ difference: 0, se: 0, z: 0, p: 1 });
    const ab = delongTest(g.labels, g.a, g.b);
    const ba = delongTest(g.labels, g.b, g.a);
    expect(ba.z).toBeCloseTo(-ab.z, 12);
    expect(ba.p).toBeCloseTo(ab.p, 12);
  });

  it('midranks share ties; erfc against known values; one class is an error', () => {
    expect(Array.from(midranks([3, 1, 3, 2, 3]))).toEqual([4, 1, 4, 2, 4]);
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1.959963984540054 / Math.SQRT2)).toBeCloseTo(0.05, 7);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148, 7);
    expect(() => delongTest([1, 1, 1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])).toThrow(
      /at least 2 cases of each class \(got 3 positive, 0 negative\)/,
    );
  });
});

describe('bootstrap intervals', () => {
  it('the accuracy interval is the same resampling as before it shared bootstrapCI', () => {
    // Values of bootstrapAccuracyCI as written before bootstrapCI took its loop.
    const correct = Array.from({ length: 137 }, (_, i) => (i * 7919) % 10 < 7);
    expect(bootstrapAccuracyCI(correct)).toEqual([0.6131386861313869, 0.7664233576642335]);
    expect(bootstrapAccuracyCI(correct, { seed: 5, samples: 500, level: 0.9 })).toEqual([
      0.6204379562043796, 0.7518248175182481,
    ]);
  });

  it('the AUC interval brackets the AUC and narrows with more cases', () => {
    const g = goldens.delong[1]!;
    const auc = rocAuc(g.labels, g.a);
    const [lo, hi] = bootstrapAucCI(g.labels, g.a, { seed: 1 });
    expect(lo).toBeLessThan(auc);
    expect(hi).toBeGreaterThan(auc);
    // Roughly +-1.96 DeLong standard errors.
    const se = delongAuc(g.labels, g.a).se;
    expect(hi - lo).toBeGreaterThan(2 * se);
    expect(hi - lo).toBeLessThan(6 * se);
    expect(bootstrapAucCI([1, 1], [0.2, 0.4])).toEqual([NaN, NaN]);
  });
});
