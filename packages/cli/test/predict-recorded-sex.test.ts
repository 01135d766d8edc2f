import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapAccuracyCI } from '@spine/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDicomFilm } from './dicom-film.js';
import { repoRoot, runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-recorded-sex-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
const archive = join(dir, 'archive');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each film's PatientSex as written, and what recorded_sex must say. */
const FILMS: { file: string; sex?: string; age?: string; recorded: string; privateBytes?: number }[] = [
  { file: 'm.dcm', sex: 'M', age: '045Y', recorded: 'M' },
  { file: 'big-header.dcm', sex: 'M', recorded: 'M', privateBytes: 100_000 },
  { file: 'f.dcm', sex: 'F', recorded: 'F' }, // stored padded, 'F '
  { file: 'lower.dcm', sex: 'f', age: '061Y', recorded: 'F' },
  { file: 'other.dcm', sex: 'O', recorded: 'O' },
  { file: 'absent.dcm', recorded: '' },
  { file: 'empty.dcm', sex: '', recorded: '' },
  { file: 'long.dcm', sex: 'FEMALE', recorded: '' },
  { file: 'film.png', recorded: '' },
];

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 40);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  await trainTinyRun(data, run);
  mkdirSync(archive);
  FILMS.forEach((f, i) => {
    if (f.file.endsWith('.png')) copyFileSync(join(sample, lines[50]!.split(',')[0]!), join(archive, f.file));
    else writeDicomFilm(join(archive, f.file), { seed: i, ...f });
  });
});

const csvRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
const byFile = (rows: string[][]) => new Map(rows.map((c) => [c[0]!, c]));

