// The package root must run in a browser: bundle src/index.ts for the browser (with
// @spine/tensor's browser-safe core) and check that no Node built-in is referenced.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE =
  /\b(?:require\(|from\s*)["'](?:node:[\w/]+|fs|path|os|crypto|worker_threads|child_process)(?:\/[\w/]*)?["']/;

async function bundle(entry: string): Promise<string> {
  const r = await build({
    entryPoints: [join(pkg, 'src', entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    alias: {
      '@spine/tensor/tuning': join(pkg, '..', 'tensor', 'src', 'tuning.ts'),
      '@spine/tensor': join(pkg, '..', 'tensor', 'src', 'index.ts'),
    },
    external: ['node:*', 'fs', 'path', 'os', 'crypto'],
  });
  return r.outputFiles[0]!.text;
}

it('the package root bundles for the browser without Node built-ins', async () => {
  expect(await bundle('index.ts')).not.toMatch(NODE);
});

it('the tuning entry bundles for the browser without Node built-ins', async () => {
  expect(await bundle('tuning.ts')).not.toMatch(NODE);
});

it('the check can fail: the Node entry does reference Node built-ins', async () => {
  expect(await bundle('node.ts')).toMatch(NODE);
});
