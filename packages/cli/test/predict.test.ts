import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const fixtures = join(repoRoot, 'packages/imaging/test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-predict-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
const archive = join(dir, 'archive');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The archive: PNG films at two depths, a TIFF, a JPEG and a DICOM from the imaging fixtures, one broken PNG, one text file. */
const EXPECTED = [
  'a/b/film-3.png',
  'a/film-2.png',
  'broken.png',
  'dicom/mono2-8bit.dcm',
  'film-1.png',
  'jpeg/grey-baseline.jpg',
  'tiff/grey8-lzw.tif',
];

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 40);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  await trainTinyRun(data, run);
  for (const d of ['a/b', 'tiff', 'jpeg', 'dicom']) mkdirSync(join(archive, d), { recursive: true });
  const film = (i: number) => join(sample, lines[50 + i]!.split(',')[0]!);
  copyFileSync(film(1), join(archive, 'film-1.png'));
  copyFileSync(film(2), join(archive, 'a', 'film-2.png'));
  copyFileSync(film(3), join(archive, 'a', 'b', 'film-3.png'));
  copyFileSync(join(fixtures, 'grey8-lzw.tif'), join(archive, 'tiff', 'grey8-lzw.tif'));
  copyFileSync(join(fixtures, 'grey-baseline.jpg'), join(archive, 'jpeg', 'grey-baseline.jpg'));
  copyFileSync(join(fixtures, 'mono2-8bit.dcm'), join(archive, 'dicom', 'mono2-8bit.dcm'));
  writeFileSync(join(archive, 'broken.png'), 'not a png');
  writeFileSync(join(archive, 'notes.txt'), 'not an image extension: not listed');
});

const rowsOf = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));

