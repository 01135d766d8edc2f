// spine-cli export-web: the folder it writes (the built page and a self-describing model file),
// its flags, and the folders it refuses. That the page reads the file and predicts as predict does
// is export-web-browser.test.ts.
import { inputTransform } from '@spine/models/run';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '@spine/nn';
import { readCheckpoint } from '@spine/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunConfig } from '../src/run/config.js';
import { repoRoot, runCli } from './run-cli.js';
import { trainTinyRun } from './sample-films.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
/** A file as a plain Uint8Array: decodeSafetensors copies with .slice(), which on a Node Buffer is a view. */
const bytesOf = (path: string) => new Uint8Array(readFileSync(path));
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-export-web-'));
const run = join(dir, 'run');
let config: RunConfig;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const data = join(dir, 'data');
  mkdirSync(data);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  writeFileSync(join(data, 'labels.csv'), [lines[0], ...lines.slice(1, 31)].join('\n') + '\n');
  for (const line of lines.slice(1, 31)) cpSync(join(sample, line.split(',')[0]!), join(data, line.split(',')[0]!));
  await trainTinyRun(data, run);
  config = (JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { config: RunConfig }).config;
}, 300_000);

describe.sequential('export-web', () => {
  const site = join(dir, 'site');

  it('writes the page and a model file holding the checkpoint, the network and its input transform', async () => {
    const r = await runCli(['export-web', run, '--out', site, '--threshold', '0.4', '--uncertain-below', '0.7']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Wrote .*site: .*model\.safetensors \(\d+ KiB, best checkpoint, epoch 1\)/);
    expect(r.stderr).toContain('http://localhost');
    const files = readdirSync(site).sort();
    expect(files).toEqual(expect.arrayContaining(['app.js', 'index.html', 'model.safetensors', 'style.css']));
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toContain('<script type="module" src="app.js"></script>');

    const { metadata, tensors } = decodeSafetensors(bytesOf(join(site, 'model.safetensors')));
    expect(metadata.format).toBe('spine-web-model');
    expect(JSON.parse(metadata.model!)).toEqual(config.model);
    expect(JSON.parse(metadata.transform!)).toEqual(inputTransform(config.model));
    expect(JSON.parse(metadata.verdict!)).toEqual({ threshold: 0.4, uncertainBelow: 0.7 });
    expect(JSON.parse(metadata.source!)).toMatchObject({ run: 'run', checkpoint: 'best', epoch: 1 });
    // Exactly the checkpoint's network tensors, bit for bit; no optimizer state.
    const ckpt = (await readCheckpoint(run, 'best'))!;
    expect([...tensors.keys()].sort()).toEqual([...ckpt.model.keys()].sort());
    for (const [key, t] of ckpt.model) {
      expect(tensors.get(key)!.shape, key).toEqual(t.shape);
      expect(Array.from(tensors.get(key)!.data as Float32Array), key).toEqual(Array.from(t.data as Float32Array));
    }
  });

  it('refreshes a previous export in place', async () => {
    writeFileSync(join(site, 'app.js'), 'stale');
    const r = await runCli(['export-web', run, '--out', site, '--checkpoint', 'last']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(site, 'app.js'), 'utf8')).not.toBe('stale');
    expect(JSON.parse(decodeSafetensors(bytesOf(join(site, 'model.safetensors'))).metadata.source!).checkpoint).toBe(
      'last',
    );
  });

  it('refuses a folder that holds something else, and changes nothing in it', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'index.html'), '<html>my site</html>');
    const r = await runCli(['export-web', run, '--out', other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--out ${other} is not empty and holds no page from export-web`);
    expect(readdirSync(other)).toEqual(['index.html']);
    expect(readFileSync(join(other, 'index.html'), 'utf8')).toBe('<html>my site</html>');
  });

  it('says what is wrong with the run or the flags', async () => {
    const notRun = await runCli(['export-web', dir, '--out', join(dir, 'x')]);
    expect(notRun.code).toBe(1);
    expect(notRun.stderr).toContain('is not a spine-cli run directory (no config.json)');
    const bare = join(dir, 'bare-run');
    mkdirSync(bare);
    cpSync(join(run, 'config.json'), join(bare, 'config.json'));
    const noCkpt = await runCli(['export-web', bare, '--out', join(dir, 'y')]);
    expect(noCkpt.code).toBe(1);
    expect(noCkpt.stderr).toContain("has no 'best' checkpoint");
    expect(existsSync(join(dir, 'y'))).toBe(false);
    const badFlag = await runCli(['export-web', run, '--out', join(dir, 'z'), '--threshold', '1.5']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--threshold must be a probability from 0 to 1');
    const noOut = await runCli(['export-web', run]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('missing --out DIR');
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/^  export-web\s+Write a static web page/m);
    const own = await runCli(['export-web', '--help']);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('Usage: spine-cli export-web [RUN] --out DIR');
    expect(own.stdout).toMatch(/Examples:\n  spine-cli export-web runs\/q1 --out site\//);
  });
});
