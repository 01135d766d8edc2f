import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '@spine/imaging/node';
import type { Dataset } from './dataset.js';
import { DatasetError } from './errors.js';
import type { DatasetSplit } from './split.js';
import { splitFromFile, toSplitFile } from './split-json.js';

export { SPLIT_FILE_VERSION, splitFromFile, toSplitFile, type SplitFile } from './split-json.js';

/** Writes split.json atomically (temp file + rename), so an existing split survives a crash. */
export async function saveSplit(path: string, split: DatasetSplit): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(toSplitFile(split), null, 1)}\n`);
}

/** Reads split.json and checks it against the dataset; see `splitFromFile`. */
export async function loadSplit(path: string, dataset: Dataset): Promise<DatasetSplit> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found' : `not valid JSON (${(e as Error).message})`;
    throw new DatasetError(`cannot read split ${path}`, [{ file: path, problem }]);
  }
  return splitFromFile(json, dataset, path);
}
