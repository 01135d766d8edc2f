// train --precision: mixed precision end to end on a tiny run (recorded in config.json, so a
// resume keeps it), and a clear usage error for anything but f32 or mixed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { copySampleFilms } from './sample-films.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-precision-'));
const data = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  mkdirSync(data);
  copySampleFilms(data, 40);
});
const tiny = ['--data', data, '--input-size', '32', '--workers', '0', '--cache', join(dir, 'cache')];

describe('train --precision', () => {
  it('mixed trains, says so, and records it in config.json', async () => {
    const run = join(dir, 'mixed');
    const r = await runCli(['train', ...tiny, '--epochs', '1', '--precision', 'mixed', '--out', run]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/precision: mixed \(Conv2d and Linear with f16 operands/);
    expect(r.stderr).toMatch(/epoch 1: lr 0\.0400, train loss \d\.\d+ acc/);
    expect(r.stderr).toMatch(/Mixed precision: loss scale \d+ at the end; \d+ steps? skipped for an overflow/);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config.config.precision).toBe('mixed');
  });

  it('f32 leaves the config as it was; other values are a usage error', async () => {
    const r = await runCli(['train', ...tiny, '--epochs', '1', '--precision', 'f32', '--out', join(dir, 'f32')]);
    expect(r.code).toBe(0);
    expect('precision' in JSON.parse(readFileSync(join(dir, 'f32', 'config.json'), 'utf8')).config).toBe(false);
    const bad = await runCli(['train', ...tiny, '--precision', 'half', '--out', join(dir, 'bad')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--precision/);
    expect(bad.stderr).toMatch(/f32/);
  });
});
