// Synthetic sets generated into the cache: where they live, which data folders name one, that an
// interrupted generation's leftovers are cleaned up without touching a finished set or another
// live run's folder, and that a set outside the checkout is the committed sample's films.
// (The quick start's generation runs end to end in quickstart.test.ts.)
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { samePixels } from './png-pixels.js';
import {
  ensureSyntheticSet,
  QUICK_DATA,
  quickStartDataDir,
  syntheticSetAt,
  syntheticSetDir,
  syntheticSetReady,
} from '../src/run/synthetic-sets.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-synthetic-sets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synthetic sets in the cache', () => {
  it('lives under the cache folder, named by region, seed, count and width', () => {
    expect(quickStartDataDir('/cache')).toBe('/cache/synthetic/cervical-s1-n2000-w128');
    expect(syntheticSetDir({ region: 'lumbar', seed: 2, count: 600, width: 128 }, '/cache')).toBe(
      '/cache/synthetic/lumbar-s2-n600-w128',
    );
  });

  it("a data folder names a set only when it is one of the cache's synthetic folders", () => {
    expect(syntheticSetAt('/cache/synthetic/cervical-s1-n2000-w128', '/cache')).toEqual(QUICK_DATA);
    expect(syntheticSetAt('/cache/synthetic/lumbar-s2-n600-w128', '/cache')).toEqual({
      region: 'lumbar',
      seed: 2,
      count: 600,
      width: 128,
    });
    expect(syntheticSetAt('/data/synthetic/cervical-s1-n2000-w128', '/cache')).toBeUndefined();
    expect(syntheticSetAt('/cache/synthetic/cervical-s1-n2000', '/cache')).toBeUndefined();
    expect(syntheticSetAt('/cache/synthetic/cervical-s1-n2000-w128/sub', '/cache')).toBeUndefined();
  });

  it("a generated set is the committed sample's films, pixel for pixel", async () => {
    const sample = join(import.meta.dirname, '..', '..', '..', 'test-data', 'sample', 'lumbar');
    const set = { region: 'lumbar', seed: 2, count: 12, width: 128 } as const;
    const films = syntheticSetDir(set, dir);
    const lines: string[] = [];
    await ensureSyntheticSet(set, films, (l) => lines.push(l));
    expect(lines[0]).toContain('12 lumbar films');
    expect(syntheticSetReady(films)).toBe(true);
    const pngs = readdirSync(films).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBe(12);
    for (const f of pngs) expect(samePixels(join(films, f), join(sample, f)), f).toBe(true);
  });

  it("a finished set is used as it is; abandoned temporary folders go, a live run's stays", async () => {
    const films = quickStartDataDir(dir);
    mkdirSync(films, { recursive: true });
    writeFileSync(join(films, 'labels.csv'), 'file,sex\n');
    const abandoned = `${films}.tmp-2147483646`; // no such process
    const live = `${films}.tmp-1`; // init: alive
    for (const d of [abandoned, live]) mkdirSync(d);
    const lines: string[] = [];
    await ensureSyntheticSet(QUICK_DATA, films, (l) => lines.push(l));
    expect(lines).toEqual([]); // nothing generated
    expect(syntheticSetReady(films)).toBe(true);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
