import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng, imageFromGrey8 } from '@spine/imaging';
import { renderFilm, sampleSubject } from '../src/index.js';
import { SAMPLE } from '../src/sample-spec.js';

const sample = join(import.meta.dirname, '..', 'sample');

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (s, e) => s + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size),
    0,
  );
}

describe.skipIf(!existsSync(sample))('committed sample', () => {
  it('is under 10 MB and has the promised sets', () => {
    expect(dirBytes(sample)).toBeLessThan(10 * 1024 * 1024);
    const rows = (set: string): string[] => readFileSync(join(sample, set, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows('cervical')).toHaveLength(SAMPLE.cervical.count);
    expect(rows('lumbar')).toHaveLength(SAMPLE.lumbar.count);
    expect(rows('cervical-roi')).toHaveLength(136);
    // Balanced classes.
    expect(rows('cervical').filter((r) => r.split(',')[1] === 'M')).toHaveLength(SAMPLE.cervical.count / 2);
    const rois = JSON.parse(readFileSync(join(sample, 'cervical-roi', 'rois.json'), 'utf8')) as object;
    expect(Object.keys(rois)).toHaveLength(136);
  });

  it('is reproducible: re-rendering a committed film gives the same bytes', () => {
    const { seed, width } = SAMPLE.cervical;
    const film = renderFilm(sampleSubject('cervical', seed, 7), seed + 7, width);
    const png = encodePng(imageFromGrey8(film.width, film.height, film.pixels), { deflateLevel: 9, filterType: -1 });
    expect(Buffer.from(png).equals(readFileSync(join(sample, 'cervical', 'cervical-0001-00007.png')))).toBe(true);
  });
});
