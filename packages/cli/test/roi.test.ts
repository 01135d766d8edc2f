import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage } from '@spine/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, presetConfig } from '../src/run/config.js';
import { repoRoot, runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-roi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sample = join(repoRoot, 'test-data', 'sample');
const db = join(dir, 'db');
const films = join(dir, 'films');
const index = join(dir, 'index.json');

/** 16 of the committed ROI-marked references and 8 labelled cervical films, copied so the tests can break them. */
beforeAll(() => {
  mkdirSync(db);
  const rois = JSON.parse(readFileSync(join(sample, 'cervical-roi', 'rois.json'), 'utf8')) as Record<string, unknown>;
  const names = Object.keys(rois).sort().slice(0, 16);
  for (const n of names) copyFileSync(join(sample, 'cervical-roi', n), join(db, n));
  writeFileSync(join(db, 'rois.json'), JSON.stringify(Object.fromEntries(names.map((n) => [n, rois[n]]))));
  mkdirSync(films);
  const labels = readFileSync(join(sample, 'cervical', 'labels.csv'), 'utf8')
    .trim()
    .split('\n');
  for (const line of labels.slice(1, 9))
    copyFileSync(join(sample, 'cervical', line.split(',')[0]!), join(films, line.split(',')[0]!));
  writeFileSync(join(films, 'labels.csv'), `${labels.slice(0, 9).join('\n')}\n`);
});

function csv(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

describe('roi index', () => {
  it('describes the reference films into a versioned index', async () => {
    const r = await runCli(['roi', 'index', '--db', db, '--out', index, '--workers', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Wrote ${index}: 16 reference films from ${db}`);
    expect(r.stdout).toContain('PHOG: 8 bins over 360 degrees, 3 levels (680 values), working width 128');
    const json = JSON.parse(readFileSync(index, 'utf8')) as {
      format: string;
      version: number;
      references: { descriptor: number[] }[];
    };
    expect([json.format, json.version, json.references.length, json.references[0]!.descriptor.length]).toEqual([
      'spine-cbir-roi-index',
      1,
      16,
      680,
    ]);
  });

  it('PHOG options are recorded; bad values and missing folders are clear errors', async () => {
    const other = join(dir, 'index-180.json');
    const r = await runCli([
      'roi',
      'index',
      '--db',
      db,
      '--out',
      other,
      '--bins',
      '9',
      '--angle',
      '180',
      '--levels',
      '2',
      '--working-width',
      '64',
      '--workers',
      '0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('PHOG: 9 bins over 180 degrees, 2 levels (189 values), working width 64');
    const bad = await runCli(['roi', 'index', '--db', db, '--out', other, '--angle', '90']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--angle must be one of 180, 360')]);
    const missing = await runCli(['roi', 'index', '--db', join(dir, 'nope'), '--out', other]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /error: .*nope\/rois\.json: not found: a reference folder holds its films and a rois\.json/,
    );
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('roi crop', () => {
  const out = join(dir, 'crops');

  it('crops every film, writes manifest, labels for the crops, accuracy and previews', async () => {
    const r = await runCli([
      'roi',
      'crop',
      '--index',
      index,
      '--data',
      films,
      '--out',
      out,
      '--preview',
      '--workers',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Cropped 8 of 8 films into .*crops \(8 this run in .*, 2 workers\)/);
    expect(r.stdout).toMatch(/Against the true ROI boxes in labels\.csv \(8 films\):/);
    expect(r.stderr).toMatch(/roi crop: 8\/8 films/);
    // 1400 px at 1462 width -> 123 px on these 128 px films.
    const crop = decodeImage(readFileSync(join(out, 'cervical-0001-00000.png')), 'crop');
    expect([crop.width, crop.height, crop.channels]).toEqual([123, 123, 1]);
    const manifest = csv(join(out, 'manifest.csv'));
    expect(manifest[0]).toEqual([
      'source',
      'crop',
      'match',
      'distance',
      'film_width',
      'film_height',
      'centre_x',
      'centre_y',
      'box_x',
      'box_y',
      'box_size',
      'error',
    ]);
    expect(manifest).toHaveLength(9);
    for (const row of manifest.slice(1)) {
      expect(existsSync(join(db, row[2]!))).toBe(true); // the match is a reference film
      expect(Number(row[3])).toBeGreaterThan(0);
      // The box is centred on the centre.
      expect(Number(row[8]) + 123 / 2).toBeCloseTo(Number(row[6]), -0.2);
      expect(row[11]).toBe('');
    }
    // labels.csv: same films and sexes; the true ROI moved into crop pixels.
    const src = csv(join(films, 'labels.csv'));
    const lab = csv(join(out, 'labels.csv'));
    expect(lab[0]).toEqual(src[0]);
    expect(lab.map((l) => l[1])).toEqual(src.map((l) => l[1]));
    const m1 = manifest[1]!;
    expect(Number(lab[1]![5])).toBe(Number(src[1]![5]) - Number(m1[8]));
    expect(Number(lab[1]![6])).toBe(Number(src[1]![6]) - Number(m1[9]));
    const acc = JSON.parse(readFileSync(join(out, 'roi-accuracy.json'), 'utf8')) as {
      films: number;
      iou: { median: number };
      perFilm: unknown[];
    };
    expect(acc.films).toBe(8);
    expect(acc.perFilm).toHaveLength(8);
    expect(acc.iou.median).toBeGreaterThan(0.3);
    expect(readdirSync(join(out, 'preview')).sort()).toEqual(
      src
        .slice(1)
        .map((l) => l[0])
        .sort(),
    );
    const fig = decodeImage(readFileSync(join(out, 'preview', 'cervical-0001-00000.png')), 'preview');
    expect([fig.height, fig.channels]).toEqual([496, 3]);
  });

  it('roi-accuracy.json gives the padded share of each crop; --keep-inside moves the squares onto the films', async () => {
    type Acc = { padding: { mean: number; max: number }; perFilm: { file: string; padding: number }[] };
    const centred = JSON.parse(readFileSync(join(out, 'roi-accuracy.json'), 'utf8')) as Acc;
    const manifest = csv(join(out, 'manifest.csv')).slice(1);
    // The padded share follows from the box and the film: 128x154 films, 123 px squares.
    for (const f of centred.perFilm) {
      const row = manifest.find((m) => m[0] === f.file)!;
      const [x, y] = [Number(row[8]), Number(row[9])];
      const inX = Math.min(x + 123, 128) - Math.max(x, 0);
      const inY = Math.min(y + 123, 154) - Math.max(y, 0);
      expect(f.padding).toBeCloseTo(1 - (inX * inY) / (123 * 123), 12);
    }
    expect(centred.padding.max).toBe(Math.max(...centred.perFilm.map((f) => f.padding)));
    expect(centred.padding.max).toBeGreaterThan(0); // the paper's centred square leaves these films
    const inside = join(dir, 'crops-inside');
    const r = await runCli([
      'roi',
      'crop',
      '--index',
      index,
      '--data',
      films,
      '--out',
      inside,
      '--keep-inside',
      '--workers',
      '0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kept inside the film');
    expect(r.stdout).toContain('Padding: none, every square lies on its film');
    const kept = JSON.parse(readFileSync(join(inside, 'roi-accuracy.json'), 'utf8')) as Acc;
    expect(kept.perFilm.map((f) => f.padding)).toEqual(centred.perFilm.map(() => 0));
    expect([kept.padding.mean, kept.padding.max]).toEqual([0, 0]);
    for (const m of csv(join(inside, 'manifest.csv')).slice(1)) {
      expect(Number(m[8])).toBeGreaterThanOrEqual(0);
      expect(Number(m[8]) + 123).toBeLessThanOrEqual(128);
      expect(Number(m[9])).toBeGreaterThanOrEqual(0);
      expect(Number(m[9]) + 123).toBeLessThanOrEqual(154);
    }
    // A padded film's crop now holds film where the centred one held black.
    const worst = centred.perFilm.reduce((a, b) => (b.padding > a.padding ? b : a)).file;
    const black = (path: string) => decodeImage(readFileSync(path), 'crop').data.filter((v) => v === 0).length;
    expect(black(join(inside, worst))).toBeLessThan(black(join(out, worst)));
  });

  it('a rerun resumes: only missing crops are made again, identical to the first run', async () => {
    const victim = join(out, 'cervical-0001-00003.png');
    const before = readFileSync(victim);
    const untouched = statSync(join(out, 'cervical-0001-00000.png')).mtimeMs;
    rmSync(victim);
    const r = await runCli(['roi', 'crop', '--index', index, '--data', films, '--out', out, '--preview']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Resuming: 7 of 8 films already cropped in ${out}`);
    expect(r.stdout).toMatch(/Cropped 8 of 8 films .*\(1 this run/);
    expect(readFileSync(victim).equals(before)).toBe(true);
    expect(statSync(join(out, 'cervical-0001-00000.png')).mtimeMs).toBe(untouched);
    expect(csv(join(out, 'manifest.csv'))).toHaveLength(9);
  });

  it('other settings in the same folder are refused', async () => {
    const r = await runCli(['roi', 'crop', '--index', index, '--data', films, '--out', out, '--side', '700']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${out} holds crops made with other settings`);
    expect(r.stderr).toContain('Use another --out, or delete that folder to start over.');
  });

  it('a broken film is recorded with its reason and the others are still cropped (--size resizes)', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    const src = readFileSync(join(films, 'labels.csv'), 'utf8').trim().split('\n');
    for (const line of src.slice(1, 4))
      copyFileSync(join(films, line.split(',')[0]!), join(broken, line.split(',')[0]!));
    writeFileSync(join(broken, src[2]!.split(',')[0]!), 'not an image');
    writeFileSync(join(broken, 'labels.csv'), `${src.slice(0, 4).join('\n')}\n`);
    const out2 = join(dir, 'crops-broken');
    const r = await runCli([
      'roi',
      'crop',
      '--index',
      index,
      '--data',
      broken,
      '--out',
      out2,
      '--size',
      '64',
      '--workers',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Cropped 2 of 3 films');
    // The film named once: in front of the reason here, in its own column in the manifest.
    expect(r.stdout).toMatch(/1 film\(s\) could not be cropped .*\n {2}cervical-0001-00001\.png: \S/);
    expect(r.stdout.split('cervical-0001-00001.png')).toHaveLength(2);
    const manifest = readFileSync(join(out2, 'manifest.csv'), 'utf8').trim().split('\n');
    expect(manifest).toHaveLength(4);
    // No crop, no match; the reason alone in the error column.
    expect(manifest[2]).toMatch(/^cervical-0001-00001\.png,,,(,){8}\S/);
    expect(manifest[2]!.split('cervical-0001-00001.png')).toHaveLength(2);
    expect(csv(join(out2, 'labels.csv'))).toHaveLength(3);
    const crop = decodeImage(readFileSync(join(out2, 'cervical-0001-00000.png')), 'crop');
    expect([crop.width, crop.height]).toEqual([64, 64]);
  });

  it('a folder without labels.csv: links to films are cropped like files, a broken link is named', async () => {
    const linked = join(dir, 'linked');
    mkdirSync(linked);
    const [first, second] = csv(join(films, 'labels.csv'))
      .slice(1)
      .map((c) => c[0]!);
    copyFileSync(join(films, first!), join(linked, first!));
    symlinkSync(join(films, second!), join(linked, second!));
    symlinkSync(join(dir, 'nowhere.png'), join(linked, 'gone.png'));
    const out3 = join(dir, 'crops-linked');
    const r = await runCli([
      'roi',
      'crop',
      '--index',
      index,
      '--data',
      linked,
      '--out',
      out3,
      '--size',
      '32',
      '--workers',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Cropped 2 of 2 films');
    expect(existsSync(join(out3, second!))).toBe(true);
    expect(r.stderr).toContain(`${join(linked, 'gone.png')}: symlink points to a missing file`);
    // A damaged settings file of that folder is named, not taken for a bug.
    writeFileSync(join(out3, 'roi-crop.json'), '{"index": ');
    const again = await runCli([
      'roi',
      'crop',
      '--index',
      index,
      '--data',
      linked,
      '--out',
      out3,
      '--size',
      '32',
      '--workers',
      '1',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error: ${join(out3, 'roi-crop.json')} is not valid JSON`);
    expect(again.stderr).not.toContain('This looks like a bug');
  });

  it('usage mistakes exit 2 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['roi', 'crop', '--data', films, '--out', out],
        /missing --index \(the index made by roi index\) for 'roi crop'/,
      ],
      [['roi', 'index', '--db', db, '--out', index, '--side', '3'], /--side is not a flag of 'roi index'/],
      [['roi', 'nonsense'], /unknown roi subcommand 'nonsense' \(use 'roi index' or 'roi crop'\)/],
      [['roi'], /missing index\|crop/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("Run 'spine-cli roi --help' for usage.");
    }
  });

  it('an index file of the wrong kind is one clear error', async () => {
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, '{"format": "something-else"}');
    const r = await runCli(['roi', 'crop', '--index', wrong, '--data', films, '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: .*wrong\.json: not an ROI index \(expected "format": "spine-cbir-roi-index"; make one with 'spine-cli roi index'\)/,
    );
  });

  it('--help shows both subcommands with examples', async () => {
    const r = await runCli(['roi', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: spine-cli roi index --db DIR --out INDEX.json');
    expect(r.stdout).toContain('roi crop --index INDEX.json --data DIR --out DIR');
    expect(r.stdout).toMatch(/--keep-inside\s+crop: shift the square onto the film instead of padding it with black/);
    expect(r.stdout).toContain(
      'spine-cli roi crop --index roi-index.json --data test-data/sample/cervical --out data/cervical-roi-crops',
    );
  });
});

describe('preset paper-seqcnn-roi', () => {
  it("is paper-seqcnn's recipe on the crops folder roi crop's help suggests", () => {
    expect(PRESETS).toContain('paper-seqcnn-roi');
    const roi = presetConfig('paper-seqcnn-roi');
    const paper = presetConfig('paper-seqcnn');
    expect({ ...roi, preset: 'paper-seqcnn', data: paper.data }).toEqual(paper);
    expect(roi.data.root).toBe(join(process.cwd(), 'data', 'cervical-roi-crops'));
  });
});
