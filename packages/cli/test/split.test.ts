import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface SplitJson {
  seed: number;
  groupedBySubject: boolean;
  splits: Record<string, { counts: { female: number; male: number }; files: string[] }>;
}
const readSplit = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as SplitJson;

describe('split', () => {
  it('splits the committed cervical sample 0.8/0.1/0.1 per class, prints the table and writes split.json', async () => {
    const out = join(dir, 'sample.json');
    const r = await runCli(['split', '--data', sample, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('800 images');
    expect(r.stdout).toContain('Split: seed 0, fractions 0.8/0.1/0.1, grouped by subject');
    expect(r.stdout).toMatch(/train\s+320\s+320\s+640\n/);
    expect(r.stdout).toMatch(/val\s+40\s+40\s+80\n/);
    expect(r.stdout).toMatch(/test\s+40\s+40\s+80\n/);
    expect(r.stdout).toMatch(/total\s+400\s+400\s+800\n/);
    const json = readSplit(out);
    expect(json.seed).toBe(0);
    expect(json.splits.train!.counts).toEqual({ female: 320, male: 320 });
    expect(json.splits.test!.files).toHaveLength(80);
    const all = ['train', 'val', 'test'].flatMap((s) => json.splits[s]!.files);
    expect(new Set(all).size).toBe(800);

    // Same data, same seed: the same split, and the file is left alone.
    const again = await runCli(['split', '--data', sample, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already holds this split; left unchanged');

    // A different split never silently replaces one that runs may depend on.
    const other = await runCli(['split', '--data', sample, '--out', out, '--seed', '5']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('already exists and holds a different split');
    expect(readSplit(out).seed).toBe(0);
    const forced = await runCli(['split', '--data', sample, '--out', out, '--seed', '5', '--force']);
    expect(forced.code).toBe(0);
    expect(readSplit(out).seed).toBe(5);
  });

  it('exact counts leave the rest unused and show it in the table', async () => {
    const out = join(dir, 'counts.json');
    const r = await runCli(['split', '--data', sample, '--counts', 'train=30:20,val=5:5,test=5:5', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('exact counts');
    expect(r.stdout).toMatch(/train\s+30\s+20\s+50\n/);
    expect(r.stdout).toMatch(/unused\s+360\s+370\s+730\n/);
    expect(readSplit(out).splits.val!.counts).toEqual({ female: 5, male: 5 });
  });

  it('the paper counts do not fit the small sample: one error naming the shortfall, nothing written', async () => {
    const out = join(dir, 'paper.json');
    const r = await runCli(['split', '--data', sample, '--counts', 'paper-cervical', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('counts ask for 4000 + 500 + 553 = 5053 female images but the dataset has 400');
    expect(existsSync(out)).toBe(false);
  });

  it('reads class folders when there is no labels.csv', async () => {
    const root = join(dir, 'folders');
    for (const [cls, sex] of [
      ['female', 'F'],
      ['male', 'M'],
    ] as const) {
      mkdirSync(join(root, cls), { recursive: true });
      const files = readFileSync(join(sample, 'labels.csv'), 'utf8')
        .split('\n')
        .filter((l) => l.split(',')[1] === sex)
        .slice(0, 10);
      for (const line of files) copyFileSync(join(sample, line.split(',')[0]!), join(root, cls, line.split(',')[0]!));
    }
    const out = join(dir, 'folders.json');
    const r = await runCli(['split', '--data', root, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('labels from class folders');
    expect(r.stdout).toMatch(/train\s+8\s+8\s+16\n/);
    expect(readSplit(out).groupedBySubject).toBe(false);
  });

  it('a bad labels file lists every problem with its line, and writes nothing', async () => {
    const root = join(dir, 'bad');
    mkdirSync(root);
    const [a, b] = ['cervical-0001-00000.png', 'cervical-0001-00001.png'];
    copyFileSync(join(sample, a), join(root, a));
    copyFileSync(join(sample, b), join(root, b));
    writeFileSync(join(root, 'labels.csv'), `file,sex\n${a},F\nmissing.png,M\n${b},X\n`);
    const out = join(dir, 'bad.json');
    const r = await runCli(['split', '--data', root, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: dataset .* is not usable; nothing was written \(\d+ problems\):/);
    expect(r.stderr).toMatch(/line 3: missing\.png: .*(not found|does not exist|no such)/i);
    expect(r.stderr).toMatch(new RegExp(`line 4: ${b.replace('.', '\\.')}: unknown sex "X"`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);

    // --debug adds the stack for a bug report.
    const debug = await runCli(['split', '--data', root, '--out', out, '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('a missing data folder says which and what to do', async () => {
    const r = await runCli(['split', '--data', join(dir, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: data folder ${join(dir, 'nope')} does not exist`);
  });

  it('an --out that is a folder is named as such', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const r = await runCli(['split', '--data', sample, '--out', folder]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: --out ${folder} is a folder`);
  });
});
