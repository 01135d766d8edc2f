// spine-cli cache: lists what the cache folder holds with sizes, and clears weights/, synthetic/
// or both, never anything else in the folder.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-cli-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fill(cache: string): void {
  mkdirSync(join(cache, 'weights'), { recursive: true });
  mkdirSync(join(cache, 'synthetic', 'cervical-s1-n2000-w128'), { recursive: true });
  writeFileSync(join(cache, 'weights', 'densenet121-a639ec97.safetensors'), Buffer.alloc(3 * 2 ** 20));
  writeFileSync(join(cache, 'synthetic', 'cervical-s1-n2000-w128', 'a.png'), Buffer.alloc(2 ** 20));
  writeFileSync(join(cache, 'synthetic', 'cervical-s1-n2000-w128', 'labels.csv'), Buffer.alloc(2 ** 19));
  writeFileSync(join(cache, 'notes.txt'), 'not ours');
}

describe('cache', () => {
  it('lists each item with its size, in text and JSON', async () => {
    const cache = join(dir, 'list');
    fill(cache);
    const r = await runCli(['cache', '--cache-dir', cache]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Cache: ${cache}`);
    expect(r.stdout).toMatch(/weights\s+densenet121-a639ec97\.safetensors\s+3\.0 MiB/);
    expect(r.stdout).toMatch(/synthetic\s+cervical-s1-n2000-w128\s+1\.5 MiB/);
    expect(r.stdout).toContain('4.5 MiB in all');
    const j = await runCli(['cache', 'list', '--cache-dir', cache, '--json']);
    const parsed = JSON.parse(j.stdout) as {
      cacheDir: string;
      totalBytes: number;
      entries: { part: string; name: string; bytes: number }[];
    };
    expect(parsed.cacheDir).toBe(cache);
    expect(parsed.totalBytes).toBe(4.5 * 2 ** 20);
    expect(parsed.entries.map((e) => [e.part, e.name, e.bytes])).toEqual([
      ['weights', 'densenet121-a639ec97.safetensors', 3 * 2 ** 20],
      ['synthetic', 'cervical-s1-n2000-w128', 1.5 * 2 ** 20],
    ]);
    expect((await runCli(['cache', '--cache-dir', join(dir, 'none')])).stdout).toContain('(empty)');
  });

  it('clears one part, then all, and leaves other files alone', async () => {
    const cache = join(dir, 'clear');
    fill(cache);
    const r = await runCli(['cache', 'clear', 'synthetic', '--cache-dir', cache]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Removed ${join(cache, 'synthetic')} (1.5 MiB)`);
    expect(existsSync(join(cache, 'synthetic'))).toBe(false);
    expect(existsSync(join(cache, 'weights', 'densenet121-a639ec97.safetensors'))).toBe(true);
    const all = await runCli(['cache', 'clear', 'all', '--cache-dir', cache]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`Removed ${join(cache, 'weights')} (3.0 MiB)`);
    expect(all.stdout).toContain(`${join(cache, 'synthetic')}: not there, nothing to remove`);
    expect(existsSync(join(cache, 'weights'))).toBe(false);
    expect(existsSync(join(cache, 'notes.txt'))).toBe(true);
  });

  it('usage mistakes exit 2 with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['cache', 'clear'], /cache clear needs what to remove: weights, synthetic, all/],
      [['cache', 'clear', 'everything'], /got 'everything'/],
      [['cache', 'wipe'], /the first argument must be list or clear, got 'wipe'/],
      [['cache', 'list', 'extra'], /unexpected argument 'extra'/],
      [['cache', 'clear', 'all', '--json'], /cache clear does not take --json/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli([...args, '--cache-dir', join(dir, 'usage')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