describe.sequential('predict: the sex the archive records', () => {
  it('adds recorded_sex, recorded_age and agrees from the DICOM header, and summarises agreement with its CI', async () => {
    const out = join(dir, 'all.csv');
    const r = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--batch-size', '3']);
    expect(r.code).toBe(0);
    const rows = byFile(csvRows(readFileSync(out, 'utf8')));
    expect([...rows.keys()].sort()).toEqual(FILMS.map((f) => f.file).sort());
    const agreement: number[] = [];
    for (const f of FILMS) {
      const [, predicted, , , recorded, age, agrees, error] = rows.get(f.file)!;
      expect(error, f.file).toBe('');
      expect(recorded, f.file).toBe(f.recorded);
      expect(age, f.file).toBe(f.age ?? '');
      if (recorded === 'M' || recorded === 'F') {
        expect(agrees, f.file).toBe(predicted === recorded ? 'yes' : 'no');
        agreement.push(agrees === 'yes' ? 1 : 0);
      } else expect(agrees, f.file).toBe('');
    }
    const hits = agreement.reduce((a, b) => a + b, 0);
    const [lo, hi] = bootstrapAccuracyCI(agreement, { seed: 12345 });
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    expect(r.stderr).toContain('Recorded sex (DICOM PatientSex):');
    expect(r.stderr).toContain(
      `M or F: 4 film(s) (2 M, 2 F); the prediction agrees for ${hits} of 4 (${pct(hits / 4)}, 95% CI ${pct(lo)} to ${pct(hi)})`,
    );
    expect(r.stderr).toContain('O:      1 film(s)');
    expect(r.stderr).toContain('none:   4 film(s) with no recorded sex: the ones to fill in');
    expect(r.stderr).toContain('1 of them hold a value that is not M, F or O, counted as none: long.dcm "FEMALE"');
  });

  it('--only-missing predicts only films without a recorded M or F and lists the others as skipped', async () => {
    const out = join(dir, 'missing.csv');
    const r = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--only-missing']);
    expect(r.code).toBe(0);
    const rows = csvRows(readFileSync(out, 'utf8'));
    expect(rows.map((c) => c[0]).sort()).toEqual(['absent.dcm', 'empty.dcm', 'film.png', 'long.dcm', 'other.dcm']);
    expect(r.stderr).toContain(
      'skipped (--only-missing, sex recorded as M or F, not in the CSV): 4 film(s): big-header.dcm, f.dcm, lower.dcm, m.dcm',
    );
    // A rerun finds nothing left, and still says what it skipped.
    const again = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--only-missing']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('4 film(s): big-header.dcm, f.dcm, lower.dcm, m.dcm');
    expect(csvRows(readFileSync(out, 'utf8'))).toEqual(rows);
  });

  it('merge of --only-missing shards: films recorded as M or F may be absent only with --only-missing', async () => {
    const shards = [0, 1].map((k) => join(dir, `missing-${k}.csv`));
    for (const [k, out] of shards.entries()) {
      const r = await runCli([
        'predict',
        '--run',
        run,
        '--input',
        archive,
        '--out',
        out,
        '--only-missing',
        '--shard',
        `${k}/2`,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = join(dir, 'missing-merged.csv');
    const strict = await runCli(['predict', 'merge', ...shards, '--input', archive, '--out', merged]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('4 film(s) of');
    const r = await runCli(['predict', 'merge', ...shards, '--input', archive, '--out', merged, '--only-missing']);
    expect(r.code, r.stderr).toBe(0);
    // The same rows as the unsharded --only-missing run, sorted by file.
    const [header, ...rows] = readFileSync(join(dir, 'missing.csv'), 'utf8').trim().split('\n');
    expect(readFileSync(merged, 'utf8')).toBe([header, ...rows.sort()].join('\n') + '\n');
  });

  it("--labels compares with a labels CSV (train's format) instead of the header", async () => {
    const labels = join(dir, 'labels.csv');
    writeFileSync(labels, 'file,sex,age\nm.dcm,female,40\nfilm.png,1,\nother.dcm,0,\n');
    const out = join(dir, 'labelled.csv');
    const r = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--labels', labels]);
    expect(r.code).toBe(0);
    const rows = byFile(csvRows(readFileSync(out, 'utf8')));
    const expected: Record<string, string> = { 'm.dcm': 'F', 'film.png': 'M', 'other.dcm': 'F' };
    for (const f of FILMS) {
      const c = rows.get(f.file)!;
      expect(c[4], f.file).toBe(expected[f.file] ?? '');
      expect(c[5], f.file).toBe(f.age ?? ''); // the age still comes from the header
      expect(c[6], f.file).toBe(expected[f.file] ? (c[1] === expected[f.file] ? 'yes' : 'no') : '');
    }
    expect(r.stderr).toContain(`Recorded sex (--labels ${labels}):`);
    expect(r.stderr).toContain('M or F: 3 film(s) (1 M, 2 F)');
    const bad = join(dir, 'bad-labels.csv');
    writeFileSync(bad, 'file,sex\nm.dcm,X\n');
    const refused = await runCli([
      'predict',
      '--run',
      run,
      '--input',
      archive,
      '--out',
      join(dir, 'never.csv'),
      '--labels',
      bad,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad} line 2: unknown sex "X" for m.dcm`);
    writeFileSync(bad, 'File,Sex\nm.dcm,M\nf.dcm,F\nm.dcm,F\n');
    const twice = await runCli([
      'predict',
      '--run',
      run,
      '--input',
      archive,
      '--out',
      join(dir, 'never.csv'),
      '--labels',
      bad,
    ]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`${bad} line 4: m.dcm is listed again (first on line 2)`);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
  });

  it('files named on the command line: DICOM tags too, in the order given', async () => {
    const r = await runCli([
      'predict',
      '--run',
      run,
      join(archive, 'lower.dcm'),
      join(archive, 'film.png'),
      join(archive, 'm.dcm'),
    ]);
    expect(r.code).toBe(0);
    const rows = csvRows(r.stdout);
    expect(rows.map((c) => [c[0]!.split('/').pop(), c[4], c[5]])).toEqual([
      ['lower.dcm', 'F', '061Y'],
      ['film.png', '', ''],
      ['m.dcm', 'M', '045Y'],
    ]);
  });
});
