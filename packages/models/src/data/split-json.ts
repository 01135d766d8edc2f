// split.json's content: a split as JSON and back, checked against the dataset (no file access;
// split-file.ts reads and writes the file).
import type { Dataset, DatasetRecord } from './dataset.js';
import { DatasetError, type DatasetProblem } from './errors.js';
import { CLASS_NAMES } from './labels.js';
import {
  SPLIT_NAMES,
  countClasses,
  type ClassCounts,
  type DatasetSplit,
  type SplitCounts,
  type SplitName,
} from './split.js';

export const SPLIT_FILE_VERSION = 1;

/** The JSON form of a split: which files went where, and how the split was made. */
export interface SplitFile {
  version: number;
  seed: number;
  fractions?: [number, number, number];
  counts?: SplitCounts;
  groupedBySubject: boolean;
  /** Label index -> name, so the file reads on its own. */
  classes: string[];
  splits: Record<SplitName | 'unused', { counts: ClassCounts; files: string[] }>;
}

export function toSplitFile(split: DatasetSplit): SplitFile {
  const part = (records: readonly DatasetRecord[]) => ({
    counts: countClasses(records),
    files: records.map((r) => r.file),
  });
  return {
    version: SPLIT_FILE_VERSION,
    seed: split.seed,
    ...(split.fractions ? { fractions: [...split.fractions] as [number, number, number] } : {}),
    ...(split.counts ? { counts: structuredClone(split.counts) } : {}),
    groupedBySubject: split.groupedBySubject,
    classes: [...CLASS_NAMES],
    splits: { train: part(split.train), val: part(split.val), test: part(split.test), unused: part(split.unused) },
  };
}

/**
 * Rebuilds a split from its JSON against a dataset. Every file of the split must be in the dataset
 * and every dataset file in exactly one split (or `unused`), and the per-class counts must match
 * the dataset's labels: a labels file edited after splitting is an error, not a silent change of
 * the test set.
 */
export function splitFromFile(json: unknown, dataset: Dataset, path = 'split.json'): DatasetSplit {
  const bad = (problem: string): never => {
    throw new DatasetError(`split ${path} is not usable`, [{ file: path, problem }]);
  };
  const f = json as Partial<SplitFile>;
  if (typeof f !== 'object' || f === null) bad('not a JSON object');
  if (f.version !== SPLIT_FILE_VERSION)
    bad(`unsupported version ${String(f.version)} (this program reads version ${SPLIT_FILE_VERSION})`);
  if (typeof f.seed !== 'number' || typeof f.splits !== 'object' || f.splits === null) bad('missing seed or splits');
  const byFile = new Map(dataset.records.map((r) => [r.file, r]));
  const placed = new Map<string, string>();
  const problems: DatasetProblem[] = [];
  const parts = {} as Record<SplitName | 'unused', DatasetRecord[]>;
  for (const name of [...SPLIT_NAMES, 'unused'] as const) {
    const entry = f.splits![name] ?? (name === 'unused' ? { counts: { female: 0, male: 0 }, files: [] } : undefined);
    if (!entry || !Array.isArray(entry.files) || entry.files.some((x) => typeof x !== 'string')) {
      bad(`splits.${name}.files must be a list of file names`);
    }
    parts[name] = [];
    for (const file of entry!.files) {
      const record = byFile.get(file);
      const earlier = placed.get(file);
      if (earlier !== undefined) {
        problems.push({ file, problem: `listed in both ${earlier} and ${name}` });
      } else if (!record) {
        problems.push({ file, problem: `in split.json (${name}) but not in the dataset` });
      } else {
        parts[name].push(record);
      }
      placed.set(file, name);
    }
  }
  for (const r of dataset.records) {
    if (placed.has(r.file)) continue;
    const problem = 'in the dataset but not in split.json';
    problems.push(r.line === undefined ? { file: r.file, problem } : { file: r.file, line: r.line, problem });
  }
  // Counts are compared only when membership is right; otherwise they would repeat the same news.
  for (const name of problems.length === 0 ? ([...SPLIT_NAMES, 'unused'] as const) : []) {
    const want = f.splits![name]?.counts;
    const got = countClasses(parts[name]);
    if (want && (want.female !== got.female || want.male !== got.male)) {
      problems.push({
        file: path,
        problem: `${name} was saved with ${want.female} female / ${want.male} male but the dataset's labels now give ${got.female} / ${got.male}`,
      });
    }
  }
  if (problems.length > 0) {
    throw new DatasetError(
      `split ${path} does not match the dataset ${dataset.root} (make a new split or fix the data)`,
      problems,
    );
  }
  return {
    seed: f.seed!,
    ...(f.fractions ? { fractions: f.fractions } : {}),
    ...(f.counts ? { counts: f.counts } : {}),
    groupedBySubject: f.groupedBySubject === true,
    train: parts.train,
    val: parts.val,
    test: parts.test,
    unused: parts.unused,
  };
}
