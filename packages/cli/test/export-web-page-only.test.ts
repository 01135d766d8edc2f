// spine-cli export-web without a RUN: the page alone (it trains in the browser or loads a model
// file), replacing a previous export's model so the page does not load a stale one; the flags that
// describe a run's model are refused without a run.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-export-web-page-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export-web without a run', () => {
  it('writes the page without a model, and removes the model of a previous export in that folder', async () => {
    const site = join(dir, 'site');
    const first = await runCli(['export-web', '--out', site]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Wrote .*site: .*index\.html.* \(no model: the page trains one/);
    expect(readdirSync(site).sort()).toEqual([
      'app.js',
      'app.js.LEGAL.txt',
      'decode-worker.js',
      'decode-worker.js.LEGAL.txt',
      'index.html',
      'style.css',
    ]);
    writeFileSync(join(site, 'model.safetensors'), 'a previous export');
    const again = await runCli(['export-web', '--out', site]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(site, 'model.safetensors'))).toBe(false);
  });

  it("refuses a run's model flags without a run", async () => {
    const r = await runCli(['export-web', '--out', join(dir, 'other'), '--threshold', '0.4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threshold needs a RUN to export/);
    expect(existsSync(join(dir, 'other'))).toBe(false);
  });
});
