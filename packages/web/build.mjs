// Builds the static page into dist/: index.html, style.css, app.js and decode-worker.js (+ source
// maps). esbuild bundles of src/main.ts and of the page's film-decoding worker with @spine/* unchanged. Any Node built-in that is still imported
// resolves to a module that throws when evaluated and has no side effects, so it disappears when
// nothing uses it (node:crypto in @spine/models' stable-key, which the page never calls) and
// fails loudly if something does. test/bundle.test.ts checks that none survives.
import { builtinModules } from 'node:module';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const builtins = new Set(builtinModules);

export const NODE_STUB_NAMESPACE = 'node-builtin';

const stubNodeBuiltins = {
  name: 'stub-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (a) => {
      if (a.pluginData === 'inner' || !(a.path.startsWith('node:') || builtins.has(a.path))) return undefined;
      // For a bare name, a package's own "browser" field comes first (dicom-parser maps zlib to
      // false, i.e. an empty module).
      if (!a.path.startsWith('node:')) {
        const own = await b.resolve(a.path, {
          kind: a.kind,
          importer: a.importer,
          resolveDir: a.resolveDir,
          pluginData: 'inner',
        });
        if (own.errors.length === 0 && !own.external)
          return own.namespace === 'file' ? { path: own.path } : { path: a.path, namespace: 'browser-disabled' };
      }
      return { path: a.path, namespace: NODE_STUB_NAMESPACE, sideEffects: false };
    });
    b.onLoad({ filter: /.*/, namespace: 'browser-disabled' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
    // CommonJS, so that any named import of it keeps it in the bundle (an ESM stub without exports
    // would turn the import into a silent undefined).
    b.onLoad({ filter: /.*/, namespace: NODE_STUB_NAMESPACE }, (a) => ({
      contents: `module.exports = (() => { throw new Error(${JSON.stringify(`the Node module ${a.path} was reached in the browser`)}); })();`,
      loader: 'js',
    }));
  },
};

/** Builds the page into `outdir` (default dist/); returns esbuild's metafile. `entry` is for the bundle test. */
export async function buildPage({
  outdir = join(root, 'dist'),
  minify = true,
  entry = join(root, 'src/main.ts'),
  worker = join(root, 'src/train/decode-worker.ts'),
} = {}) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: { app: entry, 'decode-worker': worker },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // WebGPU browsers (Chrome 113, Safari 26, Firefox 141) all run ES2022.
    target: 'es2022',
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [stubNodeBuiltins],
    legalComments: 'linked',
  });
  for (const f of ['index.html', 'style.css']) await copyFile(join(root, 'static', f), join(outdir, f));
  return result.metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const meta = await buildPage();
  const bytes = Object.values(meta.outputs).reduce((s, o) => s + o.bytes, 0);
  console.log(`packages/web/dist: ${(bytes / 1e6).toFixed(2)} MB`);
}
