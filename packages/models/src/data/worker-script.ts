import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@spine/imaging/node';

let bundled: Promise<string> | undefined;

/**
 * Where the loader's worker code is. Workers need JavaScript, and which JavaScript depends on how
 * this module runs:
 * - compiled (dist/data/*.js, what users and the CLI run): the sibling dist/data/worker.js;
 * - from TypeScript sources (vitest, or anything running src/*.ts through a loader): worker.ts is
 *   bundled with esbuild (a root devDependency, loaded only on this path) into
 *   `<package>/node_modules/.cache/spine-models/worker-<hash>.mjs`. Bare imports stay external
 *   so they resolve from there to the workspace's own packages, and the content hash in the name
 *   means an edited source never runs a stale bundle.
 * The choice follows this module's own URL, never whether a dist/ happens to exist, so tests of
 * src cannot silently run an old build.
 */
export function workerScript(): Promise<string> {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.js')) return Promise.resolve(fileURLToPath(new URL('./worker.js', import.meta.url)));
  bundled ??= bundleWorker().catch((e: unknown) => {
    bundled = undefined;
    throw e;
  });
  return bundled;
}

async function bundleWorker(): Promise<string> {
  const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new Error(
      'the data loader runs from TypeScript sources and needs esbuild to build its worker; install the repository devDependencies, build the package (npm run build), or use workers: 0',
      { cause: e },
    );
  }
  const result = await esbuild.build({
    entryPoints: [entry],
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
  const out = join(packageRoot, 'node_modules', '.cache', 'spine-models', `worker-${hash}.mjs`);
  if (!existsSync(out)) await writeFileAtomic(out, code);
  return out;
}
