import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureSeparability, type Region } from '../src/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('designed separability (logistic regression on phantom parameters)', () => {
  it.each(['cervical', 'lumbar'] as Region[])('%s: ceiling is high but not perfect, and README states it', (region) => {
    const r = measureSeparability(region);
    expect(r.accuracy).toBeGreaterThan(0.93);
    expect(r.accuracy).toBeLessThan(0.97);
    // Age effects are not sex cues.
    expect(Math.abs(r.cohensD['age']!)).toBeLessThan(0.2);
    expect(Math.abs(r.cohensD['osteophytes']!)).toBeLessThan(0.2);
    expect(readme).toContain(`${region} | ${r.accuracy.toFixed(3)}`);
  });
});
