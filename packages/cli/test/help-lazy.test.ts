// --help answers without the GPU stack: it reads the command registry's declarations, and a command's
// module, which imports @spine/tensor (Dawn's webgpu) and @spine/models' main entry at its top, is
// loaded only when the command runs. A registry that imported a command module (or a package's GPU
// entry) would make every --help start the GPU engine. A module hook in the child records every URL
// it resolves.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/registry.js';
import { runCli } from './run-cli.js';

function hookedEnv(): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'spine-help-lazy-'));
  const log = join(dir, 'resolved.txt');
  writeFileSync(log, '');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  return {
    env: { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` },
    loaded: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}

const GPU_STACK = [/\/packages\/tensor\/dist\//, /\/node_modules\/webgpu\//, /\/packages\/models\/dist\/index\.js$/];

describe('--help loads no GPU code', () => {
  it.each([['--help'], ['help', 'train'], ...COMMANDS.map((c) => [c.name, '--help'])].map((args) => [args]))(
    'spine-cli %j',
    async (args) => {
      const { env, loaded } = hookedEnv();
      const r = await runCli(args, { env });
      expect(r.code).toBe(0);
      const urls = loaded();
      expect(urls.some((u) => u.includes('/packages/cli/'))).toBe(true);
      expect(urls.filter((u) => GPU_STACK.some((p) => p.test(u)))).toEqual([]);
    },
  );
});
