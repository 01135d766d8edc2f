/**
 * predict's CSV file (its header and rows are @spine/models' run/prediction-csv.ts; recorded-sex.ts
 * reads the recorded columns). For an archive (--input DIR --out FILE) the file grows by one append per batch, each a single write
 * followed by fsync: rewriting the whole file per batch (temp + rename) would cost O(n^2) bytes
 * on a large archive. A crash can at worst leave the last line torn; resuming drops a torn tail
 * (rows are independent, so its films are simply predicted again) and skips every listed file.
 */
import { existsSync, promises as fs } from 'node:fs';
import { parseCsv, PREDICTION_HEADER } from '@spine/models';
import { CliError } from '../ui/errors.js';

/**
 * The rows of a CSV predict wrote (a complete one: no torn tail), each its fields in
 * PREDICTION_HEADER's order; a CSV with other columns is refused, with `hint` as the way out.
 */
export function parsePredictionCsv(
  path: string,
  text: string,
  hint: string,
): { line: number; fields: readonly string[] }[] {
  let table;
  try {
    table = parseCsv(text);
  } catch (e) {
    throw new CliError(`${path} is not a readable CSV (${(e as Error).message})`, hint);
  }
  if (table.header.join(',') !== PREDICTION_HEADER) {
    throw new CliError(
      `${path} has the columns '${table.header.join(',')}', not predict's '${PREDICTION_HEADER}'`,
      hint,
    );
  }
  return table.rows.filter((r) => r.fields.some((f) => f !== ''));
}

/**
 * The files an existing archive CSV already lists (its torn last line, if any, cut off first);
 * none when there is no file yet: it is created by the first append, so a run that fails before
 * predicting anything leaves no CSV behind. A CSV with another header is refused.
 */
export async function readArchiveCsv(path: string): Promise<Set<string>> {
  return new Set((await readArchiveRows(path)).map((r) => r.fields[0]!));
}

/** The complete rows of an archive CSV (see readArchiveCsv), torn tail cut off. */
export async function readArchiveRows(path: string): Promise<{ line: number; fields: readonly string[] }[]> {
  if (!existsSync(path)) return [];
  let text = await fs.readFile(path, 'utf8');
  if (text.length > 0 && !text.endsWith('\n')) {
    // A torn append: keep the complete lines only.
    text = text.slice(0, text.lastIndexOf('\n') + 1);
    await fs.truncate(path, Buffer.byteLength(text));
  }
  if (text.trim() === '') {
    // Nothing but a torn header: the next append starts the file again.
    await fs.truncate(path, 0);
    return [];
  }
  return parsePredictionCsv(
    path,
    text,
    'Move it away or choose another --out; a rerun continues only a CSV that predict wrote.',
  );
}

/**
 * Appends lines in one write (after the header when the file is new or empty) and makes them
 * durable before the next batch starts.
 */
export async function appendLines(path: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const handle = await fs.open(path, 'a');
  try {
    const header = (await handle.stat()).size === 0 ? `${PREDICTION_HEADER}\n` : '';
    await handle.write(header + lines.join('\n') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
