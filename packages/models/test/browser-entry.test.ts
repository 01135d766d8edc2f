// @spine/models/browser is browser-safe: bundling src/browser.ts for the browser leaves no Node
// built-in in the bundle, and every name it exports is the main entry's own object. Node
// built-ins are resolved to a stub that throws when evaluated, marked free of side effects, so
// the stub survives in the bundle exactly when some exported code reaches a built-in; the same
// bundle of the main entry must keep stubs, which shows the check can fail.
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as browserEntry from '../src/browser.js';
import * as mainEntry from '../src/index.js';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

const builtins = new Set(builtinModules);
const isNodeBuiltin = (path: string) => path.startsWith('node:') || builtins.has(path);

const stubNodeBuiltins: Plugin = {
  name: 'stub-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (a) =>
      isNodeBuiltin(a.path) ? { path: a.path, namespace: 'node-builtin', sideEffects: false } : undefined,
    );
    // CommonJS, so a named import keeps the stub in the bundle (an ESM stub without exports would
    // turn the import into a silent undefined and drop the stub).
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (a) => ({
      contents: `module.exports = (() => { throw new Error(${JSON.stringify(`${a.path} in a browser bundle`)}); })();`,
      loader: 'js',
    }));
  },
};

const NODE_PATTERNS: [string, RegExp][] = [
  ['node: import', /["']node:[a-z_/]+["']/],
  ['stubbed built-in', /in a browser bundle/],
  ['worker_threads', /worker_threads/],
  ['Buffer', /\bBuffer\b/],
  ['process', /\bprocess\s*\./],
  ['require', /\brequire\s*\(/],
];

async function bundle(entry: string) {
  // @spine/* stay external: tensor and nn have their own browser-bundle tests, and imaging's
  // PNG decoder needs a bundler alias (packages/web's build shows how).
  const result = await build({
    entryPoints: [join(src, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['@spine/*'],
    plugins: [stubNodeBuiltins],
  });
  const output = Object.values(result.metafile.outputs)[0]!;
  return { code: result.outputFiles[0]!.text, bundled: Object.keys(output.inputs) };
}

describe('@spine/models/browser', () => {
  it('bundles for the browser with no Node built-in reached', async () => {
    const { code, bundled } = await bundle('browser.ts');
    expect(bundled.filter((f) => f.startsWith('node-builtin:'))).toEqual([]);
    expect(NODE_PATTERNS.filter(([, re]) => re.test(code)).map(([name]) => name)).toEqual([]);
    // The models and Grad-CAM are really in it (not tree-shaken away).
    for (const file of [
      'src/models/sequential-cnn.ts',
      'src/models/densenet/densenet.ts',
      'src/explain/grad-cam.ts',
      'src/explain/heatmap.ts',
      'src/data/transform.ts',
    ])
      expect(bundled).toContain(file);
  });

  it('the check does flag the main entry (loaders, trainer, downloads)', async () => {
    const { code, bundled } = await bundle('index.ts');
    expect(bundled.filter((f) => f.startsWith('node-builtin:')).length).toBeGreaterThan(3);
    expect(code).toMatch(/in a browser bundle/);
  });

  it("exports the main entry's own objects", () => {
    const names = Object.keys(browserEntry);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names)
      expect([name, (mainEntry as Record<string, unknown>)[name]]).toEqual([
        name,
        (browserEntry as Record<string, unknown>)[name],
      ]);
    expect(names).not.toContain('DataLoader');
    expect(names).not.toContain('explainFiles');
  });
});
