/** spine-cli split: a stratified, seeded train/val/test split of a dataset, saved as split.json. */
import { existsSync, promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { ClassCounts, Dataset, DatasetSplit, NumericSexCoding, SplitCounts, SplitOptions } from '@spine/models';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { CliError, EXIT_OK, UsageError } from '../ui/errors.js';
import { formatTable } from '../ui/table.js';
import type { Command, Values } from './command.js';

const NAME = 'split';
/** @spine/models, loaded on first use: --help and usage errors should not pay for the GPU stack behind it. */
type Models = typeof import('@spine/models');

const NUMERIC_SEX: readonly NumericSexCoding[] = ['0=female,1=male', '0=male,1=female'];

export const splitCommand: Command = {
  name: NAME,
  summary: 'Validate a dataset and split it into train/val/test by class (and subject), saved as split.json.',
  usage: 'split --data DIR [--labels FILE] [--seed S] [--fractions T,V,E | --counts PRESET|SPEC] [--out FILE]',
  description: [
    'The dataset is DIR with a labels CSV (columns file, sex; optional subject_id, age, region) or,',
    'without one, class folders DIR/female and DIR/male. Every row and image is checked first; any',
    'problem (missing or unreadable file, duplicate, unknown sex, empty class...) is listed with its',
    'file and CSV line, and nothing is written. Each class is split on its own, so every split keeps',
    "the class ratio; a subject's films never straddle two splits. The same data and seed always give",
    'the same split. --counts takes exact images per class: paper-cervical (Table 1), paper-lumbar',
    "(Table 5), or 'train=F:M,val=F:M,test=F:M'; images left over are listed as unused.",
  ].join('\n'),
  options: {
    data: { type: 'string', value: 'DIR', description: 'The data folder.', required: true },
    labels: {
      type: 'string',
      value: 'FILE',
      description: 'Labels CSV.',
      defaultText: 'DIR/labels.csv if present, else class folders',
    },
    seed: { type: 'string', value: 'S', description: 'Seed of the shuffle.', defaultText: '0' },
    fractions: {
      type: 'string',
      value: 'T,V,E',
      description: 'Fractions of each class for train, val, test.',
      defaultText: '0.8,0.1,0.1',
    },
    counts: {
      type: 'string',
      value: 'PRESET|SPEC',
      description: "Exact counts: paper-cervical, paper-lumbar, or 'train=F:M,val=F:M,test=F:M'.",
    },
    out: { type: 'string', value: 'FILE', description: 'Where to write the split.', defaultText: 'split.json' },
    force: { type: 'boolean', description: 'Replace an existing, different split file.' },
    'numeric-sex': {
      type: 'string',
      value: 'CODING',
      description: 'Meaning of 0/1 in the sex column: 0=female,1=male or 0=male,1=female.',
      defaultText: '0=female,1=male',
    },
    'ignore-subjects': { type: 'boolean', description: 'Split images independently even when subject ids exist.' },
    'image-check': {
      type: 'string',
      value: 'MODE',
      description: 'decode (every image), header (format only) or auto (decode up to 2000 images).',
      defaultText: 'auto',
    },
  },
  examples: [
    'spine-cli split --data test-data/sample/cervical --out runs/cervical-split.json',
    'spine-cli split --data films/ --labels films/nhanes.csv --numeric-sex 0=male,1=female --seed 7',
    'spine-cli split --data nhanes/cervical --counts paper-cervical --out split.json',
    "spine-cli split --data films/ --counts 'train=40:40,val=5:5,test=5:5'",
  ],
  async run(values) {
    const models = await import('@spine/models');
    const options = splitOptions(models, values);
    const out = resolve((values.out as string | undefined) ?? 'split.json');
    const dataset = await loadDataset(models, values);
    const split = models.stratifiedSplit(dataset, options);
    const status = await writeSplit(models, out, split, values.force === true);
    process.stdout.write(`${describe(models, dataset, split)}\n\n${status}\n`);
    return EXIT_OK;
  },
};

function splitOptions(models: Models, values: Values): SplitOptions {
  const seed = integerFlag(NAME, 'seed', (values.seed as string | undefined) ?? '0', 0, 0xffffffff);
  const options: SplitOptions = { seed };
  if (values['ignore-subjects']) options.groupBySubject = false;
  if (values.fractions !== undefined && values.counts !== undefined) {
    throw new UsageError('--fractions and --counts cannot be used together (choose one way to size the splits)', NAME);
  }
  if (values.fractions !== undefined) options.fractions = parseFractions(values.fractions as string);
  if (values.counts !== undefined) options.counts = parseCounts(models, values.counts as string);
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

function parseCounts({ PAPER_SPLITS, SPLIT_NAMES }: Models, text: string): SplitCounts {
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

async function loadDataset({ loadCsvDataset, loadFolderDataset }: Models, values: Values): Promise<Dataset> {
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
async function writeSplit(
  { saveSplit, toSplitFile }: Models,
  path: string,
  split: DatasetSplit,
  force: boolean,
): Promise<string> {
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

function describe({ SPLIT_NAMES, countClasses }: Models, dataset: Dataset, split: DatasetSplit): string {
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
