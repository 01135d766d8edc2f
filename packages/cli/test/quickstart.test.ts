// The quick start end to end: `spine-cli train` with the quick preset, which generates its 2000
// synthetic cervical films on first use (here into a temporary cache folder) and splits them
// 1400/200/400, shortened to a few epochs to keep CI fast. It must really learn. By luck (a
// network that learned nothing) test accuracy is 0.5 with a standard deviation of 0.025 on 400
// films, and ROC AUC 0.5 with 0.029 (Mann-Whitney, 200 + 200): the bars below are 6 and 8.6
// standard deviations above that. Measured on lavapipe (seed 0, 4 epochs, best checkpoint at
// epoch 4, Winograd 3x3 convs): accuracy 0.785, AUC 0.867 (0.790 and 0.861 before them).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../src/run/config.js';
import { samePixels } from './png-pixels.js';
import { cliBin, repoRoot } from './run-cli.js';

/** Epochs of the shortened run (the preset trains longer); see the README's quick-start table. */
const EPOCHS = 4;
const ACCURACY_BAR = 0.65;
const AUC_BAR = 0.75;

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-quickstart-'));
const cacheDir = join(dir, 'cache');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function train(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliBin().then(
    (bin) =>
      new Promise((done) => {
        // From the repository root, as a user runs `npx spine-cli train` there.
        execFile(
          process.execPath,
          [bin, 'train', ...args],
          { cwd: repoRoot, encoding: 'utf8', timeout: 900_000, env: { ...process.env, SPINE_CLI_CACHE_DIR: cacheDir } },
          (error, stdout, stderr) => {
            done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
          },
        );
      }),
  );
}

describe('quick start', () => {
  it(`learns the generated synthetic films: test accuracy >= ${ACCURACY_BAR}, AUC >= ${AUC_BAR} after ${EPOCHS} epochs of the quick preset; prints the confusion matrix, accuracy and run directory`, async () => {
    const run = join(dir, 'runs', 'quick');
    const r = await train(['--epochs', String(EPOCHS), '--out', run]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);

    // The films were generated into the cache folder, the first 800 the committed sample's films.
    expect(r.stderr).toMatch(/Generating synthetic films once: 2000 cervical films/);
    const films = join(cacheDir, 'synthetic', 'cervical-s1-n2000-w128');
    expect(readFileSync(join(films, 'labels.csv'), 'utf8').trim().split('\n')).toHaveLength(2001);
    for (const f of ['cervical-0001-00000.png', 'cervical-0001-00799.png'])
      expect(samePixels(join(films, f), join(repoRoot, 'test-data', 'sample', 'cervical', f)), f).toBe(true);

    // Printed: the paper-layout confusion matrix, the accuracy, where the run went.
    expect(r.stdout).toMatch(/Test set \(400 films, best checkpoint\)/);
    const matrix = /true F\s+(\d+)\s+(\d+)\ntrue M\s+(\d+)\s+(\d+)/.exec(r.stdout);
    expect(matrix).not.toBeNull();
    const [ff, fm, mf, mm] = matrix!.slice(1).map(Number) as [number, number, number, number];
    expect(ff + fm + mf + mm).toBe(400);
    const printed = Number(/accuracy\s+(\d+\.\d)%/.exec(r.stdout)![1]) / 100;
    expect(r.stdout).toContain(`Run directory: ${run}`);

    // Written: the run directory with the preset's configuration and the test evaluation.
    const record = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    const preset = presetConfig('quick');
    expect(record.config).toMatchObject({
      preset: 'quick',
      seed: 0,
      epochs: EPOCHS,
      batchSize: preset.batchSize,
      lr: preset.lr,
      splitFractions: preset.splitFractions,
      augment: preset.augment,
    });
    expect(record.config.data.root).toBe(films);
    const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
    expect([split.splits.train.files.length, split.splits.val.files.length, split.splits.test.files.length]).toEqual([
      1400, 200, 400,
    ]);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(EPOCHS);
    expect(readdirSync(join(run, 'checkpoints'))).toEqual(expect.arrayContaining(['last.json', 'best.json']));
    const ev = JSON.parse(readFileSync(join(run, 'eval', 'test-best.json'), 'utf8'));
    expect(ev.n).toBe(400);
    expect(ev.confusion).toEqual([
      [ff, fm],
      [mf, mm],
    ]);
    expect(ev.accuracy).toBeCloseTo((ff + mm) / 400, 10);
    expect(printed).toBeCloseTo(ev.accuracy, 3);
    expect(existsSync(join(run, 'eval', 'test-best-predictions.csv'))).toBe(true);

    // It learned: well above chance on films it never trained or selected on, and both sexes.
    expect(ev.accuracy).toBeGreaterThanOrEqual(ACCURACY_BAR);
    expect(ev.rocAuc).toBeGreaterThanOrEqual(AUC_BAR);
    expect(Math.min(ff, mm)).toBeGreaterThan(100); // more than half of each sex right, not one class for all
  }, 900_000);
});
