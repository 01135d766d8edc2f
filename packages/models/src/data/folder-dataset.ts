import { promises as fs } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { Dataset, DatasetRecord } from './dataset.js';
import { DatasetError, type DatasetProblem } from './errors.js';
import { CLASS_NAMES } from './labels.js';
import { validateDataset, type ValidateOptions } from './validate.js';
import { walkFiles } from './walk.js';

/**
 * Extensions taken as images in class folders. Content decides the format, so the list only keeps
 * notes and spreadsheets out; DICOM files often have no extension at all, so none counts too.
 */
export const IMAGE_EXTENSIONS = ['.png', '.tif', '.tiff', '.jpg', '.jpeg', '.dcm', '.dicom', '.ima', '.img', ''];

/**
 * Loads a dataset from class subfolders `female/` and `male/` (names case-insensitive), searched
 * recursively. Hidden entries and files with other extensions are skipped and listed in
 * `dataset.skipped`; symlinks are followed (walk.ts), and what they lead to must stay inside the folder.
 */
export async function loadFolderDataset(root: string, options: ValidateOptions = {}): Promise<Dataset> {
  const absRoot = resolve(root);
  const entries = await fs.readdir(absRoot, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    const problem = e.code === 'ENOENT' ? 'folder not found' : e.code === 'ENOTDIR' ? 'not a directory' : e.message;
    throw new DatasetError(`cannot read data folder ${absRoot}`, [{ file: absRoot, problem }]);
  });
  const problems: DatasetProblem[] = [];
  const records: DatasetRecord[] = [];
  const skipped: string[] = [];
  for (const [label, name] of CLASS_NAMES.entries()) {
    const matches = entries.filter((e) => e.name.toLowerCase() === name && (e.isDirectory() || e.isSymbolicLink()));
    if (matches.length > 1) {
      problems.push({
        file: absRoot,
        problem: `more than one folder for class ${name}: ${matches.map((m) => m.name).join(', ')}`,
      });
    }
    for (const dir of matches) {
      const walked = await walkFiles(join(absRoot, dir.name), {
        accept: (n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()),
        skipHidden: true,
      }).catch((e: NodeJS.ErrnoException) => {
        problems.push({
          file: dir.name,
          problem:
            e.code === 'ENOTDIR'
              ? 'not a folder'
              : e.code === 'ENOENT'
                ? 'symlink points to a missing folder'
                : `cannot read the folder (${e.message})`,
        });
        return { files: [], skipped: [], problems: [] };
      });
      for (const path of walked.files)
        records.push({ path, file: relative(absRoot, path).split(sep).join('/'), label: label as 0 | 1 });
      skipped.push(...walked.skipped);
      for (const p of walked.problems)
        problems.push({ file: relative(absRoot, p.path).split(sep).join('/'), problem: p.problem });
    }
  }
  if (records.length === 0 && problems.length === 0) {
    const found = entries.map((e) => e.name).join(', ') || '(empty)';
    throw new DatasetError(`no class folders in ${absRoot}`, [
      { file: absRoot, problem: `expected subfolders female/ and male/ (or a labels CSV); found: ${found}` },
    ]);
  }
  return validateDataset(
    absRoot,
    absRoot,
    records,
    problems,
    skipped.map((p) => relative(absRoot, p)),
    options,
  );
}
