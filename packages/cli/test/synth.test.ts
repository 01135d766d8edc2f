import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synth', () => {
  it('writes small films, labels.csv and rois.json, with progress lines off a terminal', async () => {
    const out = join(dir, 'cervical');
    const r = await runCli([
      'synth',
      '--region',
      'cervical',
      '--count',
      '4',
      '--seed',
      '3',
      '--width',
      '64',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      'cervical-0003-00000.png',
      'cervical-0003-00001.png',
      'cervical-0003-00002.png',
      'cervical-0003-00003.png',
      'labels.csv',
      'rois.json',
    ]);
    const rows = readFileSync(join(out, 'labels.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toMatch(/^file,sex,age,subject_id,region/);
    expect(rows).toHaveLength(5);
    // The summary counts the sexes from labels.csv.
    const female = rows.slice(1).filter((l) => l.split(',')[1] === 'F').length;
    expect(r.stdout).toContain(`Wrote 4 cervical films (seed 3, width 64) to ${out}`);
    expect(r.stdout).toMatch(new RegExp(`female\\s+${female}\\n`));
    expect(r.stdout).toMatch(/total\s+4\n/);
    // Not a TTY: plain progress lines on stderr, ending with the total.
    expect(r.stderr).toMatch(/synth cervical: 4\/4 films, [\d.]+\/s, in [\d.]+s\n/);
    expect(r.stderr).not.toContain('\r');
  });

  it('the same flags give byte-identical films', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    for (const out of [a, b])
      expect((await runCli(['synth', '--region', 'lumbar', '--count', '2', '--width', '64', '--out', out])).code).toBe(
        0,
      );
    for (const f of readdirSync(a)) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f)))).toBe(true);
  });

  it('an unwritable output folder is one clear error, exit 1', async () => {
    const blocker = join(dir, 'a', 'labels.csv');
    const r = await runCli([
      'synth',
      '--region',
      'lumbar',
      '--count',
      '1',
      '--width',
      '64',
      '--out',
      join(blocker, 'sub'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot \w+ .*labels\.csv.*: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
