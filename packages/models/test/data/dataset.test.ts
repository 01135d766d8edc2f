import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DatasetError,
  isDatasetError,
  loadCsvDataset,
  loadFolderDataset,
  parseSex,
  type DatasetProblem,
} from '../../src/data/index.js';
import { SAMPLE, dicomBytes, pngBytes, put, tempDir, tiffBytes } from './fixtures.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

async function problemsOf(p: Promise<unknown>): Promise<DatasetProblem[]> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isDatasetError(e)).toBe(true);
  return [...(e as DatasetError).problems];
}

describe('sex labels', () => {
  it('accepts F/M, female/male in any case, and 0/1 under the stated coding', () => {
    expect(['F', 'f', 'Female', ' FEMALE '].map((v) => parseSex(v))).toEqual([0, 0, 0, 0]);
    expect(['M', 'male', 'MALE'].map((v) => parseSex(v))).toEqual([1, 1, 1]);
    expect([parseSex('0'), parseSex('1')]).toEqual([0, 1]);
    expect([parseSex('0', '0=male,1=female'), parseSex('1', '0=male,1=female')]).toEqual([1, 0]);
    expect([parseSex('2'), parseSex('x'), parseSex('')]).toEqual([undefined, undefined, undefined]);
  });
});

describe('loadCsvDataset', () => {
  it('loads the committed cervical sample (800 films, 400 F / 400 M) with subject, age and region', async () => {
    const ds = await loadCsvDataset(join(SAMPLE, 'cervical'), { imageCheck: 'header' });
    expect(ds.records).toHaveLength(800);
    expect(ds.records.filter((r) => r.label === 0)).toHaveLength(400);
    const first = ds.records[0]!;
    expect(first).toMatchObject({
      file: 'cervical-0001-00000.png',
      label: 0,
      age: 68,
      subjectId: 'C0001-00000',
      region: 'cervical',
      line: 2,
    });
    expect(first.path).toBe(join(SAMPLE, 'cervical', 'cervical-0001-00000.png'));
  });

  it('reads PNG, TIFF and DICOM of any size, quoted names, CRLF, BOM, numeric sex and sorts by file', async () => {
    const d = dir();
    put(d, 'b film.png', pngBytes(13, 9, 1));
    put(d, 'sub/a.tif', tiffBytes(7, 11, 2));
    put(d, 'c.dcm', dicomBytes(10, 6, 3));
    put(d, 'labels.csv', '\ufeffFile,Sex,Age\r\n"b film.png",1,40\r\nsub\\a.tif,0,\r\nc.dcm,female,33.5\r\n');
    const ds = await loadCsvDataset(d, { imageCheck: 'decode' });
    expect(ds.records.map((r) => [r.file, r.label, r.age, r.line])).toEqual([
      ['b film.png', 1, 40, 2],
      ['c.dcm', 0, 33.5, 4],
      ['sub/a.tif', 0, undefined, 3],
    ]);
    const flipped = await loadCsvDataset(d, { numericSex: '0=male,1=female' });
    expect(flipped.records.map((r) => r.label)).toEqual([0, 0, 1]);
  });

  it('takes the labels file from another place while names stay relative to the data folder', async () => {
    const d = dir();
    put(d, 'img/x.png', pngBytes(4, 4));
    put(d, 'img/y.png', pngBytes(4, 4, 1));
    const labels = put(d, 'meta/sex.csv', 'file,sex\nx.png,F\ny.png,M\n');
    const ds = await loadCsvDataset(join(d, 'img'), { labels });
    expect(ds.source).toBe(labels);
    expect(ds.records.map((r) => r.file)).toEqual(['x.png', 'y.png']);
  });

  it('reports every problem at once, with file and CSV line, and names the numeric coding', async () => {
    const d = dir();
    const outside = dir();
    put(outside, 'secret.png', pngBytes(4, 4));
    put(d, 'ok-f.png', pngBytes(4, 4));
    put(d, 'ok-m.png', pngBytes(4, 4, 1));
    put(d, 'text.png', 'not an image at all');
    put(d, 'trunc.png', pngBytes(32, 32).subarray(0, 60));
    put(d, 'folder.png/inner', 'x');
    symlinkSync(join(outside, 'secret.png'), join(d, 'link.png'));
    put(
      d,
      'labels.csv',
      [
        'file,sex,age',
        'ok-f.png,F,50', // 2
        'ok-m.png,M,50', // 3
        'ok-f.png,F,50', // 4 duplicate
        'missing.png,M,1', // 5
        'ok-m.png,X,1', // 6 duplicate, reported as such first
        'text.png,2,1', // 7 unknown label (numeric) and unreadable
        'trunc.png,F,1', // 8 unreadable (decode)
        '../escape.png,F,1', // 9
        '/etc/passwd,F,1', // 10
        'link.png,M,1', // 11 symlink outside
        'folder.png,M,1', // 12 directory
        'ok-m.png', // 13 short row
        ',F,1', // 14 empty name
        'ok-f2.png,F,old', // 15 bad age (and missing)
      ].join('\n'),
    );
    const before = readdirSync(d, { recursive: true }).sort();
    const problems = await problemsOf(loadCsvDataset(d));
    expect(readdirSync(d, { recursive: true }).sort()).toEqual(before); // nothing written
    const byLine = new Map<number, string[]>();
    for (const p of problems) byLine.set(p.line!, [...(byLine.get(p.line!) ?? []), p.problem]);
    expect(byLine.get(4)).toEqual(['duplicate row: the same file is listed on line 2']);
    expect(byLine.get(5)).toEqual(['file not found']);
    expect(byLine.get(6)).toEqual(['duplicate row: the same file is listed on line 3']);
    expect(byLine.get(7)![0]).toBe(
      'unknown sex "2" (accepted: F/M, female/male (any case), or 0/1 read as 0=female, 1=male)',
    );
    expect(byLine.get(7)![1]).toMatch(/^unreadable image: not a recognised image/);
    expect(byLine.get(8)![0]).toMatch(/^unreadable image:/);
    expect(byLine.get(9)).toEqual(['path leaves the data folder (..)']);
    expect(byLine.get(10)).toEqual(['absolute path; file names must be relative to the data folder']);
    expect(byLine.get(11)![0]).toMatch(/^symlink points outside the data folder/);
    expect(byLine.get(12)).toEqual(['is a directory, expected an image file']);
    expect(byLine.get(13)).toEqual(['has 1 fields but the header has 3']);
    expect(byLine.get(14)).toEqual(['empty file name']);
    expect(byLine.get(15)).toEqual(['age "old" is not a non-negative number', 'file not found']);
    expect(problems.find((p) => p.line === 7)!.file).toBe('text.png');
    // Lines come back in order, and the message lists them for a user.
    expect(problems.map((p) => p.line)).toEqual([...problems.map((p) => p.line!)].sort((a, b) => a - b));
    const err = await loadCsvDataset(d).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/nothing was written \(\d+ problems\):\n  line 4: ok-f.png: duplicate row/);
  });

  it('the header check skips unreadable content it cannot see but still catches non-images', async () => {
    const d = dir();
    put(d, 'a.png', pngBytes(8, 8));
    put(d, 'trunc.png', pngBytes(32, 32).subarray(0, 60));
    put(d, 'text.png', 'hello');
    put(d, 'labels.csv', 'file,sex\na.png,F\ntrunc.png,M\ntext.png,M\n');
    const problems = await problemsOf(loadCsvDataset(d, { imageCheck: 'header' }));
    expect(problems.map((p) => p.file)).toEqual(['text.png']);
    expect((await problemsOf(loadCsvDataset(d, { imageCheck: 'decode' }))).map((p) => p.file)).toEqual([
      'trunc.png',
      'text.png',
    ]);
  });

  it('reports an empty class, mixed-sex subjects, missing columns, a missing labels file and bad CSV', async () => {
    const d = dir();
    put(d, 'a.png', pngBytes(4, 4));
    put(d, 'b.png', pngBytes(4, 4, 1));
    put(d, 'labels.csv', 'file,sex,subject_id\na.png,F,S1\nb.png,F,S1\n');
    expect((await problemsOf(loadCsvDataset(d))).map((p) => p.problem)).toEqual(['no male images (a class is empty)']);
    put(d, 'labels.csv', 'file,sex,subject_id\na.png,F,S1\nb.png,M,S1\n');
    expect(await problemsOf(loadCsvDataset(d))).toEqual([
      { file: 'b.png', line: 3, problem: 'subject S1 is male here but female at line 2' },
    ]);
    put(d, 'labels.csv', 'name,gender\na.png,F\n');
    expect((await problemsOf(loadCsvDataset(d)))[0]).toMatchObject({
      line: 1,
      problem: 'missing column(s) file, sex; header is: name, gender',
    });
    put(d, 'labels.csv', 'file,sex\n"a.png,F\n');
    expect((await problemsOf(loadCsvDataset(d)))[0]).toMatchObject({
      line: 2,
      problem: 'a quoted field is never closed (missing ")',
    });
    expect((await problemsOf(loadCsvDataset(d, { labels: join(d, 'nope.csv') })))[0]!.problem).toMatch(
      /labels file not found/,
    );
    expect((await problemsOf(loadCsvDataset(join(d, 'nowhere'))))[0]!.problem).toBe('not a directory');
  });
});

