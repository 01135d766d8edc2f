// The first `count` films of the committed synthetic cervical sample, with their labels.csv rows,
// copied into `dest`: the small data set most CLI tests train or predict on.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, repoRoot, runCli } from './run-cli.js';

export const SAMPLE_FILMS = join(repoRoot, 'test-data/sample/cervical');

export function copySampleFilms(dest: string, count: number): void {
  const lines = readFileSync(join(SAMPLE_FILMS, 'labels.csv'), 'utf8').trim().split('\n');
  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, 'labels.csv'), `${[lines[0], ...lines.slice(1, count + 1)].join('\n')}\n`);
  for (const line of lines.slice(1, count + 1))
    copyFileSync(join(SAMPLE_FILMS, line.split(',')[0]!), join(dest, line.split(',')[0]!));
}

/** Trains the quick network at 32 px on `data` into `out` (1 epoch unless `epochs`), as a setup step. */
export async function trainTinyRun(data: string, out: string, epochs = 1): Promise<CliResult> {
  const args = [
    'train',
    '--data',
    data,
    '--input-size',
    '32',
    '--workers',
    '0',
    '--epochs',
    String(epochs),
    '--out',
    out,
  ];
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
  return r;
}
