import { classCounts, sortRecords, type Dataset, type DatasetRecord } from './dataset.js';
import { DatasetError, type DatasetProblem } from './errors.js';
import { CLASS_NAMES } from './labels.js';
import { SeededRandom, deriveSeed } from './random.js';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Images per class. */
export interface ClassCounts {
  female: number;
  male: number;
}

/** Images per class in each split, e.g. the paper's Table 1 (see `PAPER_SPLITS`). */
export type SplitCounts = Record<SplitName, ClassCounts>;

export const DEFAULT_FRACTIONS: readonly [number, number, number] = [0.8, 0.1, 0.1];

/** The paper's splits (REFERENCE.md): cervical Table 1, lumbar Table 5. */
export const PAPER_SPLITS: Readonly<Record<'cervical' | 'lumbar', SplitCounts>> = {
  cervical: {
    train: { female: 4000, male: 3680 },
    val: { female: 500, male: 460 },
    test: { female: 553, male: 474 },
  },
  lumbar: {
    train: { female: 2260, male: 3670 },
    val: { female: 280, male: 450 },
    test: { female: 293, male: 475 },
  },
};

export interface SplitOptions {
  /** Default 0. */
  seed?: number;
  /** Fractions of each class for train, val, test (sum 1); default 0.8/0.1/0.1. Ignored with `counts`. */
  fractions?: readonly [number, number, number];
  /** Exact images per class and split; images left over are `unused`. */
  counts?: SplitCounts;
  /** Keep each subject's images in one split; default: when any record has a subject id. */
  groupBySubject?: boolean;
}

export interface DatasetSplit {
  readonly seed: number;
  readonly fractions?: readonly [number, number, number];
  readonly counts?: SplitCounts;
  readonly groupedBySubject: boolean;
  readonly train: readonly DatasetRecord[];
  readonly val: readonly DatasetRecord[];
  readonly test: readonly DatasetRecord[];
  /** Images no split asked for (only with `counts` below the class sizes). */
  readonly unused: readonly DatasetRecord[];
}

/**
 * Stratified, seeded split. Each class is split on its own (so every split keeps the class
 * ratio); with subject ids the units shuffled are subjects, so a person's films never sit in both
 * train and test. The result depends only on the set of records and the seed: records are sorted
 * by file and subjects by id before the shuffle (SeededRandom, one derived stream per class).
 */
export function stratifiedSplit(dataset: Dataset | readonly DatasetRecord[], options: SplitOptions = {}): DatasetSplit {
  const records = sortRecords('records' in dataset ? dataset.records : dataset);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw splitError(`seed must be an integer in 0..2^32-1, got ${seed}`);
  }
  const grouped = options.groupBySubject ?? records.some((r) => r.subjectId !== undefined);
  const fractions = options.counts ? undefined : checkFractions(options.fractions ?? DEFAULT_FRACTIONS);
  const available = classCounts(records);
  if (options.counts) checkCounts(options.counts, available);
  const out: Record<SplitName | 'unused', DatasetRecord[]> = { train: [], val: [], test: [], unused: [] };
  const problems: DatasetProblem[] = [];
  for (const label of [0, 1] as const) {
    const name = CLASS_NAMES[label];
    const groups = groupRecords(
      records.filter((r) => r.label === label),
      grouped,
    );
    new SeededRandom(deriveSeed(seed, label)).shuffle(groups);
    const targets = options.counts
      ? SPLIT_NAMES.map((s) => options.counts![s][name])
      : largestRemainder(available[label], fractions!);
    const parts = options.counts ? fillExactly(groups, targets) : fillByMidpoint(groups, targets);
    SPLIT_NAMES.forEach((s, i) => {
      const got = parts[i]!.length;
      if (options.counts && got !== targets[i]) {
        problems.push({
          file: 'split',
          problem: `${s} needs exactly ${targets[i]} ${name} images but whole subjects give ${got}; adjust the counts or split without grouping`,
        });
      }
      out[s].push(...parts[i]!);
    });
    out.unused.push(...parts[3]!);
  }
  if (problems.length > 0) throw new DatasetError('the requested split cannot be made', problems);
  return {
    seed,
    ...(fractions ? { fractions } : { counts: structuredClone(options.counts!) }),
    groupedBySubject: grouped,
    train: sortRecords(out.train),
    val: sortRecords(out.val),
    test: sortRecords(out.test),
    unused: sortRecords(out.unused),
  };
}