describe('loadFolderDataset', () => {
  it('labels by class folder (any case, nested), skips hidden and non-image files', async () => {
    const d = dir();
    put(d, 'Female/p1/a.png', pngBytes(6, 5));
    put(d, 'Female/b.tif', tiffBytes(5, 6, 1));
    put(d, 'male/c', dicomBytes(6, 6, 2));
    put(d, 'male/notes.txt', 'ignore me');
    put(d, 'male/.DS_Store', 'junk');
    put(d, 'other/d.png', pngBytes(4, 4));
    const ds = await loadFolderDataset(d);
    expect(ds.records.map((r) => [r.file, r.label])).toEqual([
      ['Female/b.tif', 0],
      ['Female/p1/a.png', 0],
      ['male/c', 1],
    ]);
    expect(ds.records[0]!.line).toBeUndefined();
    expect([...ds.skipped].sort()).toEqual(['male/.DS_Store', 'male/notes.txt']);
  });

  it('reports an empty class, unreadable images and symlinks leaving the folder together', async () => {
    const d = dir();
    const outside = dir();
    put(outside, 'x.png', pngBytes(4, 4));
    put(d, 'female/bad.png', 'garbage');
    symlinkSync(join(outside, 'x.png'), join(d, 'female/link.png'));
    put(d, 'male/.keep', '');
    const problems = await problemsOf(loadFolderDataset(d));
    expect(problems.map((p) => [p.file, p.problem.split(' (')[0]])).toEqual([
      ['female/bad.png', 'unreadable image: not a recognised image'],
      ['female/link.png', 'symlink points outside the data folder'],
      [d, 'no male images'],
    ]);
  });

  it('explains what it expected when there are no class folders', async () => {
    const d = dir();
    put(d, 'a.png', pngBytes(4, 4));
    expect((await problemsOf(loadFolderDataset(d)))[0]!.problem).toBe(
      'expected subfolders female/ and male/ (or a labels CSV); found: a.png',
    );
  });
});
