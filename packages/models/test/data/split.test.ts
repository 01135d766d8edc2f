import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DatasetError,
  PAPER_SPLITS,
  SeededRandom,
  countClasses,
  deriveSeed,
  largestRemainder,
  loadCsvDataset,
  loadSplit,
  saveSplit,
  splitFromFile,
  stratifiedSplit,
  toSplitFile,
  type Dataset,
  type DatasetRecord,
} from '../../src/data/index.js';
import { SAMPLE, tempDir } from './fixtures.js';

/** Records without files: splitting never touches the disk. */
function records(female: number, male: number, perSubject = 0): DatasetRecord[] {
  const out: DatasetRecord[] = [];
  for (let i = 0; i < female + male; i++) {
    const label = i < female ? 0 : 1;
    const subject = perSubject > 0 ? { subjectId: `${label}-${Math.floor(i / perSubject)}` } : {};
    out.push({ path: `/d/${i}.png`, file: `${String(i).padStart(5, '0')}.png`, label, ...subject });
  }
  return out;
}
const dataset = (r: DatasetRecord[]): Dataset => ({ root: '/d', source: '/d/labels.csv', records: r, skipped: [] });

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('SeededRandom', () => {
  it('is reproducible, uniform enough, and resumable from its state', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const xs = Array.from({ length: 1000 }, () => a.float());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.float()));
    expect(xs.reduce((s, x) => s + x, 0) / 1000).toBeCloseTo(0.5, 1);
    expect(new SeededRandom(8).float()).not.toBe(xs[0]);
    const state = a.getState();
    const next = a.nextUint32();
    b.setState(state);
    expect(b.nextUint32()).toBe(next);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[a.int(3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(900);
    expect(deriveSeed(1, 2)).not.toBe(deriveSeed(2, 1));
  });
});

describe('stratifiedSplit', () => {
  it('splits each class 0.8/0.1/0.1 by default with exact largest-remainder counts', () => {
    const s = stratifiedSplit(records(53, 47), { seed: 3 });
    expect(largestRemainder(53, [0.8, 0.1, 0.1])).toEqual([43, 5, 5]);
    expect(largestRemainder(47, [0.8, 0.1, 0.1])).toEqual([37, 5, 5]);
    expect(countClasses(s.train)).toEqual({ female: 43, male: 37 });
    expect(countClasses(s.val)).toEqual({ female: 5, male: 5 });
    expect(countClasses(s.test)).toEqual({ female: 5, male: 5 });
    expect(s.unused).toHaveLength(0);
    const all = [...s.train, ...s.val, ...s.test].map((r) => r.file);
    expect(new Set(all).size).toBe(100);
  });

  it('reproduces the paper’s Table 1 (cervical) and Table 5 (lumbar) exactly', () => {
    for (const [region, counts, f, m] of [
      ['cervical', PAPER_SPLITS.cervical, 5053, 4614],
      ['lumbar', PAPER_SPLITS.lumbar, 2833, 4595],
    ] as const) {
      const s = stratifiedSplit(records(f, m), { counts, seed: 1 });
      for (const name of ['train', 'val', 'test'] as const) expect(countClasses(s[name]), region).toEqual(counts[name]);
      expect(s.unused).toHaveLength(0);
    }
  });

  it('leaves images beyond the counts unused and refuses counts a class cannot fill', () => {
    const s = stratifiedSplit(records(10, 10), {
      counts: { train: { female: 5, male: 6 }, val: { female: 1, male: 1 }, test: { female: 1, male: 1 } },
    });
    expect(countClasses(s.unused)).toEqual({ female: 3, male: 2 });
    const err = (() => {
      try {
        stratifiedSplit(records(10, 10), {
          counts: { train: { female: 9, male: 12 }, val: { female: 1, male: 1 }, test: { female: 1, male: 1 } },
        });
      } catch (e) {
        return e as DatasetError;
      }
    })();
    expect(err).toBeInstanceOf(DatasetError);
    expect(err!.problems.map((p) => p.problem)).toEqual([
      'counts ask for 9 + 1 + 1 = 11 female images but the dataset has 10',
      'counts ask for 12 + 1 + 1 = 14 male images but the dataset has 10',
    ]);
    expect(() => stratifiedSplit(records(4, 4), { fractions: [0.5, 0.5, 0.5] })).toThrow(/summing to 1/);
    expect(() => stratifiedSplit(records(4, 4), { seed: -1 })).toThrow(/seed must be an integer/);
  });

  it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
    const r = records(40, 30);
    const a = stratifiedSplit(r, { seed: 5 });
    const b = stratifiedSplit(new SeededRandom(99).shuffle([...r]), { seed: 5 });
    expect(toSplitFile(b)).toEqual(toSplitFile(a));
    expect(stratifiedSplit(r, { seed: 6 }).test.map((x) => x.file)).not.toEqual(a.test.map((x) => x.file));
  });

  it('keeps every subject in one split, stratifying subjects, near the fractions', () => {
    const s = stratifiedSplit(records(300, 240, 3), { seed: 2 });
    expect(s.groupedBySubject).toBe(true);
    const where = new Map<string, string>();
    for (const name of ['train', 'val', 'test'] as const) {
      for (const r of s[name]) {
        expect(where.get(r.subjectId!) ?? name).toBe(name);
        where.set(r.subjectId!, name);
      }
    }
    const c = countClasses(s.test);
    expect(Math.abs(c.female - 30)).toBeLessThanOrEqual(2);
    expect(Math.abs(c.male - 24)).toBeLessThanOrEqual(2);
    // Without grouping the same records split image by image.
    expect(stratifiedSplit(records(300, 240, 3), { seed: 2, groupBySubject: false }).groupedBySubject).toBe(false);
  });

  it('meets exact counts with subjects when whole subjects can, and says so when they cannot', () => {
    const r = records(30, 30, 3); // subjects of 3 images
    const ok = stratifiedSplit(r, {
      counts: { train: { female: 24, male: 21 }, val: { female: 3, male: 6 }, test: { female: 3, male: 3 } },
    });
    expect(countClasses(ok.val)).toEqual({ female: 3, male: 6 });
    expect(() =>
      stratifiedSplit(r, {
        counts: { train: { female: 25, male: 21 }, val: { female: 2, male: 6 }, test: { female: 3, male: 3 } },
      }),
    ).toThrow(/train needs exactly 25 female images but whole subjects give 24/);
  });
});

