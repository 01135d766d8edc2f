/**
 * Where a worker thread's JavaScript is. Workers need JavaScript, and which depends on how the
 * module that starts them runs:
 * - compiled (dist/**.js, what users and the CLI run): the sibling `<name>.js`;
 * - from TypeScript sources (vitest, or anything running src/*.ts through a loader): `<name>.ts`
 *   is bundled with esbuild (a root devDependency, loaded only on this path) into
 *   `<package>/node_modules/.cache/spine-workers/<name>-<hash>.mjs`. Bare imports stay external
 *   so they resolve from there to the workspace's own packages, and the content hash in the name
 *   means an edited source never runs a stale bundle.
 * The choice follows the caller's own URL, never whether a dist/ happens to exist, so tests of
 * src cannot silently run an old build.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './node.js';

const bundles = new Map<string, Promise<string>>();

/** The worker `<name>` beside the module at `callerUrl` (pass `import.meta.url`). */
export function workerScript(callerUrl: string, name: string): Promise<string> {
  if (fileURLToPath(callerUrl).endsWith('.js'))
    return Promise.resolve(fileURLToPath(new URL(`./${name}.js`, callerUrl)));
  const source = fileURLToPath(new URL(`./${name}.ts`, callerUrl));
  let bundled = bundles.get(source);
  if (!bundled) {
    bundled = bundleWorker(source, name).catch((e: unknown) => {
      bundles.delete(source);
      throw e;
    });
    bundles.set(source, bundled);
  }
  return bundled;
}

async function bundleWorker(source: string, name: string): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new Error(
      `${source} runs from TypeScript sources and needs esbuild to build its worker; install the repository devDependencies or build the package (npm run build)`,
      { cause: e },
    );
  }
  const result = await esbuild.build({
    entryPoints: [source],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const out = join(packageRoot(source), 'node_modules', '.cache', 'spine-workers', `${name}-${hash}.mjs`);
  if (!existsSync(out)) await writeFileAtomic(out, code);
  return out;
}

/** The nearest folder above `file` with a package.json (where bare imports resolve from). */
function packageRoot(file: string): string {
  for (let dir = dirname(file); ; ) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`${file} is not inside a package (no package.json above it)`);
    dir = up;
  }
}
