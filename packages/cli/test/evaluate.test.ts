import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-evaluate-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(data);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  writeFileSync(join(data, 'labels.csv'), [lines[0], ...lines.slice(1, 61)].join('\n') + '\n');
  for (const line of lines.slice(1, 61)) copyFileSync(join(sample, line.split(',')[0]!), join(data, line.split(',')[0]!));
  const r = await runCli(['train', '--data', data, '--input-size', '32', '--workers', '0', '--epochs', '1', '--out', run]);
  if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
});

describe('evaluate', () => {
  it('--json reports accuracy, the paper-layout confusion matrix, n and the other metrics', async () => {
    const r = await runCli(['evaluate', '--run', run, '--split', 'test', '--json', '--workers', '0']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
    expect(report.n).toBe(split.splits.test.files.length);
    expect(report.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(report.n);
    expect(report.confusion[0][0] + report.confusion[0][1]).toBe(split.splits.test.counts.female);
    expect(report.accuracy).toBeCloseTo((report.confusion[0][0] + report.confusion[1][1]) / report.n, 10);
    for (const k of ['sensitivityMale', 'specificityMale', 'balancedAccuracy', 'rocAuc', 'accuracyCI95']) expect(k in report).toBe(true);
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
