/**
 * What the committed sample contains. Labelled sets are 128 px wide because a small CNN learns the
 * sex signal from pixels only with a few hundred films (measured with scripts/cnn_check.py:
 * 120 films -> 0.74, 480 -> 0.84, 2000 -> 0.89 test accuracy), and 128-px films are ~6 KB each, so
 * hundreds fit the 10 MB budget where ~100 at 256 px would not be enough to learn from.
 */
export const SAMPLE = {
  cervical: { count: 800, width: 128, seed: 1 },
  lumbar: { count: 600, width: 128, seed: 2 },
  roiReference: { count: 136, width: 128, seed: 3 },
  contactSheet: { perRegion: 8, width: 256 },
} as const;
