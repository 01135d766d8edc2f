import type { SexLabel } from './labels.js';

/** One labelled image of a dataset. */
export interface DatasetRecord {
  /** Absolute path of the image. */
  readonly path: string;
  /**
   * Path relative to the dataset root with '/' separators: the record's identity in split.json and
   * error messages, stable when the folder moves.
   */
  readonly file: string;
  /** 0 = female, 1 = male (see labels.ts). */
  readonly label: SexLabel;
  /** Subject (person) id when the labels file has one; images of one subject never straddle splits. */
  readonly subjectId?: string;
  readonly age?: number;
  readonly region?: string;
  /** 1-based line of the labels CSV the row starts on (absent for folder datasets). */
  readonly line?: number;
}

/** A validated set of records, sorted by `file` so everything downstream is order-independent. */
export interface Dataset {
  /** Absolute path of the data folder; every record lies inside it. */
  readonly root: string;
  /** Where labels came from: the CSV's absolute path, or 'folders' for class subfolders. */
  readonly source: string;
  readonly records: readonly DatasetRecord[];
  /** Files seen but not taken as images (folder datasets: hidden or non-image extensions). */
  readonly skipped: readonly string[];
}

/** Images per class, indexed by label: [female, male]. */
export function classCounts(records: readonly DatasetRecord[]): [number, number] {
  const counts: [number, number] = [0, 0];
  for (const r of records) counts[r.label]++;
  return counts;
}

/** Sorts by `file` (code-unit order, not locale, so every machine agrees). */
export function sortRecords<T extends { readonly file: string }>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
