// The browser-safe part of serialization must not reach for Node: only *-node.ts files and
// node.ts may import node: modules or use Buffer/process.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'serialization');

test('browser-safe files use no Node APIs and import only each other and fflate', () => {
  const files = readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('-node.ts') && f !== 'node.ts');
  expect(files).toContain('index.ts');
  for (const f of files) {
    const src = readFileSync(join(SRC, f), 'utf8');
    const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    for (const i of imports) expect(i.startsWith('./') || i === 'fflate', `${f} imports ${i}`).toBe(true);
    for (const i of imports.filter((x) => x.startsWith('./')))
      expect(i.endsWith('-node.js') || i === './node.js', `${f} imports ${i}`).toBe(false);
    expect(/\bBuffer\b|\bprocess\.|\brequire\(/.test(src), f).toBe(false);
  }
});
