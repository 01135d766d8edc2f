import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset, DatasetRecord } from './dataset.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import { DatasetError, type DatasetProblem } from './errors.js';
import { DEFAULT_NUMERIC_SEX, describeSexValues, parseSex, type NumericSexCoding } from './labels.js';
import { resolveInside } from './paths.js';
import { validateDataset, type FileToCheck, type ValidateOptions } from './validate.js';

export interface CsvDatasetOptions extends ValidateOptions {
  /** Labels CSV; default `<root>/labels.csv`. Relative paths resolve against the working directory. */
  labels?: string;
  /** Meaning of 0/1 in the sex column; default '0=female,1=male'. */
  numericSex?: NumericSexCoding;
}

const REQUIRED = ['file', 'sex'] as const;

/**
 * Loads a dataset from a folder of images and a labels CSV with columns `file` and `sex`, and
 * optionally `subject_id`, `age`, `region` (other columns are ignored; names are case-insensitive).
 * `file` is relative to the folder. Every row and image is checked first; all problems come back
 * in one DatasetError.
 */
export async function loadCsvDataset(root: string, options: CsvDatasetOptions = {}): Promise<Dataset> {
  const absRoot = resolve(root);
  const labelsPath = resolve(options.labels ?? resolve(absRoot, 'labels.csv'));
  const coding = options.numericSex ?? DEFAULT_NUMERIC_SEX;
  const fail = (problem: string, line?: number): never => {
    const p: DatasetProblem = line === undefined ? { file: labelsPath, problem } : { file: labelsPath, line, problem };
    throw new DatasetError(`cannot read labels ${labelsPath}`, [p]);
  };
  const rootStat = await fs.stat(absRoot).catch(() => undefined);
  if (!rootStat?.isDirectory()) {
    throw new DatasetError(`data folder ${absRoot} not found`, [{ file: absRoot, problem: 'not a directory' }]);
  }
  let text = '';
  try {
    text = await fs.readFile(labelsPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(
      code === 'ENOENT'
        ? 'labels file not found (pass its path, or use class folders female/ and male/)'
        : (e as Error).message,
    );
  }
  const { records, problems, alsoCheck } = recordsFromLabels(
    text,
    labelsPath,
    (name) => resolveInside(absRoot, name),
    coding,
  );
  return validateDataset(absRoot, labelsPath, records, problems, [], { ...options, alsoCheck });
}

/**
 * The rows of a labels CSV's text as records, with every problem of a row (duplicates, unknown
 * sex, bad age, a file outside the folder); `locate` places a row's file name inside the data
 * folder. A CSV that cannot be read as a table is a DatasetError. Files on disk are not touched,
 * so a web page checks a chosen folder with the same rules and messages.
 */
export function recordsFromLabels(
  text: string,
  labelsPath: string,
  locate: (name: string) => { path: string; file: string } | { problem: string },
  coding: NumericSexCoding = DEFAULT_NUMERIC_SEX,
): { records: DatasetRecord[]; problems: DatasetProblem[]; alsoCheck: FileToCheck[] } {
  const fail = (problem: string, line?: number): never => {
    const p: DatasetProblem = line === undefined ? { file: labelsPath, problem } : { file: labelsPath, line, problem };
    throw new DatasetError(`cannot read labels ${labelsPath}`, [p]);
  };
  let table: ReturnType<typeof parseCsv> = { header: [], headerLine: 1, rows: [] };
  try {
    table = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) fail(e.reason, e.line);
    throw e;
  }
  const col = (name: string): number => table.header.indexOf(name);
  const missing = REQUIRED.filter((c) => col(c) < 0);
  if (missing.length > 0) {
    fail(
      `missing column(s) ${missing.join(', ')}; header is: ${table.header.join(', ') || '(empty)'}`,
      table.headerLine,
    );
  }
  const [iFile, iSex, iSubject, iAge, iRegion] = ['file', 'sex', 'subject_id', 'age', 'region'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const problems: DatasetProblem[] = [];
  const records: DatasetRecord[] = [];
  const alsoCheck: FileToCheck[] = [];
  const firstLine = new Map<string, number>();
  for (const row of table.rows) {
    const f = row.fields;
    if (f.every((v) => v.trim() === '')) continue;
    const name = (f[iFile] ?? '').trim();
    const report = (problem: string): void =>
      void problems.push({ file: name || '(no file)', line: row.line, problem });
    if (f.length !== table.header.length) {
      report(`has ${f.length} fields but the header has ${table.header.length}`);
      continue;
    }
    const where = locate(name);
    if ('problem' in where) {
      report(where.problem);
      continue;
    }
    const seen = firstLine.get(where.file);
    if (seen !== undefined) {
      report(`duplicate row: the same file is listed on line ${seen}`);
      continue;
    }
    firstLine.set(where.file, row.line);
    let ok = true;
    const sexText = f[iSex]!;
    const label = parseSex(sexText, coding);
    if (label === undefined) {
      report(`unknown sex ${JSON.stringify(sexText.trim())} (accepted: ${describeSexValues(coding)})`);
      ok = false;
    }
    const ageText = iAge >= 0 ? f[iAge]!.trim() : '';
    const age = ageText === '' ? undefined : Number(ageText);
    if (age !== undefined && !(Number.isFinite(age) && age >= 0)) {
      report(`age ${JSON.stringify(ageText)} is not a non-negative number`);
      ok = false;
    }
    if (!ok || label === undefined) {
      alsoCheck.push({ file: where.file, path: where.path, line: row.line });
      continue;
    }
    const subjectId = iSubject >= 0 ? f[iSubject]!.trim() : '';
    const region = iRegion >= 0 ? f[iRegion]!.trim() : '';
    records.push({
      path: where.path,
      file: where.file,
      label,
      line: row.line,
      ...(subjectId ? { subjectId } : {}),
      ...(age !== undefined ? { age } : {}),
      ...(region ? { region } : {}),
    });
  }
  if (records.length + alsoCheck.length === 0 && problems.length === 0) {
    fail(`no data rows (only a header) in ${labelsPath.split(/[\\/]/).pop()}`);
  }
  return { records, problems, alsoCheck };
}
