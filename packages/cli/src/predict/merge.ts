/**
 * spine-cli predict merge: the shards' CSVs of one archive as one CSV, after checking that every
 * shard was predicted by the same model and verdict (predicted-by.ts) and every film of the
 * archive is listed exactly once. Nothing is written unless the checks pass.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { csvField, PREDICTION_HEADER, writeFileAtomic } from '@spine/models';
import { displayPath, walkImages } from './image-files.js';
import { parsePredictionCsv } from './prediction-csv.js';
import {
  predictedByDifference,
  predictedByPath,
  readPredictedBy,
  writePredictedBy,
  type PredictedBy,
} from './predicted-by.js';
import { readLabelSexes, readRecordedInfo } from './recorded-sex.js';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import type { Values } from '../ui/args.js';

const NAME = 'predict';

export async function runPredictMerge(values: Values, shards: readonly string[]): Promise<number> {
  if (shards.length === 0)
    throw new UsageError(
      "predict merge needs the shards' CSVs (predict merge SHARD.csv... --input DIR --out FILE)",
      NAME,
    );
  if (values.input === undefined)
    throw new UsageError(
      'predict merge needs --input DIR (the archive the shards predicted, to check every film is there)',
      NAME,
    );
  if (values.out === undefined) throw new UsageError('predict merge needs --out FILE (the merged CSV)', NAME);
  for (const flag of [
    'run',
    'shard',
    'threshold',
    'uncertain-below',
    'batch-size',
    'checkpoint',
    'workers',
    'max-pixels',
  ]) {
    if (values[flag] !== undefined)
      throw new UsageError(`--${flag} does not apply to predict merge (it only joins CSVs)`, NAME);
  }
  const root = resolve(values.input as string);
  if (!(await stat(root).catch(() => undefined))?.isDirectory())
    throw new CliError(`--input ${root} is not a folder`, 'Pass the archive folder the shards predicted.');
  const out = resolve(values.out as string);

  // Where each film is listed: shard CSV and line.
  const seen = new Map<string, { shard: string; line: number; row: readonly string[] }[]>();
  let first: { path: string; by: PredictedBy } | undefined;
  const unrecorded: string[] = [];
  for (const shard of shards) {
    const path = resolve(shard);
    if (path === out)
      throw new UsageError(`--out ${out} is also one of the shards to merge; write the merged CSV elsewhere`, NAME);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new CliError(
        `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        'Name the CSVs that predict --shard wrote.',
      );
    }
    if (text.length > 0 && !text.endsWith('\n'))
      throw new CliError(
        `${path} ends in a cut-off line: that shard stopped while writing`,
        'Run its predict command again (it continues where it stopped), then merge.',
      );
    const by = await readPredictedBy(path);
    if (by === undefined) unrecorded.push(path);
    else if (first === undefined) first = { path, by };
    else {
      const difference = predictedByDifference(first.by, by);
      if (difference !== undefined)
        throw new CliError(
          `${first.path} and ${path} were predicted differently, ${difference}; nothing written`,
          'Predict every shard with the same --run, --checkpoint, --threshold and --uncertain-below (rerun the odd ones into new CSVs), then merge.',
        );
    }
    for (const r of parsePredictionCsv(path, text, 'Name the CSVs that predict --shard wrote.')) {
      const file = r.fields[0]!;
      const list = seen.get(file) ?? [];
      list.push({ shard: displayPath(path), line: r.line, row: r.fields });
      seen.set(file, list);
    }
  }

  const walk = await walkImages(root);
  const films = [...walk.files, ...walk.problems.filter((p) => p.kind === 'file').map((p) => p.path)].map((f) => ({
    path: f,
    name: displayPath(f, root),
  }));
  const inArchive = new Set(films.map((f) => f.name));
  let missing = films.filter((f) => !seen.has(f.name));
  if (values['only-missing'] === true && missing.length > 0) {
    // Films --only-missing skipped are absent by design: those whose sex is recorded as M or F.
    const labels =
      values.labels === undefined ? undefined : await readLabelSexes(resolve(values.labels as string), root);
    const skippedByDesign = await Promise.all(
      missing.map(async (f) => (labels ? labels.get(f.path) : (await readRecordedInfo(f.path)).sex)),
    );
    missing = missing.filter((_, i) => skippedByDesign[i] !== 'M' && skippedByDesign[i] !== 'F');
  }
  const duplicated = [...seen].filter(([, where]) => where.length > 1);
  const unknown = [...seen.keys()].filter((f) => !inArchive.has(f));
  if (missing.length + duplicated.length + unknown.length > 0) {
    const lines: string[] = [];
    if (missing.length > 0)
      lines.push(`${missing.length} film(s) of ${root} are in no shard:`, ...missing.map((f) => `  ${f.name}`));
    if (duplicated.length > 0)
      lines.push(
        `${duplicated.length} film(s) are listed more than once:`,
        ...duplicated.map(([f, where]) => `  ${f}: ${where.map((w) => `${w.shard} line ${w.line}`).join(', ')}`),
      );
    if (unknown.length > 0)
      lines.push(`${unknown.length} listed film(s) are not in ${root}:`, ...unknown.map((f) => `  ${f}`));
    process.stderr.write(
      `${lines.join('\n')}\nNothing written. Rerun the shards that miss films (each continues where it stopped), and check that every shard predicted the same --input with the same N.\n`,
    );
    return EXIT_FAILURE;
  }
  if (unrecorded.length > 0)
    process.stderr.write(
      `Warning: ${unrecorded.length} shard CSV(s) do not record which model predicted them (no ${predictedByPath('<csv>')} beside them), so they cannot be checked against the others:\n${unrecorded.map((p) => `  ${p}`).join('\n')}\n`,
    );
  // The merged CSV says what predicted it only when every shard did.
  if (unrecorded.length === 0 && first !== undefined) await writePredictedBy(out, first.by);
  else await rm(predictedByPath(out), { force: true });
  const rows = [...seen.keys()].sort().map((f) => seen.get(f)![0]!.row.map(csvField).join(','));
  await writeFileAtomic(out, [PREDICTION_HEADER, ...rows].join('\n') + '\n');
  process.stderr.write(`Wrote ${out}: ${rows.length} film(s) from ${shards.length} shard CSV(s)\n`);
  return EXIT_OK;
}
