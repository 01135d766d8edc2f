/**
 * Runs spine-cli as a child process, the way users run it. The sources are bundled with esbuild
 * (packages stay external, so @spine/* resolve to their built dist/ as for the real binary) into
 * `.cache/bin-<hash>.mjs`: one level below the package root like dist/bin.js, so the CLI finds its
 * package.json the same way. The content hash means an edited source never runs a stale bundle.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
let bundled: Promise<string> | undefined;

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/bin.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const dir = `${packageRoot}.cache`;
  const out = `${dir}/bin-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, out);
  }
  return out;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: readonly string[], options: { cwd?: string } = {}): Promise<CliResult> {
  bundled ??= bundle();
  const bin = await bundled;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: options.cwd ?? packageRoot, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The repository root (for test-data/sample). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
