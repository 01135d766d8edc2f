import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliBin, runCli, type CliResult } from './run-cli.js';

// The smoke study over both synthetic regions, in a cache folder of its own: the synthetic sets
// are generated there, and it holds no ImageNet weights, so DenseNet-121 runs from random init.
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-study-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
process.env.SPINE_CLI_CACHE_DIR = join(dir, 'cache');
const study = join(dir, 'study');
const args = ['study', '--scale', 'smoke', '--densenet-from-scratch', '--out', study, '--workers', '1'];

/** Runs spine-cli; `killWhen` sends SIGKILL to it once its stderr matches. */
async function cli(argv: readonly string[], killWhen?: RegExp): Promise<CliResult> {
  const bin = await cliBin();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (killWhen?.test(stderr)) child.kill('SIGKILL');
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 137 : -1), stdout, stderr }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The lines of a study.md section, from its heading to the next heading. */
function section(md: string, heading: string): string {
  const start = md.indexOf(`${heading}`);
  expect(start, `no section '${heading}' in study.md`).toBeGreaterThanOrEqual(0);
  const rest = md.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

const cells = (text: string, first: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`| ${first} |`));
  expect(line, `no row '${first}'`).toBeDefined();
  return line!
    .split('|')
    .slice(2, -1)
    .map((c) => c.trim());
};

const RUNS: [string, string][] = [
  ['cervical/seqcnn-full', '## Table 2.'],
  ['cervical/seqcnn-roi', '## Table 3.'],
  ['cervical/densenet121', '## Table 4.'],
  ['lumbar/densenet121', '## Table 6.'],
  ['lumbar/seqcnn-full', '### Sequential CNN on the original lumbar films (not in the paper)'],
  ['lumbar/seqcnn-roi', '### Sequential CNN on the CBIR ROI crops of the lumbar films (not in the paper)'],
];

