// The core and its tuning entry are browser-safe: bundling src/index.ts or src/tuning.ts for the browser succeeds and the bundle
// refers to no Node built-in. The same scan run on the Node entry point must find Node
// usage, which shows the scan can fail.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

const NODE_PATTERNS: [string, RegExp][] = [
  ['node: import', /["']node:[a-z_/]+["']/],
  ['fs', /(?:from|require\()\s*["'](?:fs|fs\/promises)["']/],
  ['path', /(?:from|require\()\s*["']path["']/],
  ['worker_threads', /worker_threads/],
  ['Buffer', /\bBuffer\b/],
  ['process', /\bprocess\s*\.|\bprocess\b\s*\)/],
  ['require', /\brequire\s*\(/],
];

function nodeReferences(code: string): string[] {
  return NODE_PATTERNS.filter(([, re]) => re.test(code)).map(([name]) => name);
}

async function bundle(entry: string, external: string[] = []) {
  return build({
    entryPoints: [join(src, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external,
  });
}

describe('browser bundle', () => {
  it.each(['index.ts', 'tuning.ts'])('bundles src/%s for the browser with no Node built-ins', async (entry) => {
    const result = await bundle(entry);
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code.length).toBeGreaterThan(10_000);
    expect(nodeReferences(code)).toEqual([]);
    // Everything bundled is our own source: no dependency sneaks in.
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => !f.includes('packages/tensor/src/') && !f.startsWith('src/'))).toEqual([]);
  });

  it('the scan does flag the Node entry point', async () => {
    const result = await bundle('node.ts', ['webgpu']);
    expect(nodeReferences(result.outputFiles[0]!.text)).toContain('process');
  });
});
