import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImage } from '@spine/imaging/node';
import { describe, expect, it } from 'vitest';
import {
  cannyEdges,
  cannyKernels,
  greyPlaneFromImage,
  phogDescriptor,
  phogLength,
  type GreyPlane,
  type PhogOptions,
} from '../src/index.js';

/** Written by scripts/make-phog-golden.py, a numpy/scipy port of anna_phog.m and MATLAB's Canny. */
interface GoldenCase {
  name: string;
  source: string;
  transform: string;
  width: number;
  height: number;
  options: PhogOptions & { bins: number; levels: number };
  canny: { low: number; high: number; edges: number[] };
  descriptor: number[];
}
const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'phog-golden.json'), 'utf8')) as {
  kernels: { sigma: number; gauss: number[]; deriv: number[] };
  cases: GoldenCase[];
};
const sample = join(import.meta.dirname, '..', '..', '..', 'test-data', 'sample');

/** The case's input plane, built the way the generator built it (pure indexing, no resampling). */
async function input(c: GoldenCase): Promise<GreyPlane> {
  const film = greyPlaneFromImage(await readImage(join(sample, c.source)));
  if (c.transform === 'none') return film;
  if (c.transform === 'nearest3x') {
    const w = film.width * 3;
    const h = film.height * 3;
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[y * w + x] = film.data[Math.floor(y / 3) * film.width + Math.floor(x / 3)]!;
    return { width: w, height: h, data };
  }
  const [x0, y0, w, h] = c.transform.replace('crop:', '').split(',').map(Number) as [number, number, number, number];
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = film.data[(y0 + y) * film.width + x0 + x]!;
  return { width: w, height: h, data };
}

describe('Canny and PHOG against the numpy port of the reference MATLAB', () => {
  it('builds the same derivative-of-Gaussian kernels, bit for bit', () => {
    const { gauss, deriv } = cannyKernels(golden.kernels.sigma);
    expect(Array.from(gauss)).toEqual(golden.kernels.gauss);
    expect(Array.from(deriv)).toEqual(golden.kernels.deriv);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))('%s: same thresholds and edge map', async (_name, c) => {
    const plane = await input(c);
    expect([plane.width, plane.height]).toEqual([c.width, c.height]);
    const { edges, low, high } = cannyEdges(plane);
    expect([low, high]).toEqual([c.canny.low, c.canny.high]);
    const ours: number[] = [];
    for (let i = 0; i < edges.length; i++) if (edges[i]) ours.push(i);
    expect(ours.length).toBeGreaterThan(100);
    expect(ours).toEqual(c.canny.edges);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))(
    '%s: descriptor length and values within 1e-5',
    async (_name, c) => {
      const p = phogDescriptor(await input(c), c.options);
      expect(p.length).toBe(c.descriptor.length);
      expect(p.length).toBe(phogLength(c.options.bins, c.options.levels));
      let worst = 0;
      for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - c.descriptor[i]!));
      expect(worst).toBeLessThan(1e-5);
      // Not a vector of zeros that trivially matches: it is L1-normalised with many non-zero cells.
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(p.filter((v) => v > 0).length).toBeGreaterThan(p.length / 4);
    },
  );
});
