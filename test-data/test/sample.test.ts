import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '@spine/imaging';
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
    const rows = (set: string): string[] =>
      readFileSync(join(sample, set, 'labels.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
    expect(rows('cervical')).toHaveLength(SAMPLE.cervical.count);
    expect(rows('lumbar')).toHaveLength(SAMPLE.lumbar.count);
    expect(rows('cervical-roi')).toHaveLength(136);
    // Balanced classes.
    expect(rows('cervical').filter((r) => r.split(',')[1] === 'M')).toHaveLength(SAMPLE.cervical.count / 2);
    const rois = JSON.parse(readFileSync(join(sample, 'cervical-roi', 'rois.json'), 'utf8')) as object;
    expect(Object.keys(rois)).toHaveLength(136);
  });

  // Pixels, not bytes: the PNG encoder (filters, deflate) may change without changing the films.
  it('is reproducible: re-rendering a committed film gives the same pixels', () => {
    const { seed, width } = SAMPLE.cervical;
    const film = renderFilm(sampleSubject('cervical', seed, 7), seed + 7, width);
    const file = join(sample, 'cervical', 'cervical-0001-00007.png');
    const committed = decodePng(readFileSync(file), file, { grey: true });
    expect([committed.width, committed.height, committed.channels, committed.bitDepth]).toEqual([
      film.width,
      film.height,
      1,
      8,
    ]);
    expect(
      Buffer.from(Uint8Array.from(committed.data, (v) => Math.round(v * 255))).equals(Buffer.from(film.pixels)),
    ).toBe(true);
  });
});
