import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBin, repoRoot, runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-shard-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
const archive = join(dir, 'archive');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 3;
let whole = '';

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 40);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  await trainTinyRun(data, run);
  for (const d of ['x', 'y/z']) mkdirSync(join(archive, d), { recursive: true });
  for (let i = 0; i < 15; i++)
    copyFileSync(
      join(sample, lines[45 + i]!.split(',')[0]!),
      join(archive, ['', 'x/', 'y/z/'][i % 3]!, `film-${i}.png`),
    );
  writeFileSync(join(archive, 'x', 'broken.png'), 'not a png');
  const out = join(dir, 'whole.csv');
  const w = await runCli(['predict', '--run', run, '--input', archive, '--out', out, '--batch-size', '4']);
  if (w.code !== 0) throw new Error(`unsharded predict failed: ${w.stderr}`);
  whole = sorted(readFileSync(out, 'utf8'));
});

/** A CSV with its rows sorted by file (merge writes them so). */
const sorted = (text: string) => {
  const [header, ...rows] = text.trim().split('\n');
  return [header, ...rows.sort()].join('\n') + '\n';
};
const predictShard = (shard: string, out: string, env?: NodeJS.ProcessEnv, runDir = run) =>
  runCli(
    ['predict', '--run', runDir, '--input', archive, '--out', out, '--shard', shard, '--batch-size', '2'],
    env ? { env } : {},
  );

/** A copy of the run whose best checkpoint has one weight changed (same size, same file names). */
function retouchedRun(to: string): string {
  cpSync(run, to, { recursive: true });
  const meta = JSON.parse(readFileSync(join(to, 'checkpoints', 'best.json'), 'utf8')) as { tensors: string };
  const file = join(to, 'checkpoints', meta.tensors);
  const bytes = readFileSync(file);
  const headerBytes = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerBytes).toString('utf8')) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const key = Object.keys(header).find((k) => k.startsWith('model.') && header[k]!.dtype === 'F32')!;
  const at = 8 + headerBytes + header[key]!.data_offsets[0];
  bytes.writeFloatLE(bytes.readFloatLE(at) + 0.25, at);
  writeFileSync(file, bytes);
  return to;
}
const merge = (shards: string[], out: string) =>
  runCli(['predict', 'merge', ...shards, '--input', archive, '--out', out]);