describe('spine-cli study --scale smoke', () => {
  it("killed during its first training step, the same command continues it; DenseNet waits for weights or --densenet-from-scratch; the tables are the runs' evaluate --json", async () => {
    // SIGKILL once the first network has finished an epoch: the study dies without a word, and its
    // train child (which holds an IPC channel to it) exits when the channel closes.
    const killed = await cli(args, /cervical\/seqcnn-full: running[\s\S]*epoch 1: lr/);
    expect(killed.code, killed.stderr).toBe(137);
    const lock = JSON.parse(readFileSync(join(study, '.study.lock'), 'utf8')) as { pid: number; child?: number };
    for (let i = 0; i < 100 && lock.child !== undefined && alive(lock.child); i++)
      await new Promise((r) => setTimeout(r, 100));
    const state = JSON.parse(readFileSync(join(study, 'study.json'), 'utf8')) as {
      steps: Record<string, { status: string }>;
    };
    expect(state.steps['cervical/split']!.status).toBe('done');
    expect(state.steps['cervical/seqcnn-full']!.status).toBe('started');
    const splitTime = statSync(join(study, 'cervical', 'split.json')).mtimeMs;

    // Continued without --densenet-from-scratch: the cache has no ImageNet weights, so DenseNet-121 is skipped, saying why.
    const withoutDenseNet = args.filter((a) => a !== '--densenet-from-scratch');
    const resumed = await cli(withoutDenseNet);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('[1/12] cervical/split: done (kept)');
    expect(resumed.stderr).toMatch(/\[2\/12\] cervical\/seqcnn-full: continuing spine-cli train/);
    expect(resumed.stderr).toMatch(
      /\[6\/12\] cervical\/densenet121: skipped: no ImageNet weights of DenseNet-121 in the weights cache \(.*densenet121-a639ec97\.safetensors\): fetch them with 'spine-cli weights fetch densenet121'/,
    );
    expect(statSync(join(study, 'cervical', 'split.json')).mtimeMs).toBe(splitTime);
    expect(existsSync(join(study, '.study.lock'))).toBe(false);
    expect(section(readFileSync(join(study, 'study.md'), 'utf8'), '## Table 6.')).toContain(
      'Not run: no ImageNet weights of DenseNet-121',
    );
    expect(resumed.stdout).toMatch(/lumbar +DenseNet-121 +- +not run/);

    // --densenet-from-scratch added later runs the skipped steps only.
    const trainedTime = statSync(join(study, 'lumbar', 'seqcnn-roi', 'checkpoints', 'best.json')).mtimeMs;
    const scratch = await cli(args);
    expect(scratch.code, scratch.stderr).toBe(0);
    expect(scratch.stderr).toContain('[11/12] lumbar/seqcnn-roi: done (kept)');
    expect(scratch.stderr).toMatch(/\[12\/12\] lumbar\/densenet121: running spine-cli train .*--weights none/);
    expect(statSync(join(study, 'lumbar', 'seqcnn-roi', 'checkpoints', 'best.json')).mtimeMs).toBe(trainedTime);

    const md = readFileSync(join(study, 'study.md'), 'utf8');
    expect(md).toContain('**The data is synthetic.** The films are rendered by @spine/test-data');
    for (const [run, heading] of RUNS) {
      const ev = await runCli(['evaluate', '--run', join(study, run), '--json', '--workers', '0']);
      expect(ev.code, ev.stderr).toBe(0);
      const r = JSON.parse(ev.stdout) as {
        n: number;
        accuracy: number;
        accuracyCI95: [number, number];
        confusion: number[][];
        rocAuc: number;
      };
      const text = section(md, heading);
      expect(cells(text, 'true F').slice(0, 2), run).toEqual(r.confusion[0]!.map(String));
      expect(cells(text, 'true M').slice(0, 2), run).toEqual(r.confusion[1]!.map(String));
      expect(text, run).toContain(
        `ours **${r.accuracy.toFixed(3)}** (95% bootstrap CI ${r.accuracyCI95[0].toFixed(3)}-${r.accuracyCI95[1].toFixed(3)}, ${r.n} test films)`,
      );
      expect(text, run).toContain(`ROC AUC: ours ${r.rocAuc.toFixed(3)} (95% bootstrap CI `);
      expect(text, run).toContain(`](${run}/report/report.html)`);
    }
    // The paper's published numbers sit beside ours.
    expect(cells(section(md, '## Table 2.'), 'true F').slice(2)).toEqual(['506', '47']);
    expect(cells(section(md, '## Table 6.'), 'true M').slice(2)).toEqual(['7', '468']);
    // Tables 1 and 5: the split files' counts beside the paper's.
    for (const [region, table, paperTest] of [
      ['cervical', '## Table 1.', ['553', '474']],
      ['lumbar', '## Table 5.', ['293', '475']],
    ] as const) {
      const split = JSON.parse(readFileSync(join(study, region, 'split.json'), 'utf8')) as {
        splits: Record<string, { counts: { female: number; male: number } }>;
      };
      const test = cells(section(md, table), 'test');
      expect(test).toEqual([
        String(split.splits.test!.counts.female),
        String(split.splits.test!.counts.male),
        ...paperTest,
      ]);
    }
    const paired = section(md, '## Paired tests on the same test films');
    expect(paired.split('\n').filter((l) => /^\| (cervical|lumbar) \|/.test(l))).toHaveLength(6);
    const html = readFileSync(join(study, 'study.html'), 'utf8');
    expect(html).toContain('<h2 id="table-4">Table 4. DenseNet-121 on the cervical films</h2>');
    expect(html).toContain('<a href="lumbar/densenet121/report/report.html">');
  }, 600_000);

  it('a second run does no work; other settings are refused, naming them', async () => {
    const ckpt = join(study, 'lumbar', 'densenet121', 'checkpoints', 'best.json');
    const before = statSync(ckpt).mtimeMs;
    const again = await cli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('Every step is done (12 steps kept)');
    expect(again.stderr).not.toMatch(/running spine-cli/);
    expect(again.stdout).toMatch(/cervical +sequential CNN, original films/);
    expect(statSync(ckpt).mtimeMs).toBe(before);

    const other = await cli(['study', '--scale', 'paper', '--out', study]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/error: .*study holds a study made with other settings: --scale was smoke, now paper/);
    expect(other.stderr).toContain('Run it with the flags it was made with to continue it, or give another --out');
    const fewer = await cli(['study', '--scale', 'smoke', '--regions', 'cervical', '--out', study]);
    expect(fewer.code).toBe(1);
    expect(fewer.stderr).toContain('--regions was cervical,lumbar, now cervical');
  }, 120_000);

  it('bad flags are usage errors; a folder of other things is not taken over', async () => {
    const bad = await runCli(['study', '--out', join(dir, 'x'), '--regions', 'thoracic']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--regions must be one of cervical, lumbar')]);
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'notes.txt'), 'not a study\n');
    const taken = await runCli(['study', '--out', join(dir, 'other'), '--scale', 'smoke']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/error: .*other is not empty and holds no study \(no study\.json\)/);
    expect(readdirSync(join(dir, 'other'))).toEqual(['notes.txt']);
    const missing = await runCli(['study', '--out', join(dir, 'y'), '--cervical', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--cervical .*nope: no such file or folder/);
  });
});
