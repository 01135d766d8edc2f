// The quick start end to end: `spine-cli train` with the quick preset on the bundled synthetic
// cervical sample (800 films, test split 160), shortened to a few epochs to keep CI fast. It must
// really learn. By luck (a network that learned nothing) test accuracy is 0.5 with a standard
// deviation of 0.04 on 160 films, and ROC AUC 0.5 with 0.046 (Mann-Whitney, 80 + 80): the bars
// below are 3.8 and 5.5 standard deviations above that (p < 1e-4 and < 1e-7). Measured on lavapipe
// (seed 0, 6 epochs, best checkpoint at epoch 3): accuracy 0.731, AUC 0.819.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { presetConfig } from '../src/run/config.js';
import { cliBin, repoRoot } from './run-cli.js';

/** Epochs of the shortened run (the preset trains longer); see the README's quick-start table. */
const EPOCHS = 6;
const ACCURACY_BAR = 0.65;
const AUC_BAR = 0.75;

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-quickstart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function train(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliBin().then(
    (bin) =>
      new Promise((done) => {
        // From the repository root, as a user runs `npx spine-cli train` there.
        execFile(process.execPath, [bin, 'train', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 900_000 }, (error, stdout, stderr) => {
          done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
        });
      }),
  );
}

describe('quick start', () => {
  it(`learns the bundled sample: test accuracy >= ${ACCURACY_BAR}, AUC >= ${AUC_BAR} after ${EPOCHS} epochs of the quick preset; prints the confusion matrix, accuracy and run directory`, async () => {
    const run = join(dir, 'runs', 'quick');
    const r = await train(['--epochs', String(EPOCHS), '--out', run]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);

    // Printed: the paper-layout confusion matrix, the accuracy, where the run went.
    expect(r.stdout).toMatch(/Test set \(160 films, best checkpoint\)/);
    const matrix = /true F\s+(\d+)\s+(\d+)\ntrue M\s+(\d+)\s+(\d+)/.exec(r.stdout);
    expect(matrix).not.toBeNull();
    const [ff, fm, mf, mm] = matrix!.slice(1).map(Number) as [number, number, number, number];
    expect(ff + fm + mf + mm).toBe(160);
    const printed = Number(/accuracy\s+(\d+\.\d)%/.exec(r.stdout)![1]) / 100;
    expect(r.stdout).toContain(`Run directory: ${run}`);

    // Written: the run directory with the preset's configuration and the test evaluation.
    const record = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    const preset = presetConfig('quick', record.config.model);
    expect(record.config).toMatchObject({ preset: 'quick', seed: 0, epochs: EPOCHS, batchSize: preset.batchSize, lr: preset.lr, splitFractions: preset.splitFractions, augment: preset.augment });
    expect(record.config.data.root).toMatch(/test-data\/sample\/cervical$/);
    const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
    expect([split.splits.train.files.length, split.splits.val.files.length, split.splits.test.files.length]).toEqual([560, 80, 160]);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(EPOCHS);
    expect(readdirSync(join(run, 'checkpoints'))).toEqual(expect.arrayContaining(['last.json', 'best.json']));
    const ev = JSON.parse(readFileSync(join(run, 'eval', 'test-best.json'), 'utf8'));
    expect(ev.n).toBe(160);
    expect(ev.confusion).toEqual([[ff, fm], [mf, mm]]);
    expect(ev.accuracy).toBeCloseTo((ff + mm) / 160, 10);
    expect(printed).toBeCloseTo(ev.accuracy, 3);
    expect(existsSync(join(run, 'eval', 'test-best-predictions.csv'))).toBe(true);

    // It learned: well above chance on films it never trained or selected on, and both sexes.
    expect(ev.accuracy).toBeGreaterThanOrEqual(ACCURACY_BAR);
    expect(ev.rocAuc).toBeGreaterThanOrEqual(AUC_BAR);
    expect(Math.min(ff, mm)).toBeGreaterThan(40); // more than half of each sex right, not one class for all
  }, 900_000);
});
