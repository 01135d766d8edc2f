// The page checks a chosen folder as spine-cli train checks --data: the same records from a
// labels CSV or class folders, and the same problems, in the same words, for a broken one.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadCsvDataset,
  loadFolderDataset as loadFolderOnDisk,
  isDatasetError,
  type DatasetProblem,
} from '@spine/models';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFolderDataset, placeInFolder, type ChosenFolder } from '../src/train/dataset.js';

const sample = fileURLToPath(new URL('../../../test-data/sample/cervical/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'spine-web-dataset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const transform = { width: 16, height: 16, resize: 'stretch' as const };

/** The folder as an <input webkitdirectory> gives it to the page. */
function chosen(root: string, name: string): ChosenFolder {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  return {
    name,
    files: walk(root).map((p) => ({ path: relative(root, p), file: new File([readFileSync(p)], p.split('/').pop()!) })),
  };
}

const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
const names = lines.slice(1, 13).map((l) => l.split(',')[0]!);

async function problemsOf(f: () => Promise<unknown>): Promise<{ message: string; problems: DatasetProblem[] }> {
  try {
    await f();
  } catch (e) {
    if (isDatasetError(e)) return { message: e.message, problems: e.problems as DatasetProblem[] };
    throw e;
  }
  throw new Error('no DatasetError');
}

describe("the page's dataset check", () => {
  it("reads a labels CSV folder into spine-cli's records, and keeps each film resized", async () => {
    const root = join(dir, 'csv');
    mkdirSync(root);
    writeFileSync(join(root, 'labels.csv'), [lines[0], ...lines.slice(1, 13)].join('\n') + '\n');
    for (const n of names) copyFileSync(join(sample, n), join(root, n));
    const disk = await loadCsvDataset(root);
    const page = await loadFolderDataset(chosen(root, 'csv'), undefined, transform);
    const strip = (rs: readonly { path: string }[]) => rs.map(({ path: _p, ...r }) => r);
    expect(strip(page.dataset.records)).toEqual(strip(disk.records));
    expect(page.films.size).toBe(12);
    expect([...page.films.values()].every((f) => f.width === 16 && f.height === 16 && f.channels === 1)).toBe(true);
  });

  it('reads class folders as spine-cli does, skipping other files', async () => {
    const root = join(dir, 'classes');
    for (const [i, n] of names.entries()) {
      const cls = lines[i + 1]!.split(',')[1] === 'M' ? 'Male' : 'female';
      mkdirSync(join(root, cls), { recursive: true });
      copyFileSync(join(sample, n), join(root, cls, n));
    }
    writeFileSync(join(root, 'female', 'notes.txt'), 'not a film');
    const disk = await loadFolderOnDisk(root);
    const page = await loadFolderDataset(chosen(root, 'classes'), undefined, transform);
    expect(page.dataset.records.map((r) => [r.file, r.label])).toEqual(disk.records.map((r) => [r.file, r.label]));
    expect(page.dataset.skipped).toEqual(disk.skipped);
  });

  it("reports a broken folder with spine-cli's problems and words", async () => {
    const root = join(dir, 'broken');
    mkdirSync(root);
    for (const n of names.slice(0, 4)) copyFileSync(join(sample, n), join(root, n));
    writeFileSync(join(root, 'bad.png'), 'not a png');
    const rows = [
      lines[0],
      lines[1],
      lines[2]!.replace(/,M,|,F,/, ',X,'),
      lines[3],
      lines[3],
      `missing.png,F,50,S9,cervical,1,1,1,1`,
      `../escape.png,M,50,S8,cervical,1,1,1,1`,
      `bad.png,F,50,S7,cervical,1,1,1,1`,
    ];
    writeFileSync(join(root, 'labels.csv'), rows.join('\n') + '\n');
    const disk = await problemsOf(() => loadCsvDataset(root));
    const page = await problemsOf(() => loadFolderDataset(chosen(root, 'broken'), undefined, transform));
    // Paths differ (an absolute folder on disk, the chosen folder's name on the page); problems do not.
    const words = (ps: DatasetProblem[]) => ps.map((p) => ({ ...p, file: p.file.split('/').pop() }));
    expect(words(page.problems)).toEqual(words(disk.problems));
    expect(page.problems.length).toBeGreaterThanOrEqual(5);
    expect(page.message).toMatch(/^dataset broken is not usable; nothing was written \(\d+ problems\):\n  /);
  });

  it('places CSV file names inside the folder with the same rules', () => {
    expect(placeInFolder('a\\b.png')).toEqual({ path: 'a/b.png', file: 'a/b.png' });
    expect(placeInFolder('./a/../b.png')).toEqual({ path: 'b.png', file: 'b.png' });
    expect(placeInFolder('/etc/passwd')).toEqual({
      problem: 'absolute path; file names must be relative to the data folder',
    });
    expect(placeInFolder('C:\\x.png')).toEqual({
      problem: 'absolute path; file names must be relative to the data folder',
    });
    expect(placeInFolder('a/../../b.png')).toEqual({ problem: 'path leaves the data folder (..)' });
    expect(placeInFolder('')).toEqual({ problem: 'empty file name' });
  });
});
