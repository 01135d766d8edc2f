import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/commands/train.js';
import { PRESETS, runConfigProblem } from '../src/run/config.js';
import { runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-damaged-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 40);
  await trainTinyRun(data, run);
});

const tensorFile = (r: string, name: 'best' | 'last') =>
  join(r, 'checkpoints', JSON.parse(readFileSync(join(r, 'checkpoints', `${name}.json`), 'utf8')).tensors as string);

/** A copy of the run with one thing broken; returns it and the file the error must name. */
function damaged(kind: 'truncated' | 'sidecar' | 'wrong-model'): { run: string; file: string } {
  const copy = join(dir, `${kind}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(run, copy, { recursive: true });
  if (kind === 'truncated') {
    const file = tensorFile(copy, 'best');
    truncateSync(file, 200);
    return { run: copy, file };
  }
  if (kind === 'sidecar') {
    const file = join(copy, 'checkpoints', 'best.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 50));
    return { run: copy, file };
  }
  // config.json describes a narrower network than the one the checkpoint holds.
  const config = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8'));
  config.config.model.hidden = [8, 8];
  writeFileSync(join(copy, 'config.json'), JSON.stringify(config));
  return { run: copy, file: tensorFile(copy, 'best') };
}

const COMMANDS: Record<string, (r: string) => string[]> = {
  evaluate: (r) => ['evaluate', '--run', r, '--workers', '0'],
  predict: (r) => ['predict', '--run', r, join(data, readdirSync(data).find((f) => f.endsWith('.png'))!)],
  explain: (r) => [
    'explain',
    '--run',
    r,
    join(data, readdirSync(data).find((f) => f.endsWith('.png'))!),
    '--out',
    join(r, 'cams'),
  ],
  report: (r) => ['report', r, '--workers', '0'],
};

/** One error naming the file once, what is wrong, then what to do; no "bug" line, exit 1. */
function expectInputError(r: { code: number; stderr: string }, file: string, wrong: RegExp, todo: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toContain('This looks like a bug');
  const lines = r.stderr.split('\n').filter((l) => !l.startsWith('Warning:') && l !== '');
  const at = lines.findIndex((l) => l.startsWith('error: '));
  expect(lines[at]).toMatch(wrong);
  expect(lines[at]!.split(file)).toHaveLength(2);
  expect(lines[at + 1]).toMatch(todo);
}

describe.sequential('damaged checkpoints are bad input, named with what to do', () => {
  for (const name of Object.keys(COMMANDS)) {
    it(`${name}: a truncated .safetensors, a broken JSON sidecar, a checkpoint of another network`, async () => {
      const todo = name === 'report' ? /--gallery 0/ : /--checkpoint last/;
      const cut = damaged('truncated');
      expectInputError(await runCli(COMMANDS[name]!(cut.run)), cut.file, /truncated/, todo);
      const side = damaged('sidecar');
      expectInputError(await runCli(COMMANDS[name]!(side.run)), side.file, /not valid JSON/, todo);
      const wrong = damaged('wrong-model');
      expectInputError(
        await runCli(COMMANDS[name]!(wrong.run)),
        wrong.file,
        /does not fit .*'classifier\.1\.weight' has shape \[64, 32\] in the checkpoint but \[8, 32\]/,
        /another network than .*config\.json/,
      );
      expect(existsSync(join(cut.run, 'cams'))).toBe(false);
    });
  }

  it('export-web and train --resume name a damaged checkpoint too, export-web one of another network; report --gallery 0 needs none', async () => {
    const side = damaged('sidecar');
    const web = await runCli(['export-web', side.run, '--out', join(side.run, 'web')]);
    expectInputError(web, side.file, /not valid JSON/, /--checkpoint last/);
    expect(existsSync(join(side.run, 'web'))).toBe(false);
    const wrong = damaged('wrong-model');
    expectInputError(
      await runCli(['export-web', wrong.run, '--out', join(wrong.run, 'web')]),
      wrong.file,
      /does not fit .*'classifier\.1\.weight' has shape \[64, 32\] in the checkpoint but \[8, 32\]/,
      /another network than .*config\.json/,
    );
    expect(existsSync(join(wrong.run, 'web'))).toBe(false);
    const cut = damaged('truncated');
    const last = tensorFile(cut.run, 'last');
    truncateSync(last, 100);
    const resumed = await runCli(['train', '--out', cut.run, '--resume', '--epochs', '2', '--workers', '0']);
    expectInputError(resumed, last, /truncated/, /train again into a new --out/);
    const report = await runCli(['report', cut.run, '--gallery', '0']);
    expect(report.code).toBe(0);
    expect(existsSync(join(cut.run, 'report', 'report.html'))).toBe(true);
  });

  it("a config.json whose model section is damaged is named, in every command that reads it; every preset's config passes", async () => {
    const copy = join(dir, 'bad-config');
    cpSync(run, copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8'));
    delete config.config.model.channels;
    writeFileSync(join(copy, 'config.json'), JSON.stringify(config));
    for (const args of [...Object.values(COMMANDS).map((c) => c(copy)), ['train', '--out', copy, '--resume']]) {
      const r = await runCli(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toContain(`error: ${join(copy, 'config.json')}: config.model.channels is missing or not valid`);
      expect(r.stderr).not.toContain('This looks like a bug');
    }
    for (const preset of PRESETS) {
      for (const model of ['seqcnn', 'densenet121']) {
        const c = resolveConfig({ preset, model });
        expect(runConfigProblem(c), `${preset} ${model}`).toBeUndefined();
      }
    }
  });

  it('report: a damaged test evaluation CSV is named with its line', async () => {
    const copy = join(dir, 'bad-eval');
    cpSync(run, copy, { recursive: true });
    const csv = join(copy, 'eval', 'test-best-predictions.csv');
    writeFileSync(csv, 'file,true_sex,predicted_sex,probability_male\n"a.png,F,M,0.5\n');
    const r = await runCli(['report', copy, '--gallery', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${csv} line 2: a quoted field is never closed`);
    expect(r.stderr).toContain('Evaluate the run again');
  });

  it('predict --input with a damaged checkpoint leaves no CSV behind', async () => {
    const cut = damaged('truncated');
    const out = join(dir, 'archive.csv');
    const r = await runCli(['predict', '--run', cut.run, '--input', data, '--out', out]);
    expectInputError(r, cut.file, /truncated/, /--checkpoint last/);
    expect(existsSync(out)).toBe(false);
  });
});
