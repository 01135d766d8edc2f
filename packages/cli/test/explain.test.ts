import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '@spine/imaging';
import { repoRoot, runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-explain-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
const films = join(dir, 'films');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 40);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  await trainTinyRun(data, run);
  mkdirSync(join(films, 'nested'), { recursive: true });
  copyFileSync(join(sample, lines[60]!.split(',')[0]!), join(films, 'a.png'));
  copyFileSync(join(sample, lines[61]!.split(',')[0]!), join(films, 'nested', 'b.png'));
  writeFileSync(join(films, 'broken.png'), 'not a png');
});

const csvRows = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));

describe.sequential('explain', () => {
  it('writes an overlay per film at the film aspect and a CSV whose predictions agree with predict', async () => {
    const out = join(dir, 'cams');
    const r = await runCli(['explain', '--run', run, films, '--out', out, '--max-side', '100'], { cwd: dir });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/broken\.png: \S/);
    const [header, ...rows] = csvRows(join(out, 'explain.csv'));
    expect(header).toEqual(['file', 'predicted_sex', 'probability_male', 'explained_class', 'overlay', 'error']);
    expect(rows.map((c) => c[0])).toEqual(['films/a.png', 'films/broken.png', 'films/nested/b.png']);
    expect(rows[1]!.slice(1, 5)).toEqual(['', '', '', '']);
    for (const c of [rows[0]!, rows[2]!]) {
      expect(c[3]).toBe(c[1]); // the predicted sex is the one explained
      const png = decodePng(readFileSync(join(out, c[4]!)), c[4]!);
      // 128x154 films scaled to a longest side of 100, colour
      expect([png.width, png.height, png.channels]).toEqual([83, 100, 3]);
    }
    expect(rows.map((c) => c[4])).toEqual(['films__a-gradcam.png', '', 'films__nested__b-gradcam.png']);
    const predicted = await runCli(['predict', '--run', run, films], { cwd: dir });
    const byFile = Object.fromEntries(
      csvRows(writeTmp(predicted.stdout))
        .slice(1)
        .map((c) => [c[0], c.slice(1, 3)]),
    );
    for (const c of [rows[0]!, rows[2]!]) {
      expect(c[1]).toBe(byFile[c[0]!]![0]);
      expect(Math.abs(Number(c[2]) - Number(byFile[c[0]!]![1]))).toBeLessThan(1e-5);
    }
  });

  it('follows symlinked films and folders like predict; a broken link is a row with its reason, named once on stderr', async () => {
    const links = join(dir, 'links');
    mkdirSync(links);
    symlinkSync(join(films, 'a.png'), join(links, 'a.png'));
    symlinkSync(join(films, 'nested'), join(links, 'nested'));
    symlinkSync(join(dir, 'nowhere.png'), join(links, 'dead.png'));
    const out = join(dir, 'cams-links');
    const r = await runCli(['explain', '--run', run, links, '--out', out], { cwd: dir });
    expect(r.code).toBe(0);
    const rows = csvRows(join(out, 'explain.csv')).slice(1);
    expect(rows.map((c) => [c[0], c[5]])).toEqual([
      ['links/dead.png', 'symlink points to a missing file'],
      ['links/a.png', ''],
      ['links/nested/b.png', ''],
    ]);
    expect(r.stderr.split('\n').filter((l) => l.includes('dead.png'))).toEqual([
      `${join(links, 'dead.png')}: symlink points to a missing file`,
    ]);
    // A decoding failure too: the path once on stderr, not at all in the error column.
    const again = await runCli([
      'explain',
      '--run',
      run,
      join(films, 'broken.png'),
      join(films, 'a.png'),
      '--out',
      join(dir, 'cams-broken'),
    ]);
    const line = again.stderr.split('\n').find((l) => l.includes('broken.png'))!;
    expect(line.split('broken.png')).toHaveLength(2);
    const row = csvRows(join(dir, 'cams-broken', 'explain.csv')).find((c) => c[0]!.endsWith('broken.png'))!;
    expect(row[5]).not.toContain('broken.png');
  });

  it('--class M explains the male logit for every film', async () => {
    const out = join(dir, 'cams-m');
    const r = await runCli([
      'explain',
      '--run',
      run,
      join(films, 'a.png'),
      join(films, 'nested', 'b.png'),
      '--class',
      'M',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(
      csvRows(join(out, 'explain.csv'))
        .slice(1)
        .map((c) => c[3]),
    ).toEqual(['M', 'M']);
  });

  it("--average writes the mean film and the mean map over it per sex over the test split, at the films' aspect", async () => {
    const out = join(dir, 'avg');
    const r = await runCli(['explain', '--run', run, '--average', '--out', out]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'average.json'), 'utf8'));
    const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
    expect(summary.layer).toBe('features.16 (conv5 + ReLU)'); // the quick preset's network has batch norm: conv, BN, ReLU per stage
    expect(summary.classes).toEqual([
      { sex: 'female', films: split.splits.test.counts.female, picture: 'average-female.png' },
      { sex: 'male', films: split.splits.test.counts.male, picture: 'average-male.png' },
    ]);
    for (const sex of ['female', 'male']) {
      const png = decodePng(readFileSync(join(out, `average-${sex}.png`)), `average-${sex}.png`);
      expect([png.height, png.channels]).toEqual([512, 3]); // min(--max-side 768, 512)
      // Two panels at the films' aspect (128x154) with a white gap between them.
      const whiteColumn = (x: number) =>
        Array.from({ length: png.height }, (_, y) =>
          png.data.subarray(3 * (y * png.width + x), 3 * (y * png.width + x) + 3),
        ).every((p) => p.every((v) => v === 1));
      const panel = Array.from({ length: png.width }, (_, x) => x).find(whiteColumn)!;
      expect(panel).toBe(Math.round((512 * 128) / 154));
      expect(png.width).toBeGreaterThan(2 * panel);
      expect(whiteColumn(png.width - panel - 1) && !whiteColumn(png.width - panel)).toBe(true);
    }
  });

  it('usage: needs films or --average; a bad --class is a usage error', async () => {
    const none = await runCli(['explain', '--run', run]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing FILES_OR_DIRS... (or --average)');
    const bad = await runCli(['explain', '--run', run, films, '--class', 'X']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--class must be one of predicted, F, M');
    const only = await runCli(['explain', '--run', run, join(films, 'broken.png'), '--out', join(dir, 'x')]);
    expect(only.code).toBe(1);
  });
});

function writeTmp(text: string): string {
  const path = join(dir, `predict-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, text);
  return path;
}
