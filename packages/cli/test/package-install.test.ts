// The packages as a stranger gets them: every workspace package is packed with `npm pack`, the
// tarballs are installed together into an empty folder (their third-party dependencies from the
// npm registry, as a user's install would), each library README's first example is compiled there
// by a strict TypeScript that also checks the packages' declarations (skipLibCheck false) and run
// with Node, and the installed spine-cli binary answers --help. A workspace-only import, a type
// that needs an undeclared @types package, a file left out of "files" or a private package that a
// public one needs at run time fails here, not on a user's machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const workspaces = [
  'packages/tensor',
  'packages/nn',
  'packages/imaging',
  'packages/cbir',
  'packages/models',
  'packages/web',
  'packages/cli',
  'test-data',
];
const readmeExamples = [
  'packages/tensor',
  'packages/nn',
  'packages/imaging',
  'packages/cbir',
  'packages/models',
  'test-data',
];
const typescript = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
).devDependencies['typescript']!;

let dir = '';
const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });

function firstTsBlock(readme: string): string {
  const m = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('no ```ts block');
  return m[1]!;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spine-packs-'));
  const packs = join(dir, 'packs');
  const app = join(dir, 'app');
  mkdirSync(packs);
  mkdirSync(app);
  // './' keeps npm from reading a folder name as a registry package or a GitHub shorthand.
  for (const w of workspaces) npm(['pack', `./${w}`, '--pack-destination', packs, '--silent'], root);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  npm(['install', '--prefer-offline', '--no-package-lock', ...tarballs, `typescript@${typescript}`], app);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed packages in an empty folder', () => {
  it('every workspace package is installed from its tarball', () => {
    const installed = (name: string) =>
      JSON.parse(readFileSync(join(dir, 'app', 'node_modules', name, 'package.json'), 'utf8')) as { name: string };
    for (const w of workspaces) {
      const { name } = JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')) as { name: string };
      expect(installed(name).name).toBe(name);
    }
  });

  it('installs no synthetic films (the sample stays in the repository; an install generates them on use)', () => {
    expect(existsSync(join(dir, 'app', 'node_modules', '@spine', 'test-data', 'sample'))).toBe(false);
  });

  it("the library READMEs' examples compile under strict TypeScript with the packages' declarations checked", () => {
    const app = join(dir, 'app');
    for (const w of readmeExamples)
      writeFileSync(
        join(app, `${w.split('/').pop()}.ts`),
        firstTsBlock(readFileSync(join(root, w, 'README.md'), 'utf8')),
      );
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        outDir: 'out',
        types: [],
      },
      include: ['*.ts'],
    };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = spawnSync(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('and run with Node', () => {
    const out = join(dir, 'app', 'out');
    for (const w of readmeExamples) {
      const name = w.split('/').pop()!;
      const r = spawnSync(process.execPath, [join(out, `${name}.js`)], {
        cwd: out,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim().length, `${name} printed nothing`).toBeGreaterThan(0);
    }
  });

  it('the installed spine-cli binary answers --help', () => {
    const r = spawnSync(join(dir, 'app', 'node_modules', '.bin', 'spine-cli'), ['--help'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('train');
  });
});
