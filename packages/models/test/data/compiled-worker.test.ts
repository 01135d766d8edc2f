import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Data from '../../src/data/index.js';
import { pngBytes, put, tempDir } from './fixtures.js';

/**
 * The compiled package runs the loader from dist/data/*.js, where the worker is the sibling
 * worker.js, not a bundle. Emulate that layout by transpiling src/data file by file (what tsc
 * emits, without types) under the package's node_modules/.cache, so bare imports resolve as in dist.
 */
const pkg = fileURLToPath(new URL('../../', import.meta.url));
const cacheRoot = join(pkg, 'node_modules', '.cache');
mkdirSync(cacheRoot, { recursive: true });
const out = mkdtempSync(join(cacheRoot, 'compiled-data-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('compiled layout', () => {
  it('runs workers from the sibling worker.js', async () => {
    const srcDir = join(pkg, 'src', 'data');
    const entries = readdirSync(srcDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(srcDir, f));
    await build({
      entryPoints: entries,
      outdir: out,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
    const data = (await import(join(out, 'index.js'))) as typeof Data;
    expect(await data.workerScript()).toBe(join(out, 'worker.js'));
    const d = tempDir();
    try {
      const records: Data.DatasetRecord[] = [0, 1, 2].map((i) => ({
        path: put(d.dir, `${i}.png`, pngBytes(12, 9, i)),
        file: `${i}.png`,
        label: (i % 2) as 0 | 1,
      }));
      const loader = new data.DataLoader(records, { batchSize: 3, transform: { width: 6, height: 6 }, workers: 1 });
      const batches: Data.Batch[] = [];
      for await (const b of loader.epoch()) batches.push(b);
      await loader.close();
      expect(batches).toHaveLength(1);
      expect(batches[0]!.images.length).toBe(3 * 3 * 36);
      expect(batches[0]!.images.every(Number.isFinite)).toBe(true);
    } finally {
      d.cleanup();
    }
  });
});
