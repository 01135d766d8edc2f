import { describe, expect, it } from 'vitest';
import { FILM, renderFilm, sampleSubject, type Region } from '../src/index.js';

describe('renderFilm', () => {
  it.each(['cervical', 'lumbar'] as Region[])('%s renders at native size with an ROI inside the film', (region) => {
    const film = renderFilm(sampleSubject(region, 5, 1), 6);
    expect([film.width, film.height]).toEqual([FILM[region].width, FILM[region].height]);
    expect(film.pixels.length).toBe(film.width * film.height);
    const { roi } = film;
    expect(roi.x).toBeGreaterThanOrEqual(0);
    expect(roi.y).toBeGreaterThanOrEqual(0);
    expect(roi.x + roi.width).toBeLessThanOrEqual(film.width);
    expect(roi.y + roi.height).toBeLessThanOrEqual(film.height);
    expect(roi.width * roi.height).toBeGreaterThan(0.03 * film.width * film.height);
    // A film has dark background, mid-grey soft tissue and bright bone.
    const hist = new Uint32Array(256);
    for (const v of film.pixels) hist[v]!++;
    const share = (lo: number, hi: number): number =>
      hist.slice(lo, hi).reduce((a, b) => a + b, 0) / film.pixels.length;
    expect(share(0, 40)).toBeGreaterThan(0.02);
    expect(share(60, 200)).toBeGreaterThan(0.2);
  });

  it('is deterministic and keeps the aspect at reduced width', () => {
    const a = renderFilm(sampleSubject('cervical', 9, 3), 12, 200);
    const b = renderFilm(sampleSubject('cervical', 9, 3), 12, 200);
    expect([a.width, a.height]).toEqual([200, Math.round((200 * 1755) / 1462)]);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(a.roi).toEqual(b.roi);
  });

  it('subjects differ, and sex alternates F, M', () => {
    const p0 = sampleSubject('lumbar', 1, 0);
    const p1 = sampleSubject('lumbar', 1, 1);
    expect([p0.sex, p1.sex]).toEqual(['F', 'M']);
    expect(p0.bodyDepth).not.toBe(p1.bodyDepth);
  });

  it('the sex signal reaches the pixels: male spinal ROIs are larger on average', () => {
    // ROI size tracks vertebral body depth, canal and spinous processes (all larger in males);
    // film scale nuisance blurs it, so compare means over 60 films, not single films.
    const area = { F: 0, M: 0 };
    for (let i = 0; i < 60; i++) {
      const p = sampleSubject('cervical', 21, i);
      p.nuisance.rotationDeg = 0;
      const { roi } = renderFilm(p, 21 + i, 128);
      area[p.sex] += roi.width;
    }
    expect(area.M / area.F).toBeGreaterThan(1.04);
  });
});