describe.sequential('predict --input (archives)', () => {
  it('predicts every image under the folder in batches, listing the unreadable one with its reason', async () => {
    const out = join(dir, 'all.csv');
    const r = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--batch-size', '2']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Wrote .*all\.csv: 6 films predicted, 1 unreadable/);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(
      'file,predicted_sex,probability_male,uncertain,recorded_sex,recorded_age,agrees,error',
    );
    const rows = rowsOf(out);
    expect(rows.map((c) => c[0]).sort()).toEqual(EXPECTED);
    for (const c of rows) {
      if (c[0] === 'broken.png') {
        expect(c.slice(1, 7)).toEqual(['', '', '', '', '', '']);
        expect(c[7]!.length).toBeGreaterThan(0);
        continue;
      }
      const p = Number(c[2]);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(c[1]).toBe(p >= 0.5 ? 'M' : 'F');
      expect(c[3]).toBe(Math.max(p, 1 - p) < 0.6 ? 'yes' : 'no');
      // No film here records a sex (the DICOM fixture has no patient module).
      expect(c.slice(4)).toEqual(['', '', '', '']);
    }
  });

  it('resumes: a rerun skips listed files, re-predicts a torn last line, and leaves a finished CSV alone', async () => {
    const full = rowsOf(join(dir, 'all.csv'));
    const out = join(dir, 'resumed.csv');
    const text = readFileSync(join(dir, 'all.csv'), 'utf8').split('\n');
    // As if stopped while appending the third batch: 3 whole rows and half of the fourth.
    writeFileSync(out, [...text.slice(0, 4), text[4]!.slice(0, 9)].join('\n'));
    const r = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--batch-size', '2']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('already lists 3 file(s); 4 left to predict');
    const rows = rowsOf(out);
    expect(rows.map((c) => c[0]).sort()).toEqual(EXPECTED); // each file once
    const byFile = (rs: string[][]) => Object.fromEntries(rs.map((c) => [c[0], c.slice(1, 4).join(',')]));
    expect(byFile(rows)).toEqual(byFile(full));
    const before = readFileSync(out, 'utf8');
    const again = await runCli(['predict', '--run', run, '--input', archive, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already lists 7 file(s); 0 left to predict');
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it('usage: --input needs --out, excludes file arguments, refuses a CSV it did not write', async () => {
    const noOut = await runCli(['predict', '--run', run, '--input', archive]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--input needs --out FILE');
    const both = await runCli([
      'predict',
      '--run',
      run,
      '--input',
      archive,
      join(archive, 'film-1.png'),
      '--out',
      join(dir, 'x.csv'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('either --input DIR or files');
    const foreign = join(dir, 'foreign.csv');
    writeFileSync(foreign, 'name,score\na.png,1\n');
    const r = await runCli(['predict', '--run', run, '--input', archive, '--out', foreign]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${foreign} has the columns 'name,score'`);
    expect(readFileSync(foreign, 'utf8')).toBe('name,score\na.png,1\n');
    const notDir = await runCli([
      'predict',
      '--run',
      run,
      '--input',
      join(archive, 'film-1.png'),
      '--out',
      join(dir, 'y.csv'),
    ]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toContain('is not a folder');
    expect((await runCli(['predict', '--run', run])).stderr).toContain('missing FILES_OR_DIRS... (or --input DIR)');
  });
});

describe.sequential('predict: symlinks, unreadable files, failed runs', () => {
  it('follows symlinked films and folders as the dataset loader does; a broken link gets a row saying so', async () => {
    const links = join(dir, 'links');
    mkdirSync(links);
    symlinkSync(join(archive, 'film-1.png'), join(links, 'one.png'));
    symlinkSync(join(archive, 'a'), join(links, 'a-folder'));
    symlinkSync(join(dir, 'nowhere.png'), join(links, 'dead.png'));
    symlinkSync(links, join(links, 'loop'));
    const out = join(dir, 'links.csv');
    const r = await runCli(['predict', '--run', run, '--input', links, '--out', out]);
    expect(r.code).toBe(0);
    const rows = rowsOf(out);
    expect(rows.map((c) => c[0]).sort()).toEqual([
      'a-folder/b/film-3.png',
      'a-folder/film-2.png',
      'dead.png',
      'one.png',
    ]);
    for (const c of rows) expect(c[7]).toBe(c[0] === 'dead.png' ? 'symlink points to a missing file' : '');
    expect(r.stderr).toContain(`${join(links, 'dead.png')}: symlink points to a missing file`);
    expect(r.stderr).toMatch(new RegExp(`${join(links, 'loop')}: leads to .*a folder already walked`));
    // A folder holding only links to films, given as a positional folder.
    const only = join(dir, 'only-links');
    mkdirSync(only);
    symlinkSync(join(archive, 'film-1.png'), join(only, 'x.png'));
    symlinkSync(join(archive, 'a', 'film-2.png'), join(only, 'y.png'));
    const plain = await runCli(['predict', '--run', run, only]);
    expect(plain.code).toBe(0);
    expect(
      plain.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    ).toEqual([join(only, 'x.png'), join(only, 'y.png')]);
  });

  it('an unreadable film is named once: `path: reason` on stderr, the reason alone in the error column', async () => {
    const films = join(dir, 'corrupt');
    mkdirSync(films);
    const good = readFileSync(join(archive, 'film-1.png'));
    writeFileSync(join(films, 'cut.png'), good.subarray(0, 200));
    copyFileSync(join(archive, 'film-1.png'), join(films, 'ok.png'));
    const out = join(dir, 'corrupt.csv');
    const r = await runCli(['predict', '--run', run, films, '--out', out]);
    expect(r.code).toBe(0);
    const path = join(films, 'cut.png');
    const line = r.stderr.split('\n').find((l) => l.includes('cut.png'))!;
    expect(line.trim().startsWith(`${path}: `)).toBe(true);
    expect(line.split('cut.png')).toHaveLength(2);
    const text = readFileSync(out, 'utf8');
    expect(text.split('cut.png')).toHaveLength(2);
    const row = rowsOf(out).find((c) => c[0]!.endsWith('cut.png'))!;
    expect(row[7]!.length).toBeGreaterThan(0);
  });

  it('a folder without images fails and leaves no CSV, with --input and without', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.txt'), 'no films here');
    const archived = join(dir, 'empty-archive.csv');
    const r = await runCli(['predict', '--run', run, '--input', empty, '--out', archived]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no image files under ${empty}`);
    expect(existsSync(archived)).toBe(false);
    const listed = join(dir, 'empty-files.csv');
    const f = await runCli(['predict', '--run', run, empty, '--out', listed]);
    expect(f.code).toBe(1);
    expect(existsSync(listed)).toBe(false);
  });
});

/** A grey PNG whose IHDR claims width x height over a few bytes of zeros: a decompression bomb's header. */
function headerBomb(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe.sequential('predict: the pixel limit', () => {
  it('refuses a film above the limit from its header, and --max-pixels moves the limit', async () => {
    const films = join(dir, 'limit');
    mkdirSync(films);
    writeFileSync(join(films, 'bomb.png'), headerBomb(20000, 20000));
    copyFileSync(join(archive, 'film-1.png'), join(films, 'film.png'));
    const r = await runCli(['predict', '--run', run, films]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.includes('bomb.png'))).toMatch(
      /,,,,,,,"image size 20000x20000 \(400,000,000 pixels\) is above the limit of 30,000,000 pixels/,
    );
    expect(lines.find((l) => l.includes('film.png'))).toMatch(/,[FM],[\d.]+,(yes|no),,,,$/);
    // The sample films are 128x154 = 19,712 pixels.
    const low = await runCli(['predict', '--run', run, join(films, 'film.png'), '--max-pixels', '19711']);
    expect(low.code).toBe(1);
    expect(low.stdout + low.stderr).toMatch(/image size 128x154 \(19,712 pixels\) is above the limit of 19,711 pixels/);
    const bad = await runCli(['predict', '--run', run, films, '--max-pixels', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-pixels must be an integer from 1 to 268435456, got 'many'/);
  });
});
