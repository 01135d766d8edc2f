// The built page: one bundle of @spine/tensor, @spine/nn, @spine/models/browser and
// @spine/imaging as they are (no kernel of its own), with no Node built-in reached, and an
// index.html whose every control has a label. The stub check can fail: an entry that uses
// node:fs keeps the stub.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error build.mjs is plain JavaScript without declarations
import { buildPage, NODE_STUB_NAMESPACE } from '../build.mjs';

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown> }>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'spine-web-bundle-'));
let bundled: string[] = [];
let workerBundled: string[] = [];
let code = '';
afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(async () => {
  const meta = (await buildPage({ outdir: join(out, 'page') })) as Metafile;
  const app = (entry: string) => Object.values(meta.outputs).find((o) => o.entryPoint?.endsWith(entry))!;
  bundled = Object.keys(app('src/main.ts').inputs);
  workerBundled = Object.keys(app('src/train/decode-worker.ts').inputs);
  code = readFileSync(join(out, 'page', 'app.js'), 'utf8');
});

describe('the page bundle', () => {
  it('holds the packages unchanged and reaches no Node built-in', () => {
    // Inputs are named relative to packages/web: the workspace packages' built dist/ files.
    for (const part of [
      '../tensor/dist/',
      '../nn/dist/',
      '../models/dist/browser.js',
      '../models/dist/explain/grad-cam.js',
      '../imaging/dist/',
      'fflate',
    ]) {
      expect(
        bundled.some((f) => f.includes(part)),
        part,
      ).toBe(true);
    }
    expect(bundled.filter((f) => f.startsWith(`${NODE_STUB_NAMESPACE}:`))).toEqual([]);
    // Training comes in (the loop, checkpoints as data, the memory store and loader); the Node
    // loader, its workers and cache, the run-directory files and the weight downloads do not.
    expect(bundled.some((f) => f.endsWith('models/dist/train/trainer.js'))).toBe(true);
    expect(
      bundled.filter((f) =>
        /models\/dist\/(data\/(loader|worker|cache)|train\/(checkpoint|train-node|history-file|interrupt-signals)\.js|weights)/.test(
          f,
        ),
      ),
    ).toEqual([]);
    expect(code).not.toMatch(/["']node:[a-z_/]+["']/);
    expect(code).not.toMatch(/was reached in the browser/);
    // The decoding worker: the imaging decoders and the models' preprocessing, no GPU engine.
    expect(workerBundled.filter((f) => f.startsWith(`${NODE_STUB_NAMESPACE}:`))).toEqual([]);
    expect(workerBundled.some((f) => f.includes('../imaging/dist/'))).toBe(true);
    expect(readFileSync(join(out, 'page', 'decode-worker.js'), 'utf8')).not.toMatch(/was reached in the browser/);
  });

  it('has no WGSL of its own: every kernel comes from @spine/tensor and @spine/nn', () => {
    const ours = bundled.filter((f) => f.startsWith('src/'));
    expect(ours.length).toBeGreaterThan(4);
    for (const f of ours)
      expect(readFileSync(join(root, f), 'utf8')).not.toMatch(/@compute|@workgroup_size|var<storage/);
  });

  it('the stub check catches an entry that uses a Node built-in', async () => {
    const entry = join(out, 'uses-fs.js');
    writeFileSync(entry, "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n");
    const meta = (await buildPage({ outdir: join(out, 'bad'), entry })) as Metafile;
    const inputs = Object.keys(Object.values(meta.outputs).find((o) => o.entryPoint?.endsWith('uses-fs.js'))!.inputs);
    expect(inputs).toContain(`${NODE_STUB_NAMESPACE}:node:fs`);
  });

  it('ships index.html and style.css; every input has a label and the script is a module', () => {
    const html = readFileSync(join(out, 'page', 'index.html'), 'utf8');
    readFileSync(join(out, 'page', 'style.css'), 'utf8');
    expect(html).toContain('<script type="module" src="app.js"></script>');
    const inputs = [...html.matchAll(/<input[^>]*\bid="([^"]+)"/g)].map((m) => m[1]!);
    expect(inputs).toEqual([
      'model-input',
      'train-folder',
      'train-labels',
      'train-size',
      'train-epochs',
      'train-seed',
      'film-input',
      'folder-input',
      'opacity',
    ]);
    const selects = [...html.matchAll(/<select[^>]*\bid="([^"]+)"/g)].map((m) => m[1]!);
    expect(selects).toEqual(['train-preset']);
    for (const id of [...inputs, ...selects]) expect(html, id).toMatch(new RegExp(`<label[^>]*\\bfor="${id}"`));
    expect(html).toMatch(/id="status" role="status" aria-live="polite"/);
    expect(html).toMatch(/id="alert" role="alert"/);
  });
});