describe.sequential('predict --shard and predict merge', () => {
  it(`${N} shards run side by side, merged, equal one unsharded run row for row`, async () => {
    const outs = Array.from({ length: N }, (_, k) => join(dir, `shard-${k}.csv`));
    const results = await Promise.all(outs.map((out, k) => predictShard(`${k}/${N}`, out)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const sizes = outs.map((o) => readFileSync(o, 'utf8').trim().split('\n').length - 1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(16);
    expect(sizes.every((s) => s > 0 && s < 16)).toBe(true);
    const all = join(dir, 'merged.csv');
    const m = await merge(outs, all);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).toContain(`Wrote ${all}: 16 film(s) from ${N} shard CSV(s)`);
    expect(readFileSync(all, 'utf8')).toBe(whole);
  });

  it('--shard auto takes K and N from a Slurm array or a Kubernetes Indexed Job, giving the same shards', async () => {
    const slurm = Array.from({ length: N }, (_, k) => join(dir, `slurm-${k}.csv`));
    const k8s = Array.from({ length: N }, (_, k) => join(dir, `k8s-${k}.csv`));
    for (let k = 0; k < N; k++) {
      const s = await predictShard('auto', slurm[k]!, {
        SLURM_ARRAY_TASK_ID: String(5 + k),
        SLURM_ARRAY_TASK_MIN: '5',
        SLURM_ARRAY_TASK_COUNT: String(N),
      });
      expect(s.code, s.stderr).toBe(0);
      expect(s.stderr).toContain(`Shard ${k}/${N} (Slurm array task ${5 + k}`);
      const j = await predictShard('auto', k8s[k]!, { JOB_COMPLETION_INDEX: String(k), SPINE_SHARD_COUNT: String(N) });
      expect(j.code, j.stderr).toBe(0);
      expect(j.stderr).toContain(`Shard ${k}/${N} (Kubernetes Indexed Job completion ${k}`);
      expect(readFileSync(slurm[k]!, 'utf8')).toBe(readFileSync(join(dir, `shard-${k}.csv`), 'utf8'));
      expect(readFileSync(k8s[k]!, 'utf8')).toBe(readFileSync(join(dir, `shard-${k}.csv`), 'utf8'));
    }
    const all = join(dir, 'merged-auto.csv');
    expect((await merge([...slurm], all)).code).toBe(0);
    expect(readFileSync(all, 'utf8')).toBe(whole);
  });

  it('--shard auto without a scheduler, or with an incomplete one, is a usage error', async () => {
    const none = await predictShard('auto', join(dir, 'never.csv'), {
      SLURM_ARRAY_TASK_ID: undefined,
      JOB_COMPLETION_INDEX: undefined,
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--shard auto finds no scheduler: neither SLURM_ARRAY_TASK_ID');
    const k8s = await predictShard('auto', join(dir, 'never.csv'), {
      JOB_COMPLETION_INDEX: '1',
      SPINE_SHARD_COUNT: undefined,
    });
    expect(k8s.stderr).toContain('JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but SPINE_SHARD_COUNT is not');
    const stepped = await predictShard('auto', join(dir, 'never.csv'), {
      SLURM_ARRAY_TASK_ID: '2',
      SLURM_ARRAY_TASK_MIN: '0',
      SLURM_ARRAY_TASK_COUNT: '4',
      SLURM_ARRAY_TASK_STEP: '2',
    });
    expect(stepped.stderr).toContain('the Slurm array has step 2');
    for (const bad of ['3/3', '1/0', '1', 'a/b'])
      expect((await predictShard(bad, join(dir, 'never.csv'))).code).toBe(2);
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
  });

  it('merge lists missing and duplicated films, exits 1 and writes nothing', async () => {
    const out = join(dir, 'bad-merge.csv');
    const missing = await merge([join(dir, 'shard-0.csv'), join(dir, 'shard-1.csv')], out);
    expect(missing.code).toBe(1);
    const lost = readFileSync(join(dir, 'shard-2.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]!);
    expect(missing.stderr).toContain(`${lost.length} film(s) of ${archive} are in no shard:`);
    for (const f of lost) expect(missing.stderr).toContain(`  ${f}\n`);
    const twice = await merge(
      [join(dir, 'shard-0.csv'), join(dir, 'shard-1.csv'), join(dir, 'shard-2.csv'), join(dir, 'slurm-1.csv')],
      out,
    );
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(
      /film\(s\) are listed more than once:\n {2}\S+: \S*shard-1\.csv line 2, \S*slurm-1\.csv line 2\n/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('merge refuses shards of another checkpoint, and predict refuses to continue a CSV another checkpoint began', async () => {
    const other = retouchedRun(join(dir, 'run-retouched'));
    const odd = join(dir, 'retouched-1.csv');
    expect((await predictShard(`1/${N}`, odd, undefined, other)).code).toBe(0);
    const out = join(dir, 'mixed-merge.csv');
    const mixed = await merge([join(dir, 'shard-0.csv'), odd, join(dir, 'shard-2.csv')], out);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(`${join(dir, 'shard-0.csv')} and ${odd} were predicted differently`);
    expect(mixed.stderr).toContain('the checkpoint weights differ');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.predicted-by.json`)).toBe(false);

    // A shard begun by the run and continued with the retouched copy would mix the two in one CSV.
    const begun = join(dir, 'begun-1.csv');
    const firstRows = readFileSync(join(dir, 'shard-1.csv'), 'utf8').split('\n').slice(0, 2).join('\n') + '\n';
    writeFileSync(begun, firstRows);
    copyFileSync(join(dir, 'shard-1.csv.predicted-by.json'), `${begun}.predicted-by.json`);
    const continued = await predictShard(`1/${N}`, begun, undefined, other);
    expect(continued.code).toBe(1);
    expect(continued.stderr).toContain(`${begun} was begun with another model or verdict than this command's`);
    expect(readFileSync(begun, 'utf8')).toBe(firstRows);
  });

  it('merge takes shards that do not record their model, with a warning naming them', async () => {
    const legacy = join(dir, 'legacy-1.csv');
    copyFileSync(join(dir, 'shard-1.csv'), legacy);
    const out = join(dir, 'merged-legacy.csv');
    const m = await merge([join(dir, 'shard-0.csv'), legacy, join(dir, 'shard-2.csv')], out);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).toContain(`1 shard CSV(s) do not record which model predicted them`);
    expect(m.stderr).toContain(`  ${legacy}\n`);
    expect(readFileSync(out, 'utf8')).toBe(whole);
    expect(existsSync(`${out}.predicted-by.json`)).toBe(false);
    const recorded = join(dir, 'merged.csv.predicted-by.json');
    expect(JSON.parse(readFileSync(recorded, 'utf8'))).toEqual(
      JSON.parse(readFileSync(join(dir, 'shard-0.csv.predicted-by.json'), 'utf8')),
    );
  });

  it('a shard killed mid-run continues when started again, and the merge is still the unsharded run', async () => {
    const out = join(dir, 'killed-0.csv');
    const bin = await cliBin();
    const child = spawn(
      process.execPath,
      [bin, 'predict', '--run', run, '--input', archive, '--out', out, '--shard', `0/${N}`, '--batch-size', '1'],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill it as soon as its first row is durable (or let it be, if it finishes first).
    while (child.exitCode === null && !(existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 2))
      await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await exited;
    const again = await predictShard(`0/${N}`, out);
    expect(again.code, again.stderr).toBe(0);
    const all = join(dir, 'merged-killed.csv');
    expect((await merge([out, join(dir, 'shard-1.csv'), join(dir, 'shard-2.csv')], all)).code).toBe(0);
    expect(readFileSync(all, 'utf8')).toBe(whole);
  });
});
