#!/usr/bin/env node
// npm run bench [-- --quick]: build, run every package's benchmark in turn (never in
// parallel: they would compete for the same cores/GPU), then regenerate docs/BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const run = (cmd, argv, cwd = root) =>
  execFileSync(cmd, argv, { cwd, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
for (const dir of ['packages/tensor', 'packages/nn', 'packages/cbir', 'packages/models', 'packages/cli']) {
  const pkgFile = path.join(root, dir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (!pkg.scripts?.bench) continue;
  console.log(`\n== ${pkg.name} ==`);
  run('npm', ['run', 'bench', '--', ...args], path.join(root, dir));
}
run('node', ['bench/report.mjs']);