/** Per-class image counts of a list of records, as a ClassCounts. */
export function countClasses(records: readonly DatasetRecord[]): ClassCounts {
  const [female, male] = classCounts(records);
  return { female, male };
}

function splitError(problem: string): DatasetError {
  return new DatasetError('invalid split options', [{ file: 'split', problem }]);
}

function checkFractions(f: readonly number[]): [number, number, number] {
  const sum = f.reduce((a, b) => a + b, 0);
  if (f.length !== 3 || f.some((x) => !Number.isFinite(x) || x < 0) || Math.abs(sum - 1) > 1e-6) {
    throw splitError(
      `fractions must be three non-negative numbers (train, val, test) summing to 1, got ${f.join('/')}`,
    );
  }
  return [f[0]!, f[1]!, f[2]!];
}

function checkCounts(counts: SplitCounts, available: [number, number]): void {
  const problems: DatasetProblem[] = [];
  for (const label of [0, 1] as const) {
    const name = CLASS_NAMES[label];
    const asked = SPLIT_NAMES.map((s) => counts[s]?.[name]);
    if (asked.some((n) => !Number.isInteger(n) || n! < 0)) {
      problems.push({
        file: 'split',
        problem: `counts for ${name} must be non-negative integers for train, val and test, got ${asked.join('/')}`,
      });
      continue;
    }
    const total = asked.reduce((a, b) => a! + b!, 0)!;
    if (total > available[label]) {
      problems.push({
        file: 'split',
        problem: `counts ask for ${asked.join(' + ')} = ${total} ${name} images but the dataset has ${available[label]}`,
      });
    }
  }
  if (problems.length > 0) throw new DatasetError('the requested split counts do not fit the dataset', problems);
}

/** Units of the shuffle: one subject's records, or single records when not grouping. */
function groupRecords(records: readonly DatasetRecord[], grouped: boolean): DatasetRecord[][] {
  if (!grouped) return records.map((r) => [r]);
  const bySubject = new Map<string, DatasetRecord[]>();
  for (const r of records) {
    // A record without an id is its own subject; the prefix keeps it from colliding with real ids.
    const key = r.subjectId === undefined ? `\u0000${r.file}` : `s:${r.subjectId}`;
    const list = bySubject.get(key) ?? [];
    list.push(r);
    bySubject.set(key, list);
  }
  return [...bySubject.keys()].sort().map((k) => bySubject.get(k)!);
}

/** Integer targets that sum to n and are closest to n * fractions (Hamilton's method; ties go to the earlier split). */
export function largestRemainder(n: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((f) => n * f);
  const out = exact.map(Math.floor);
  let left = n - out.reduce((a, b) => a + b, 0);
  // Remainders rounded so float noise (53 * 0.1 vs 53 * 0.1 + 1e-16) never breaks a tie the wrong way.
  const order = exact
    .map((e, i) => ({ i, r: Math.round((e - Math.floor(e)) * 1e9) }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return out;
}

/**
 * Lays the shuffled groups end to end and cuts at the targets; a group goes where its middle falls,
 * so with single images the counts are exact and with subjects they are as close as whole subjects allow.
 */
function fillByMidpoint(groups: readonly DatasetRecord[][], targets: readonly number[]): DatasetRecord[][] {
  const parts: DatasetRecord[][] = [[], [], [], []];
  const cut1 = targets[0]!;
  const cut2 = cut1 + targets[1]!;
  let at = 0;
  for (const g of groups) {
    const mid = at + g.length / 2;
    parts[mid < cut1 ? 0 : mid < cut2 ? 1 : 2]!.push(...g);
    at += g.length;
  }
  return parts;
}

/**
 * Exact counts: first-fit decreasing over the shuffled groups (a stable sort by size keeps the
 * shuffle among equal sizes), filling train, then val, then test; what fits nowhere is unused.
 */
function fillExactly(groups: readonly DatasetRecord[][], targets: readonly number[]): DatasetRecord[][] {
  const parts: DatasetRecord[][] = [[], [], [], []];
  const left = [...targets];
  for (const g of [...groups].sort((a, b) => b.length - a.length)) {
    const i = left.findIndex((n) => n >= g.length);
    if (i >= 0) left[i]! -= g.length;
    parts[i >= 0 ? i : 3]!.push(...g);
  }
  return parts;
}
