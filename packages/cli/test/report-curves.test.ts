import { describe, expect, it } from 'vitest';
import { calibrationBins, expectedCalibrationError, pickGallery } from '../src/report/curves.js';
import { averageSubset } from '../src/report/explained.js';
import { confusionSpec, lossSpec } from '../src/report/specs.js';

describe('report numbers', () => {
  it('bins P(male) into ten equal bins (1.0 in the last), leaving empty bins out', () => {
    const labels = [0, 0, 1, 1, 1, 0];
    const probs = [0.05, 0.08, 0.55, 0.58, 1.0, 0.95];
    const bins = calibrationBins(labels, probs);
    expect(bins.map((b) => [b.lower, b.films])).toEqual([
      [0, 2],
      [0.5, 2],
      [0.9, 2],
    ]);
    expect(bins[0]!.meanPredicted).toBeCloseTo(0.065, 12);
    expect(bins[0]!.fractionMale).toBe(0);
    expect(bins[2]!.fractionMale).toBe(0.5);
    // ECE: (2/6)|0 - 0.065| + (2/6)|1 - 0.565| + (2/6)|0.5 - 0.975|
    expect(expectedCalibrationError(bins)).toBeCloseTo((0.065 + 0.435 + 0.475) / 3, 12);
    expect(Number.isNaN(expectedCalibrationError([]))).toBe(true);
  });

  it('picks the most confident right and wrong films of each sex, female then male, highest confidence first', () => {
    const p = (label: number, probMale: number) => ({ label, probMale });
    const films = [p(1, 0.9), p(0, 0.2), p(1, 0.3), p(0, 0.99), p(0, 0.01), p(1, 0.6), p(0, 0.75)];
    const { right, wrong } = pickGallery(films, 2);
    expect(right.map((r) => [r.item, r.confidence])).toEqual([
      [films[4], 0.99],
      [films[0], 0.9],
    ]);
    // The second most confident wrong film is female (0.75), but the male one (0.7) takes the place.
    expect(wrong.map((r) => r.item)).toEqual([films[3], films[2]]);
    expect(wrong[0]!.confidence).toBeCloseTo(0.99, 12);
    expect(pickGallery([p(1, 0.9)], 3).wrong).toEqual([]);
  });

  it('shows both sexes when the surest correct films are all of one sex; a sex with too few leaves its places to the other', () => {
    const p = (label: number, probMale: number) => ({ label, probMale });
    // Every male film is surer than every female film.
    const males = [0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.93].map((q) => p(1, q));
    const females = [0.2, 0.3, 0.35, 0.4].map((q) => p(0, q));
    const { right } = pickGallery([...males, ...females], 6);
    expect(right.map((r) => r.item)).toEqual([females[0], females[1], females[2], males[0], males[1], males[2]]);
    // Odd counts: the surer sex of each round goes first.
    expect(pickGallery([...males, ...females], 3).right.map((r) => r.item)).toEqual([females[0], males[0], males[1]]);
    // One female film only: the rest of the row is male.
    const few = pickGallery([...males, females[0]!], 6).right.map((r) => r.item);
    expect(few).toEqual([females[0], ...males.slice(0, 5)]);
  });

  it('averages over at most N films per sex, evenly spaced through the split (0: all)', () => {
    const films = Array.from({ length: 10 }, (_, i) => ({ id: i, label: i < 6 ? 0 : 1 }));
    expect(averageSubset(films, 3).map((f) => f.id)).toEqual([0, 2, 4, 6, 7, 8]);
    expect(averageSubset(films, 0)).toEqual(films);
    expect(averageSubset(films, 50)).toEqual(films);
  });

  it('puts the confusion matrix in the paper layout and the per-epoch series in the loss spec', () => {
    const spec = confusionSpec([
      [5, 1],
      [2, 7],
    ]) as unknown as { data: { values: { truth: string; predicted: string; films: number }[] } };
    expect(spec.data.values).toEqual([
      { truth: 'female', predicted: 'female', films: 5 },
      { truth: 'female', predicted: 'male', films: 1 },
      { truth: 'male', predicted: 'female', films: 2 },
      { truth: 'male', predicted: 'male', films: 7 },
    ]);
    const epoch = (e: number, val: boolean) => ({
      epoch: e,
      lr: 0.1,
      lrs: [0.1],
      trainLoss: e,
      trainAccuracy: 0.5,
      trainImages: 1,
      imagesPerSecond: 1,
      seconds: 1,
      ...(val ? { valLoss: 10 * e, valAccuracy: 0.6 } : {}),
    });
    const loss = lossSpec([epoch(1, true), epoch(2, false)]) as unknown as { data: { values: unknown[] } };
    expect(loss.data.values).toEqual([
      { epoch: 1, series: 'train', value: 1 },
      { epoch: 1, series: 'validation', value: 10 },
      { epoch: 2, series: 'train', value: 2 },
    ]);
  });
});
