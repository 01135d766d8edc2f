import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as cbir from '../src/index.js';

it('README example runs and prints what it says', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const body = code.replace(/^import .*$/m, '').replace(/console\.log\((.*)\);.*$/m, 'return [$1];');
  const names = Object.keys(cbir);
  const fn = new Function(...names, body) as (...args: unknown[]) => unknown[];
  expect(fn(...names.map((n) => (cbir as Record<string, unknown>)[n]))).toEqual([680, 0, { x: 200, y: 240 }, 300]);
});
