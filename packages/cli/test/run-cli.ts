/**
 * Runs spine-cli as a child process, the way users run it. The sources are bundled with esbuild
 * (packages stay external, so @spine/* resolve to their built dist/ as for the real binary; code
 * splitting keeps the commands' lazy imports lazy) into `.cache/`: one level below the package
 * root like dist/bin.js, so the CLI finds its package.json the same way. Names carry content
 * hashes, so an edited source never runs a stale bundle, and each file is written atomically.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = `${packageRoot}.cache`;
let bundled: Promise<string> | undefined;

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/bin.ts', import.meta.url))],
    bundle: true,
    splitting: true,
    outdir: cacheDir,
    entryNames: 'bin-[hash]',
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  mkdirSync(cacheDir, { recursive: true });
  let entry = '';
  for (const file of result.outputFiles) {
    if (!existsSync(file.path)) {
      const tmp = `${file.path}.${process.pid}.tmp`;
      writeFileSync(tmp, file.contents);
      renameSync(tmp, file.path);
    }
    if (/[\\/]bin-[^/\\]+\.js$/.test(file.path)) entry = file.path;
  }
  if (!entry) throw new Error(`esbuild produced no bin-*.js in ${cacheDir}`);
  return entry;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Path of the bundled executable (built on first use), for tests that spawn it themselves. */
export function cliBin(): Promise<string> {
  bundled ??= bundle();
  return bundled;
}

export async function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const bin = await cliBin();
  return new Promise((resolve) => {
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: options.cwd ?? packageRoot, encoding: 'utf8', timeout: 120_000, env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The repository root (for test-data/sample). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