describe('split.json', () => {
  it('saves atomically, reloads against the dataset, and matches a fresh split', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const ds = await loadCsvDataset(join(SAMPLE, 'lumbar'), { imageCheck: 'header' });
    const split = stratifiedSplit(ds, { seed: 11 });
    const path = join(dir, 'run', 'split.json');
    await saveSplit(path, split);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(json).toMatchObject({
      version: 1,
      seed: 11,
      fractions: [0.8, 0.1, 0.1],
      groupedBySubject: true,
      classes: ['female', 'male'],
    });
    expect(json.splits.test.counts.female + json.splits.test.counts.male).toBe(json.splits.test.files.length);
    const back = await loadSplit(path, ds);
    expect(toSplitFile(back)).toEqual(toSplitFile(split));
  });

  it('lists missing and extra files, duplicates and changed labels in one error', () => {
    const ds = dataset(records(10, 10));
    const file = toSplitFile(stratifiedSplit(ds, { seed: 1 }));
    const edited = structuredClone(file);
    const dropped = edited.splits.train.files.pop()!;
    edited.splits.val.files.push('ghost.png', edited.splits.test.files[0]!);
    try {
      splitFromFile(edited, ds);
      expect.unreachable();
    } catch (e) {
      expect((e as DatasetError).problems.map((p) => [p.file, p.problem])).toEqual([
        ['ghost.png', 'in split.json (val) but not in the dataset'],
        [file.splits.test.files[0], 'listed in both val and test'],
        [dropped, 'in the dataset but not in split.json'],
      ]);
    }
    const relabelled = dataset(
      ds.records.map((r) => (r.file === file.splits.test.files[0] ? { ...r, label: (1 - r.label) as 0 | 1 } : r)),
    );
    expect(() => splitFromFile(file, relabelled)).toThrow(
      /test was saved with \d+ female \/ \d+ male but the dataset's labels now give/,
    );
    expect(() => splitFromFile({ ...file, version: 9 }, ds)).toThrow(/unsupported version 9/);
  });
});
