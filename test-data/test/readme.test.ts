import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as testData from '../src/index.js';

it('README example runs and prints what it says', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const printed = /\/\/ (F .*)$/m.exec(code)![1]!;
  const body = code.replace(/^import .*$/m, '').replace(/console\.log\((.*)\);.*$/m, 'return [$1].join(" ");');
  const names = Object.keys(testData);
  const fn = new Function(...names, body) as (...args: unknown[]) => string;
  expect(fn(...names.map((n) => (testData as Record<string, unknown>)[n]))).toBe(printed);
});
