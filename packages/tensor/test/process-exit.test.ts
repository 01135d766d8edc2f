// Node exits by itself when the work is done, with and without releaseDevice(), and a
// missing adapter is a message that says what to install. Each case runs in a child process
// against a bundle of the current src/node.ts (so no stale dist/ is tested).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the package so the bundle's `import 'webgpu'` resolves from node_modules.
const dir = join(pkg, '.cache', 'process-exit');

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(pkg, 'src', 'node.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['webgpu'],
    outfile: join(dir, 'tensor-node.mjs'),
    logLevel: 'silent',
  });
});

interface Exit {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Run a script; a child still alive after `limitMs` is killed and reported as such. */
function runScript(name: string, body: string, limitMs = 30_000): Promise<Exit> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `import * as T from './tensor-node.mjs';\n${body}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, killed, stdout, stderr });
    });
  });
}

const WORK = `await T.ready();
const a = T.rand([64, 48], { seed: 1 });
const b = T.rand([48, 32], { seed: 2 });
const loss = T.sum(T.relu(T.matmul(a, b)));
console.log('result', (await loss.item()) > 0);`;

describe('process lifetime', () => {
  it('exits on its own after work, without any cleanup call', async () => {
    const r = await runScript('no-release', WORK);
    expect(r.killed, `the child did not exit by itself; stderr:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('result true');
  });

  it('exits after releaseDevice()', async () => {
    const r = await runScript('release', `${WORK}\nawait T.releaseDevice();\nconsole.log('released');`);
    expect(r.killed, `the child did not exit by itself; stderr:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('released');
  });

  it('reports a missing adapter as NoAdapterError that says what to install', async () => {
    const r = await runScript(
      'no-adapter',
      `T.setGpuProvider(() => ({ gpu: { requestAdapter: async () => null }, backend: 'none' }));
try { await T.ready(); console.log('unexpected: got a device'); }
catch (e) { console.log(e.name); console.log(e.message); }`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('NoAdapterError');
    expect(r.stdout).toContain('mesa-vulkan-drivers');
  });
});
