// The first `count` films of the committed synthetic cervical sample, with their labels.csv rows,
// copied into `dest`: the small data set most CLI tests train or predict on.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './run-cli.js';

export const SAMPLE_FILMS = join(repoRoot, 'test-data/sample/cervical');

export function copySampleFilms(dest: string, count: number): void {
  const lines = readFileSync(join(SAMPLE_FILMS, 'labels.csv'), 'utf8').trim().split('\n');
  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, 'labels.csv'), `${[lines[0], ...lines.slice(1, count + 1)].join('\n')}\n`);
  for (const line of lines.slice(1, count + 1))
    copyFileSync(join(SAMPLE_FILMS, line.split(',')[0]!), join(dest, line.split(',')[0]!));
}
