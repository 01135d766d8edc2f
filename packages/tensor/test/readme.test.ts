// The README's examples run as they are written: each ```ts block is bundled with esbuild
// (its `@spine/tensor` imports pointed at this package's sources) and the first, the usage
// example, runs in a child process that must exit cleanly with the values it prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(pkg, '.cache', 'readme');
const blocks = [...readFileSync(join(pkg, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

async function bundle(name: string, code: string, extra = ''): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, `${name}.ts`);
  writeFileSync(entry, code + extra);
  const outfile = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['webgpu'],
    outfile,
    logLevel: 'silent',
    alias: {
      '@spine/tensor/node': join(pkg, 'src', 'node.ts'),
      '@spine/tensor/tuning': join(pkg, 'src', 'tuning.ts'),
      '@spine/tensor': join(pkg, 'src', 'node.ts'),
    },
  });
  return outfile;
}

describe('README examples', () => {
  it('has the usage and extension examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it('the usage example runs, prints a finite loss and gradient, and exits', async () => {
    const file = await bundle('usage', blocks[0]!);
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const [lossLine] = r.stdout.split('\n');
    expect(Number(lossLine!.split(' ')[0])).toBeGreaterThan(0);
    expect(r.stdout).toContain('liveBytes');
  });

  it('the extension example compiles and its op computes leaky ReLU', async () => {
    const file = await bundle(
      'extension',
      blocks[1]!,
      `\nimport * as T from '@spine/tensor/node';\nawait T.ready();\nconsole.log(JSON.stringify(Array.from(await leakyRelu(T.tensor([-2, 3]), 0.5).data())));\n`,
    );
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('[-1,3]');
  });

  it('the tuning example imports what the tuning entry exports', async () => {
    const block = blocks.find((b) => b.includes("'@spine/tensor/tuning'"));
    expect(block).toBeDefined();
    const file = await bundle(
      'tuning',
      block!,
      `\nconsole.log([matmulRoute, setMatmulTextures, warmMatmul].map((f) => typeof f).join(' '));\n`,
    );
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function function');
  });
});
