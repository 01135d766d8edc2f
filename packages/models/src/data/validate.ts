import { promises as fs } from 'node:fs';
import { decodeImage, isImagingError, sniffFormat } from '@spine/imaging';
import { sortRecords, type Dataset, type DatasetRecord } from './dataset.js';
import { DatasetError, type DatasetProblem } from './errors.js';
import { CLASS_NAMES } from './labels.js';
import { filmDecodeOptions } from './pipeline.js';
import { checkFileInside } from './paths.js';

/**
 * How thoroughly images are checked before work starts. 'decode' decodes every image (catches
 * truncated and corrupt files; seconds per thousand small films, minutes for thousands of
 * full-size ones); 'header' reads only the first bytes and recognises the format; 'auto' decodes
 * sets of up to `AUTO_DECODE_LIMIT` images and sniffs headers above that.
 */
export type ImageCheck = 'decode' | 'header' | 'auto';

export const AUTO_DECODE_LIMIT = 2000;

export interface ValidateOptions {
  /** Default 'auto'. */
  imageCheck?: ImageCheck;
  /** Largest film (width x height) a decode check accepts; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

/** A file to check although its row is already rejected (so one run reports all of its problems). */
export interface FileToCheck {
  readonly file: string;
  readonly path: string;
  readonly line?: number;
}

/**
 * Checks every candidate record (and the problems its loader already found), then throws one
 * DatasetError listing everything wrong, or returns the dataset sorted by file. Nothing is written.
 */
export async function validateDataset(
  root: string,
  source: string,
  records: readonly DatasetRecord[],
  earlier: readonly DatasetProblem[],
  skipped: readonly string[],
  options: ValidateOptions & { alsoCheck?: readonly FileToCheck[] } = {},
): Promise<Dataset> {
  const problems: DatasetProblem[] = [...earlier];
  const realRoot = await fs.realpath(root);
  const files: FileToCheck[] = [...records, ...(options.alsoCheck ?? [])];
  const mode = resolveCheck(options.imageCheck ?? 'auto', files.length);
  const results = await mapLimit(files, 8, async (r) => {
    const fileProblem = await checkFileInside(realRoot, r.path);
    return fileProblem ?? (await checkImage(r.path, mode, options.maxPixels));
  });
  files.forEach((r, i) => {
    const problem = results[i];
    if (problem) problems.push(withLine({ file: r.file, problem }, r.line));
  });
  return datasetFromChecks(root, source, records, problems, skipped);
}

/**
 * The end of validation once every file was checked (`problems` holds what the loader and the file
 * checks found): subjects of two sexes and empty classes are added, then either one DatasetError
 * lists everything or the dataset comes back sorted by file.
 */
export function datasetFromChecks(
  root: string,
  source: string,
  records: readonly DatasetRecord[],
  found: readonly DatasetProblem[],
  skipped: readonly string[],
): Dataset {
  const problems = [...found];
  problems.push(...subjectProblems(records));
  for (const label of [0, 1] as const) {
    if (!records.some((r) => r.label === label)) {
      problems.push({ file: source, problem: `no ${CLASS_NAMES[label]} images (a class is empty)` });
    }
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new DatasetError(`dataset ${root} is not usable; nothing was written`, problems);
  }
  return { root, source, records: sortRecords(records), skipped };
}

function resolveCheck(check: ImageCheck, n: number): 'decode' | 'header' {
  if (check === 'auto') return n <= AUTO_DECODE_LIMIT ? 'decode' : 'header';
  return check;
}

/** The problem sentence for a film that failed to decode. */
export function unreadableImage(e: unknown): string {
  return isImagingError(e) ? `unreadable image: ${e.reason}` : `unreadable image: ${(e as Error).message}`;
}

async function checkImage(
  path: string,
  mode: 'decode' | 'header',
  maxPixels: number | undefined,
): Promise<string | undefined> {
  try {
    if (mode === 'decode') {
      decodeImage(await fs.readFile(path), path, filmDecodeOptions(maxPixels));
      return undefined;
    }
    const handle = await fs.open(path, 'r');
    try {
      const head = new Uint8Array(132);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      if (bytesRead === 0) return 'unreadable image: file is empty';
      if (!sniffFormat(head.subarray(0, bytesRead))) {
        return 'unreadable image: not a recognised image (expected PNG, TIFF, JPEG or DICOM content)';
      }
      return undefined;
    } finally {
      await handle.close();
    }
  } catch (e) {
    return unreadableImage(e);
  }
}

/** A subject must be one sex; a mixed subject means a typo in the labels or in the ids. */
function subjectProblems(records: readonly DatasetRecord[]): DatasetProblem[] {
  const bySubject = new Map<string, DatasetRecord[]>();
  for (const r of records) {
    if (r.subjectId === undefined) continue;
    const list = bySubject.get(r.subjectId) ?? [];
    list.push(r);
    bySubject.set(r.subjectId, list);
  }
  const problems: DatasetProblem[] = [];
  for (const [id, list] of bySubject) {
    const first = list[0]!;
    for (const r of list) {
      if (r.label !== first.label) {
        const where = first.line === undefined ? first.file : `line ${first.line}`;
        const problem = `subject ${id} is ${CLASS_NAMES[r.label]} here but ${CLASS_NAMES[first.label]} at ${where}`;
        problems.push(withLine({ file: r.file, problem }, r.line));
      }
    }
  }
  return problems;
}

function withLine(p: { file: string; problem: string }, line: number | undefined): DatasetProblem {
  return line === undefined ? p : { ...p, line };
}

/** Runs `fn` over items with at most `limit` in flight, keeping result order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
