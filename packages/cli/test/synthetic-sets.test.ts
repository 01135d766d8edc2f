// The quick start's generated films: where they live, and that an interrupted generation's
// leftovers are cleaned up without touching a finished set or another live run's folder.
// (Generation itself runs end to end in quickstart.test.ts.)
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureQuickStartData, quickStartDataDir, quickStartDataReady } from '../src/run/quick-data.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-quick-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('quick start data', () => {
  it('lives under the cache folder, named by region, seed, count and width', () => {
    expect(quickStartDataDir('/cache')).toBe('/cache/synthetic/cervical-s1-n2000-w128');
  });

  it('a finished set is used as it is; abandoned temporary folders go, a live run\'s stays', async () => {
    const films = quickStartDataDir(dir);
    mkdirSync(films, { recursive: true });
    writeFileSync(join(films, 'labels.csv'), 'file,sex\n');
    const abandoned = `${films}.tmp-2147483646`; // no such process
    const live = `${films}.tmp-1`; // init: alive
    for (const d of [abandoned, live]) mkdirSync(d);
    const lines: string[] = [];
    await ensureQuickStartData(films, (l) => lines.push(l));
    expect(lines).toEqual([]); // nothing generated
    expect(quickStartDataReady(films)).toBe(true);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
