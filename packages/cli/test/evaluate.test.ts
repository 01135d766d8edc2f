import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-evaluate-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 60);
  await trainTinyRun(data, run);
});

describe.sequential('evaluate', () => {
  it('--json reports accuracy, the paper-layout confusion matrix, n and the other metrics', async () => {
    const r = await runCli(['evaluate', '--run', run, '--split', 'test', '--json', '--workers', '0']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
    expect(report.n).toBe(split.splits.test.files.length);
    expect(report.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(report.n);
    expect(report.confusion[0][0] + report.confusion[0][1]).toBe(split.splits.test.counts.female);
    expect(report.accuracy).toBeCloseTo((report.confusion[0][0] + report.confusion[1][1]) / report.n, 10);
    for (const k of ['sensitivityMale', 'specificityMale', 'balancedAccuracy', 'rocAuc', 'accuracyCI95'])
      expect(k in report).toBe(true);
    expect(report).toMatchObject({ split: 'test', checkpoint: 'best', threshold: 0.5 });
    expect(JSON.parse(readFileSync(join(run, 'eval', 'test-best.json'), 'utf8')).accuracy).toBe(report.accuracy);
  });

  it('prints the table for another split and checkpoint; a missing run is a clear error', async () => {
    const r = await runCli(['evaluate', '--run', run, '--split', 'val', '--checkpoint', 'last', '--workers', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/val split of .* last checkpoint, epoch 1/);
    expect(r.stdout).toMatch(/true M\s+\d+\s+\d+/);
    const missing = await runCli(['evaluate', '--run', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('not a spine-cli run directory');
    const usage = await runCli(['evaluate', '--run', run, '--split', 'dev']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--split must be one of test, val, train');
    expect((await runCli(['evaluate'])).stderr).toContain('missing --run RUN');
  });
});

describe('predict', () => {
  it('predicts folders recursively into a CSV, listing an unreadable file with its reason', async () => {
    const films = join(dir, 'films');
    mkdirSync(join(films, 'nested'), { recursive: true });
    const names = readFileSync(join(data, 'labels.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1, 4)
      .map((l) => l.split(',')[0]!);
    copyFileSync(join(data, names[0]!), join(films, names[0]!));
    copyFileSync(join(data, names[1]!), join(films, 'nested', names[1]!));
    writeFileSync(join(films, 'broken.png'), 'not a png');
    writeFileSync(join(films, 'notes.txt'), 'skipped: not an image extension');
    const out = join(dir, 'predictions.csv');
    const r = await runCli(['predict', '--run', run, films, join(data, names[2]!), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/1 file\(s\) could not be read:\n\s+.*broken\.png: \S/);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('file,predicted_sex,probability_male,uncertain,recorded_sex,recorded_age,agrees,error');
    expect(lines).toHaveLength(5);
    const rows = lines.slice(1).map((l) => l.split(','));
    const broken = rows.find((c) => c[0]!.endsWith('broken.png'))!;
    expect(broken.slice(1, 7)).toEqual(['', '', '', '', '', '']);
    expect(broken[7]!.length).toBeGreaterThan(0);
    const good = rows.filter((c) => !c[0]!.endsWith('broken.png'));
    expect(good.map((c) => c[0]!.split('/').pop())).toEqual(expect.arrayContaining(names));
    for (const c of good) {
      expect(c[1]).toMatch(/^[FM]$/);
      const p = Number(c[2]);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(c[1]).toBe(p >= 0.5 ? 'M' : 'F');
      expect(c[3]).toBe(Math.max(p, 1 - p) < 0.6 ? 'yes' : 'no');
    }
  });

  it('usage: needs files; only unreadable files exit 1', async () => {
    const none = await runCli(['predict', '--run', run]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing FILES_OR_DIRS...');
    const bad = await runCli(['predict', '--run', run, join(dir, 'films', 'broken.png')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/broken\.png,,,,,,,\S/);
    const th = await runCli(['predict', '--run', run, data, '--threshold', '2']);
    expect(th.code).toBe(2);
    expect(th.stderr).toContain('--threshold must be a probability');
  });
});
