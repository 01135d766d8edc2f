// The README's example runs as written: bundled with esbuild (package imports pointed at the
// sources) and run in a child process; its loss must fall and it must print the state-dict keys.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(pkg, '.cache', 'readme');

/** Bundle and run the README's `index`-th ts block; its stdout. */
async function runExample(index: number): Promise<string> {
  const code = [...readFileSync(join(pkg, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)][index]![1]!;
  mkdirSync(dir, { recursive: true });
  const name = `example${index}`;
  writeFileSync(join(dir, `${name}.ts`), code);
  await build({
    entryPoints: [join(dir, `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['webgpu'],
    outfile: join(dir, `${name}.mjs`),
    logLevel: 'silent',
    alias: {
      '@spine/nn': join(pkg, 'src', 'index.ts'),
      '@spine/tensor/node': join(pkg, '..', 'tensor', 'src', 'node.ts'),
      '@spine/tensor/tuning': join(pkg, '..', 'tensor', 'src', 'tuning.ts'),
      '@spine/tensor': join(pkg, '..', 'tensor', 'src', 'node.ts'),
    },
  });
  const r = spawnSync(process.execPath, [join(dir, `${name}.mjs`)], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

it('the README example trains and prints PyTorch-style keys', async () => {
  const stdout = await runExample(0);
  const losses = stdout
    .trim()
    .split('\n')
    .slice(0, 4)
    .map((l) => Number(l.split(' ')[1]));
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(losses[3]!).toBeLessThan(losses[0]!);
  expect(stdout).toContain(
    '0.weight 0.bias 1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked 5.weight 5.bias',
  );
});

it('the README segmentation example trains a U-Net with AdamW and BCE + Dice to a high Dice score', async () => {
  const lines = (await runExample(1)).trim().split('\n');
  const losses = lines.slice(0, 4).map((l) => Number(l.split(' ')[1]));
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(losses[3]!).toBeLessThan(losses[0]! / 2);
  expect(Number(lines[4]!.split(' ')[1])).toBeGreaterThan(0.9);
});
