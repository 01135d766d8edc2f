// spine-cli weights: import and inspect on files written by torch.save (the tiny torchvision DenseNet
// fixtures of @spine/models), fetch's failure paths against a local server, list, usage errors.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const fixtures = join(repoRoot, 'packages/models/fixtures/weights');
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as {
  parameterCount: number;
  tensors: Record<string, unknown>;
};
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('weights import / inspect', () => {
  it('imports a legacy-format, legacy-named torch.save file to safetensors and inspects both', async () => {
    const out = join(dir, 'tiny.safetensors');
    const r = await runCli(['weights', 'import', join(fixtures, 'tiny-legacy-names.legacy.pth'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `(torch-legacy): ${Object.keys(expected.tensors).filter((k) => !k.endsWith('num_batches_tracked')).length} tensors, ${expected.parameterCount.toLocaleString('en-US')} parameters; 30 legacy DenseNet keys renamed (norm.1 -> norm1)`,
    );
    expect(r.stdout).toContain(`Wrote ${out}`);

    const table = await runCli(['weights', 'inspect', out]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/features\.denseblock1\.denselayer1\.norm1\.weight\s+F32\s+\[8\]\s+8\n/);
    expect(table.stdout).toMatch(/features\.conv0\.weight\s+F32\s+\[8, 3, 7, 7\]\s+1176\n/);
    expect(table.stdout).toContain(`${expected.parameterCount.toLocaleString('en-US')} parameters`);
    expect(table.stdout).toContain('source_format: torch-legacy');

    const json = await runCli(['weights', 'inspect', join(fixtures, 'tiny.zip.pth'), '--json']);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout) as {
      format: string;
      parameterCount: number;
      tensors: { key: string; dtype: string }[];
    };
    expect(s.format).toBe('torch-zip');
    expect(s.parameterCount).toBe(expected.parameterCount);
    expect(s.tensors.map((t) => t.key)).toEqual(Object.keys(expected.tensors));
    expect(s.tensors.find((t) => t.key === 'features.norm0.num_batches_tracked')!.dtype).toBe('I64');
  });

  it('import defaults --out beside the input, refuses to overwrite without --force, and reads a wrapped state dict', async () => {
    const src = join(dir, 'wrapped.pth');
    writeFileSync(src, readFileSync(join(fixtures, 'tiny-wrapped.zip.pth')));
    expect((await runCli(['weights', 'import', src])).code).toBe(0);
    expect(existsSync(join(dir, 'wrapped.safetensors'))).toBe(true);
    const again = await runCli(['weights', 'import', src]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('wrapped.safetensors already exists\nPass --force to replace it');
    expect((await runCli(['weights', 'import', src, '--force'])).code).toBe(0);
  });

  it('refuses a checkpoint with an unknown pickle global, writing nothing', async () => {
    const out = join(dir, 'args.safetensors');
    const r = await runCli(['weights', 'import', join(fixtures, 'tiny-with-args.zip.pth'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*tiny-with-args\.zip\.pth: refusing pickle global 'argparse\.Namespace'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });
});

describe('weights fetch', () => {
  it('server down: exit 1 with the URL to download by hand, where to put it, and the import alternative', async () => {
    const cache = join(dir, 'cache-down');
    const r = await runCli([
      'weights',
      'fetch',
      'densenet121',
      '--cache-dir',
      cache,
      '--url',
      'http://127.0.0.1:9/densenet121-a639ec97.pth',
    ]);
    expect(r.code).toBe(1);
    const pth = join(cache, 'weights', 'densenet121-a639ec97.pth');
    expect(r.stderr).toContain('error: cannot reach http://127.0.0.1:9/densenet121-a639ec97.pth');
    expect(r.stderr).toContain('Download https://download.pytorch.org/models/densenet121-a639ec97.pth by hand');
    expect(r.stderr).toContain(`  ${pth}\nand run 'spine-cli weights fetch densenet121' again`);
    expect(r.stderr).toContain(
      `spine-cli weights import FILE --out ${join(cache, 'weights', 'densenet121-a639ec97.safetensors')}`,
    );
  });

  it('a file whose SHA-256 does not start with a639ec97 is refused and nothing stays in the cache', async () => {
    const body = readFileSync(join(fixtures, 'tiny.zip.pth'));
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const cache = join(dir, 'cache-mismatch');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/densenet121-a639ec97.pth`;
      const r = await runCli(['weights', 'fetch', 'densenet121', '--cache-dir', cache, '--url', url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/but densenet121 must start with a639ec97; it was deleted and nothing was stored/);
      expect(readdirSync(join(cache, 'weights'))).toEqual([]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('list shows the registry and the cache; usage errors exit 2', async () => {
    const list = await runCli(['weights', 'list', '--cache-dir', join(dir, 'cache-list'), '--json']);
    expect(list.code).toBe(0);
    const l = JSON.parse(list.stdout) as {
      cacheDir: string;
      weights: { name: string; url: string; cached: string | null }[];
    };
    expect(l.cacheDir).toBe(join(dir, 'cache-list'));
    expect(l.weights.map((w) => [w.name, w.url, w.cached])).toEqual([
      ['densenet121', 'https://download.pytorch.org/models/densenet121-a639ec97.pth', null],
      ['densenet169', 'https://download.pytorch.org/models/densenet169-b2777c0a.pth', null],
      ['densenet201', 'https://download.pytorch.org/models/densenet201-c1103571.pth', null],
      ['resnet18', 'https://download.pytorch.org/models/resnet18-f37072fd.pth', null],
      ['resnet34', 'https://download.pytorch.org/models/resnet34-b627a593.pth', null],
      ['resnet50', 'https://download.pytorch.org/models/resnet50-0676ba61.pth', null],
      ['resnet50-v2', 'https://download.pytorch.org/models/resnet50-11ad3fa6.pth', null],
    ]);
    const cases: [string[], RegExp][] = [
      [['weights'], /missing ACTION/],
      [['weights', 'download', 'x'], /first argument must be one of fetch, import, inspect, list/],
      [
        ['weights', 'fetch', 'resnet101'],
        /unknown weights 'resnet101'; available: densenet121, densenet169, densenet201, resnet18, resnet34, resnet50, resnet50-v2/,
      ],
      [['weights', 'import'], /weights import needs a FILE/],
      [['weights', 'inspect', 'a', 'b'], /unexpected argument 'b'/],
      [['weights', 'inspect', 'a', '--url', 'x'], /weights inspect does not take --url/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
