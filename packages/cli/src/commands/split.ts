/** spine-cli split: a stratified, seeded train/val/test split of a dataset, saved as split.json. */
import { existsSync, promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import {
  countClasses,
  loadCsvDataset,
  loadFolderDataset,
  PAPER_SPLITS,
  SPLIT_NAMES,
  saveSplit,
  stratifiedSplit,
  toSplitFile,
  type ClassCounts,
  type Dataset,
  type DatasetSplit,
  type NumericSexCoding,
  type SplitCounts,
  type SplitOptions,
} from '@spine/models';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { CliError, EXIT_OK, UsageError } from '../ui/errors.js';
import { formatTable } from '../ui/table.js';
import type { Values } from './command.js';

const NAME = 'split';

const NUMERIC_SEX: readonly NumericSexCoding[] = ['0=female,1=male', '0=male,1=female'];

export async function run(values: Values): Promise<number> {
  const options = splitOptions(values);
  const out = resolve((values.out as string | undefined) ?? 'split.json');
  const dataset = await loadDataset(values);
  const split = stratifiedSplit(dataset, options);
  const status = await writeSplit(out, split, values.force === true);
  process.stdout.write(`${describe(dataset, split)}\n\n${status}\n`);
  return EXIT_OK;
}

function splitOptions(values: Values): SplitOptions {
  const seed = integerFlag(NAME, 'seed', (values.seed as string | undefined) ?? '0', 0, 0xffffffff);
  const options: SplitOptions = { seed };
  if (values['ignore-subjects']) options.groupBySubject = false;
  if (values.fractions !== undefined && values.counts !== undefined) {
    throw new UsageError('--fractions and --counts cannot be used together (choose one way to size the splits)', NAME);
  }
  if (values.fractions !== undefined) options.fractions = parseFractions(values.fractions as string);
  if (values.counts !== undefined) options.counts = parseCounts(values.counts as string);
  return options;
}

function parseFractions(text: string): [number, number, number] {
  const parts = text.split(',').map((s) => s.trim());
  const nums = parts.map((s) => (/^\d*\.?\d+$/.test(s) ? Number(s) : NaN));
  const sum = nums.reduce((a, b) => a + b, 0);
  if (nums.length !== 3 || nums.some((n) => !Number.isFinite(n)) || Math.abs(sum - 1) > 1e-6) {
    throw new UsageError(
      `--fractions must be three non-negative numbers for train,val,test that sum to 1 (e.g. 0.8,0.1,0.1), got '${text}'`,
      NAME,
    );
  }
  return nums as [number, number, number];
}

function parseCounts(text: string): SplitCounts {
  if (text === 'paper-cervical') return PAPER_SPLITS.cervical;
  if (text === 'paper-lumbar') return PAPER_SPLITS.lumbar;
  const bad = (why: string): never => {
    throw new UsageError(
      `--counts ${why}: expected paper-cervical, paper-lumbar or 'train=F:M,val=F:M,test=F:M' (images per class), got '${text}'`,
      NAME,
    );
  };
  const counts: Partial<Record<string, ClassCounts>> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(\w+)\s*=\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m) bad(`has a malformed part '${part.trim()}'`);
    const [, name, f, mm] = m!;
    if (!(SPLIT_NAMES as readonly string[]).includes(name!)) bad(`names an unknown split '${name}'`);
    if (counts[name!]) bad(`gives ${name} twice`);
    counts[name!] = { female: Number(f), male: Number(mm) };
  }
  const missing = SPLIT_NAMES.filter((s) => !counts[s]);
  if (missing.length > 0) bad(`is missing ${missing.join(', ')}`);
  return counts as SplitCounts;
}

async function loadDataset(values: Values): Promise<Dataset> {
  const root = resolve(values.data as string);
  const imageCheck = choiceFlag(NAME, 'image-check', (values['image-check'] as string | undefined) ?? 'auto', [
    'decode',
    'header',
    'auto',
  ] as const);
  const numericSex = choiceFlag(
    NAME,
    'numeric-sex',
    (values['numeric-sex'] as string | undefined) ?? NUMERIC_SEX[0]!,
    NUMERIC_SEX,
  );
  const labels = values.labels as string | undefined;
  if (!existsSync(root)) {
    throw new CliError(
      `data folder ${root} does not exist`,
      'Pass the folder that holds the images with --data (spine-cli synth makes a synthetic one).',
    );
  }
  if (process.stderr.isTTY) process.stderr.write(`checking ${root} ...\r`);
  try {
    if (labels !== undefined || existsSync(resolve(root, 'labels.csv'))) {
      return await loadCsvDataset(root, {
        labels: labels === undefined ? undefined : resolve(labels),
        numericSex,
        imageCheck,
      });
    }
    return await loadFolderDataset(root, { imageCheck });
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\x1b[K');
  }
}

/**
 * Writes split.json atomically. An existing file with the same split is left as is; a different one
 * is replaced only with --force, since runs may already depend on it.
 */
async function writeSplit(path: string, split: DatasetSplit, force: boolean): Promise<string> {
  const existing = await fs.readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    // Node's EISDIR from a read names no path.
    if (e.code === 'EISDIR')
      throw new CliError(`--out ${path} is a folder`, 'Give the file to write, e.g. --out split.json.');
    throw e;
  });
  if (existing !== undefined) {
    let same = false;
    try {
      same = JSON.stringify(JSON.parse(existing)) === JSON.stringify(toSplitFile(split));
    } catch {
      same = false;
    }
    if (same) return `${path} already holds this split; left unchanged.`;
    if (!force) {
      throw new CliError(
        `${path} already exists and holds a different split`,
        'Runs may depend on it: choose another --out, or pass --force to replace it.',
      );
    }
  }
  await saveSplit(path, split);
  return `Wrote ${path}`;
}

function describe(dataset: Dataset, split: DatasetSplit): string {
  const rows: (string | number)[][] = [...SPLIT_NAMES, ...(split.unused.length > 0 ? (['unused'] as const) : [])].map(
    (name) => {
      const c = countClasses(split[name]);
      return [name, c.female, c.male, c.female + c.male];
    },
  );
  const all = countClasses(dataset.records);
  rows.push(['total', all.female, all.male, all.female + all.male]);
  const how = split.counts ? 'exact counts' : `fractions ${split.fractions!.join('/')}`;
  const grouping = split.groupedBySubject ? ', grouped by subject' : '';
  const source = dataset.source === 'folders' || dataset.source === dataset.root ? 'class folders' : dataset.source;
  const skipped =
    dataset.skipped.length > 0
      ? `\n(${dataset.skipped.length} non-image files skipped, e.g. ${dataset.skipped[0]})`
      : '';
  return [
    `Dataset ${dataset.root}: ${dataset.records.length} images, labels from ${source}${skipped}`,
    `Split: seed ${split.seed}, ${how}${grouping}`,
    '',
    formatTable(['split', 'female', 'male', 'total'], rows, { ruleBefore: [rows.length - 1] }),
  ].join('\n');
}
