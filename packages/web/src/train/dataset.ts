/**
 * A dataset from a folder the user chose: a labels CSV (the folder's labels.csv, or one chosen
 * beside it) or class folders female/ and male/, as `spine-cli train --data` takes them, checked
 * with @spine/models' rules and messages (recordsFromLabels, datasetFromChecks). Every film is
 * decoded once here (in Web Workers, decode-pool.ts), as the CLI's validation does for sets of up
 * to AUTO_DECODE_LIMIT films, and kept resized to the network input (grey, `preprocess`): that is
 * what training reads.
 */
import type { Image } from '@spine/imaging';
import {
  DATASET_IMAGE_EXTENSIONS,
  DatasetError,
  CLASS_NAMES,
  datasetFromChecks,
  recordsFromLabels,
  type Dataset,
  type DatasetProblem,
  type DatasetRecord,
  type FileToCheck,
  type TransformConfig,
} from '@spine/models/browser';
import { DecodePool } from './decode-pool.js';

/** A file of the chosen folder: its path inside the folder ('male/a.png') and the file. */
export interface FolderFile {
  path: string;
  file: File;
}

export interface ChosenFolder {
  /** The folder's name (the first part of every webkitRelativePath). */
  name: string;
  files: FolderFile[];
}

export interface PageDataset {
  folder: string;
  dataset: Dataset;
  /** Each record's film after `preprocess` with the training transform. */
  films: Map<string, Image>;
}

/** The files of an <input webkitdirectory>, by path inside the chosen folder. */
export function chosenFolder(list: readonly File[]): ChosenFolder {
  const name = (list[0]?.webkitRelativePath ?? '').split('/')[0] || 'films';
  return {
    name,
    files: list.map((file) => ({ path: file.webkitRelativePath.split('/').slice(1).join('/') || file.name, file })),
  };
}

/**
 * A file name of the labels CSV inside the folder, with spine-cli's rules (paths.ts's
 * resolveInside): backslashes are separators, absolute paths and paths leaving the folder are refused.
 */
export function placeInFolder(name: string): { path: string; file: string } | { problem: string } {
  const text = name.replace(/\\/g, '/');
  if (text === '') return { problem: 'empty file name' };
  if (text.startsWith('/') || /^[A-Za-z]:\//.test(text))
    return { problem: 'absolute path; file names must be relative to the data folder' };
  const parts: string[] = [];
  for (const part of text.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return { problem: 'path leaves the data folder (..)' };
      parts.pop();
    } else parts.push(part);
  }
  if (parts.length === 0) return { problem: 'path leaves the data folder (..)' };
  const file = parts.join('/');
  return { path: file, file };
}

/**
 * Checks the folder and decodes its films. `labels` is a labels CSV chosen apart from the folder;
 * without it the folder's own labels.csv is used, else its class folders. Throws a DatasetError
 * listing every problem, as spine-cli does; `onFilm(done, total)` reports the decoding.
 */
export async function loadFolderDataset(
  folder: ChosenFolder,
  labels: File | undefined,
  transform: TransformConfig,
  onFilm: (done: number, total: number) => void = () => undefined,
): Promise<PageDataset> {
  const byPath = new Map(folder.files.map((f) => [f.path, f.file]));
  const csv = labels ?? byPath.get('labels.csv');
  let candidates: { records: DatasetRecord[]; problems: DatasetProblem[]; alsoCheck: FileToCheck[] };
  let source: string;
  const skipped: string[] = [];
  if (csv) {
    source = labels ? labels.name : `${folder.name}/labels.csv`;
    candidates = recordsFromLabels(await csv.text(), source, placeInFolder);
  } else {
    source = folder.name;
    candidates = classFolderRecords(folder, skipped);
  }
  const { records, problems, alsoCheck } = candidates;
  const films = new Map<string, Image>();
  const toCheck: FileToCheck[] = [...records, ...alsoCheck];
  const found: (string | undefined)[] = new Array(toCheck.length);
  const pool = new DecodePool({ ...transform, augment: null });
  let done = 0;
  let next = 0;
  // A few films in flight per worker; problems keep the rows' order.
  const lane = async (): Promise<void> => {
    while (next < toCheck.length) {
      const i = next++;
      const r = toCheck[i]!;
      const file = byPath.get(r.path);
      const got = file ? await pool.decode(file, r.file) : { problem: 'file not found' };
      if ('image' in got) films.set(r.file, got.image);
      else found[i] = got.problem;
      onFilm(++done, toCheck.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, lane));
  } finally {
    pool.close();
  }
  toCheck.forEach((r, i) => {
    const problem = found[i];
    if (problem)
      problems.push(r.line === undefined ? { file: r.file, problem } : { file: r.file, line: r.line, problem });
  });
  // Rows already rejected were decoded only to report their films too.
  for (const r of alsoCheck) films.delete(r.file);
  const dataset = datasetFromChecks(folder.name, source, records, problems, skipped);
  return { folder: folder.name, dataset, films };
}

/** Records from class folders female/ and male/ (any depth below them; hidden files skipped). */
function classFolderRecords(
  folder: ChosenFolder,
  skipped: string[],
): { records: DatasetRecord[]; problems: DatasetProblem[]; alsoCheck: FileToCheck[] } {
  const records: DatasetRecord[] = [];
  const problems: DatasetProblem[] = [];
  const tops = new Set(folder.files.map((f) => f.path.split('/')[0]!));
  for (const [label, className] of CLASS_NAMES.entries()) {
    const matches = [...tops].filter(
      (t) => t.toLowerCase() === className && folder.files.some((f) => f.path.startsWith(`${t}/`)),
    );
    if (matches.length > 1)
      problems.push({
        file: folder.name,
        problem: `more than one folder for class ${className}: ${matches.join(', ')}`,
      });
    for (const top of matches) {
      for (const f of folder.files) {
        if (!f.path.startsWith(`${top}/`)) continue;
        const parts = f.path.split('/');
        const base = parts.at(-1)!;
        const dot = base.lastIndexOf('.');
        const ext = dot > 0 ? base.slice(dot).toLowerCase() : '';
        if (parts.some((p) => p.startsWith('.')) || !DATASET_IMAGE_EXTENSIONS.includes(ext)) {
          skipped.push(f.path);
          continue;
        }
        records.push({ path: f.path, file: f.path, label: label as 0 | 1 });
      }
    }
  }
  if (records.length === 0 && problems.length === 0) {
    const found = [...tops].sort().join(', ') || '(empty)';
    throw new DatasetError(`no class folders in ${folder.name}`, [
      { file: folder.name, problem: `expected subfolders female/ and male/ (or a labels CSV); found: ${found}` },
    ]);
  }
  return { records, problems, alsoCheck: [] };
}
