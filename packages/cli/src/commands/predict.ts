/**
 * spine-cli predict: a trained run's predicted sex for image files and folders, as CSV; or, with
 * --input DIR --out FILE, for a whole archive, batched and resumable.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { formatPredictionRow, inputTransform, PREDICTION_HEADER, type Verdict, writeFileAtomic } from '@spine/models';
import { releaseDevice } from '@spine/tensor/node';
import { applyRunCheckpoint, readRunCheckpoint } from '../run/checkpoint.js';
import { buildModel, readRunRecord, readyDevice } from '../run/run-dir.js';
import {
  collectImageFiles,
  displayPath,
  IMAGE_EXTENSIONS,
  walkImages,
  type ImageInputs,
} from '../predict/image-files.js';
import { parseShardFlag, shardOfFile, type Shard } from '../predict/archive-shard.js';
import { appendLines, parsePredictionCsv, readArchiveCsv, readArchiveRows } from '../predict/prediction-csv.js';
import { readLabelSexes, readRecordedInfo, type RecordedInfo } from '../predict/recorded-sex.js';
import { recordedSexSummary } from '../predict/recorded-sex-summary.js';
import { choiceFlag, integerFlag, probabilityFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { CommandContext, Values } from './command.js';
import { predictBatches } from '../predict/batches.js';
import { checkContinuedCsv, predictedBy, writePredictedBy } from '../predict/predicted-by.js';
import { runPredictMerge } from '../predict/merge.js';

const NAME = 'predict';

export async function run(values: Values, context: CommandContext): Promise<number> {
  if (context.positionals[0] === 'merge') return runPredictMerge(values, context.positionals.slice(1));
  if (values.run === undefined) throw new UsageError('missing --run RUN (the run directory train wrote)', NAME);
  const runDir = resolve(values.run as string);
  const verdict: Verdict = {
    threshold: probabilityFlag(NAME, 'threshold', (values.threshold as string | undefined) ?? '0.5'),
    uncertainBelow: probabilityFlag(
      NAME,
      'uncertain-below',
      (values['uncertain-below'] as string | undefined) ?? '0.6',
    ),
  };
  const batchSize = integerFlag(NAME, 'batch-size', (values['batch-size'] as string | undefined) ?? '16', 1, 4096);
  const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', [
    'best',
    'last',
  ] as const);
  const maxPixels = maxPixelsFlag(NAME, values);
  const workers = integerFlag(
    NAME,
    'workers',
    (values.workers as string | undefined) ?? String(Math.min(2, availableParallelism())),
    0,
    64,
  );
  const onlyMissing = values['only-missing'] === true;
  const sourceName = values.labels === undefined ? 'DICOM PatientSex' : `--labels ${values.labels as string}`;
  const input = values.input as string | undefined;
  if (values.shard !== undefined && input === undefined)
    throw new UsageError('--shard needs --input DIR (it splits an archive folder)', NAME);
  const shard: Shard | undefined =
    values.shard === undefined ? undefined : parseShardFlag(values.shard as string, NAME);
  if (input !== undefined && context.positionals.length > 0)
    throw new UsageError(
      `give either --input DIR or files and folders, not both (got '${context.positionals[0]}')`,
      NAME,
    );
  if (input === undefined && context.positionals.length === 0)
    throw new UsageError('missing FILES_OR_DIRS... (or --input DIR)', NAME);
  if (input !== undefined && values.out === undefined)
    throw new UsageError('--input needs --out FILE (the CSV that a rerun continues)', NAME);
  const record = await readRunRecord(runDir);

  // What to predict, and how each file is named in the CSV.
  // Files the walk could not list (a broken link) get a row with the reason, like unreadable ones.
  let inputs: ImageInputs;
  let nameOf: (file: string) => string;
  let done = new Set<string>();
  const out = values.out === undefined ? undefined : resolve(values.out as string);
  if (out !== undefined && (await stat(out).catch(() => undefined))?.isDirectory())
    throw new CliError(`--out ${out} is a folder`, 'Give the CSV file to write, e.g. --out predictions.csv.');
  if (input !== undefined) {
    const root = resolve(input);
    if (!(await stat(root).catch(() => undefined))?.isDirectory())
      throw new CliError(`--input ${root} is not a folder`, 'Pass the folder that holds the archive.');
    nameOf = (file) => displayPath(file, root);
    done = await readArchiveCsv(out!);
    const all = await walkImages(root);
    reportFolders(all);
    if (all.files.length + fileProblems(all).length === 0)
      throw new CliError(
        `no image files under ${root}`,
        `The archive should hold ${[...IMAGE_EXTENSIONS].join(' ')} files.`,
      );
    let wanted = (f: string) => !done.has(nameOf(f));
    if (shard !== undefined) {
      const inShard = (f: string) => shardOfFile(nameOf(f), shard.count) === shard.index;
      const mine = all.files.filter(inShard).length + fileProblems(all).filter((p) => inShard(p.path)).length;
      process.stderr.write(
        `Shard ${shard.index}/${shard.count} (${shard.source}): ${mine} of the ${all.files.length + fileProblems(all).length} film(s)\n`,
      );
      const notDone = wanted;
      wanted = (f) => inShard(f) && notDone(f);
    }
    inputs = { files: all.files.filter(wanted), problems: fileProblems(all).filter((p) => wanted(p.path)) };
    const left = inputs.files.length + inputs.problems.length;
    if (done.size > 0) process.stderr.write(`${out} already lists ${done.size} file(s); ${left} left to predict\n`);
    if (left === 0) return EXIT_OK;
  } else {
    const all = await collectImageFiles(context.positionals);
    reportFolders(all);
    inputs = { files: all.files, problems: fileProblems(all) };
    nameOf = (file) => displayPath(file);
    if (inputs.files.length + inputs.problems.length === 0)
      throw new CliError(
        `no image files found in ${context.positionals.join(', ')}`,
        `Name image files, or folders holding ${[...IMAGE_EXTENSIONS].join(' ')} files.`,
      );
  }
  let files = inputs.files;

  // What the archive records about each film: the DICOM header, or the labels CSV.
  const labels =
    values.labels === undefined
      ? undefined
      : await readLabelSexes(
          resolve(values.labels as string),
          input !== undefined ? resolve(input) : dirname(resolve(values.labels as string)),
        );
  const recorded = new Map<string, RecordedInfo>();
  const malformed: { file: string; value: string }[] = [];
  let dicomSeen = false;
  const recordedFor = async (file: string): Promise<RecordedInfo> => {
    let info = recorded.get(file);
    if (info) return info;
    info = await readRecordedInfo(file);
    if (info.dicom) dicomSeen = true;
    if (labels !== undefined) info = { sex: labels.get(file) ?? '', age: info.age };
    else if (info.malformed !== undefined) malformed.push({ file: nameOf(file), value: info.malformed });
    recorded.set(file, info);
    return info;
  };
  const skipped: string[] = [];
  if (onlyMissing) {
    const keep: string[] = [];
    // Headers a few dozen at a time: an archive's files are often on network storage.
    for (let i = 0; i < files.length; i += 64) {
      const chunk = files.slice(i, i + 64);
      const sexes = await Promise.all(chunk.map(async (f) => (await recordedFor(f)).sex));
      chunk.forEach((f, k) => (sexes[k] === 'M' || sexes[k] === 'F' ? skipped.push(nameOf(f)) : keep.push(f)));
    }
    files = keep;
  }
  const total = files.length + inputs.problems.length;
  if (input !== undefined && total === 0) {
    if (skipped.length > 0)
      process.stderr.write(recordedSexSummary({ rows: [], malformed, skipped, source: sourceName }));
    return EXIT_OK;
  }

  const ckpt = await readRunCheckpoint(runDir, which);
  const by = predictedBy(ckpt, verdict);
  if (input !== undefined && done.size > 0) await checkContinuedCsv(out!, by);
  await readyDevice();
  const model = buildModel(record.config);
  const transform = inputTransform(record.config.model);
  const rows: string[] = [];
  const failures: string[] = [];
  const unlisted = inputs.problems.map((p) => {
    failures.push(`${p.path}: ${p.problem}`);
    return formatPredictionRow({ file: nameOf(p.path), error: p.problem }, verdict);
  });
  const bar = new Progress(total, { unit: 'films' });
  let finished = unlisted.length;
  // Files named on the command line keep their order in the CSV (the loader goes in path order).
  const lineOf = new Map<string, string>();
  try {
    applyRunCheckpoint(runDir, ckpt, model);
    model.eval();
    // The sidecar comes before the rows it describes: a CSV never has rows of an unrecorded model.
    if (input !== undefined && done.size === 0) await writePredictedBy(out!, by);
    if (input !== undefined) await appendLines(out!, unlisted);
    else rows.push(...unlisted);
    await predictBatches(
      model,
      files,
      { batchSize, transform, workers, ...(maxPixels !== undefined ? { maxPixels } : {}) },
      async (batch) => {
        const infos = await Promise.all(batch.files.map(recordedFor));
        // Each film is seen once from here on: an archive of millions keeps no per-film state.
        for (const f of batch.files) recorded.delete(f);
        const lines = batch.files.map((file, i) => {
          const error = batch.errors.get(i);
          // The reason alone: the CSV has the file in its own column, stderr puts it in front once.
          if (error !== undefined) failures.push(`${file}: ${error}`);
          const p = batch.probMale[i];
          return formatPredictionRow(
            {
              file: nameOf(file),
              recorded: infos[i]!,
              ...(p !== undefined ? { probMale: p } : { error: error ?? 'unreadable' }),
            },
            verdict,
          );
        });
        if (input !== undefined) await appendLines(out!, lines);
        else batch.files.forEach((file, i) => lineOf.set(file, lines[i]!));
        finished += batch.files.length;
        bar.update(finished);
      },
    );
    bar.finish();
    if (input === undefined) rows.push(...files.map((f) => lineOf.get(f)!));
  } finally {
    model.dispose();
    await releaseDevice();
  }
  const csv = input === undefined ? [PREDICTION_HEADER, ...rows].join('\n') + '\n' : undefined;
  if (csv !== undefined) {
    if (out !== undefined) {
      await writePredictedBy(out, by);
      await writeFileAtomic(out, csv);
    } else process.stdout.write(csv);
  }
  if (out !== undefined)
    process.stderr.write(
      `Wrote ${out}: ${total - failures.length} films predicted${failures.length ? `, ${failures.length} unreadable` : ''}\n`,
    );
  if (failures.length > 0)
    process.stderr.write(
      `${failures.length} file(s) could not be read:\n${failures.map((f) => `  ${f}`).join('\n')}\n`,
    );
  if (input !== undefined || labels !== undefined || onlyMissing || dicomSeen) {
    // An archive's summary covers its whole CSV, films predicted by earlier runs included.
    const all = csv !== undefined ? parsePredictionCsv(out ?? 'stdout', csv, '') : await readArchiveRows(out!);
    process.stderr.write(
      recordedSexSummary({ rows: all.map((r) => r.fields), malformed, skipped, source: sourceName }),
    );
  }
  return failures.length === total ? EXIT_FAILURE : EXIT_OK;
}

function fileProblems(inputs: ImageInputs): ImageInputs['problems'] {
  return inputs.problems.filter((p) => p.kind === 'file');
}

/** Folders a walk did not enter (a loop, no permission): a line each, as they hold no row. */
function reportFolders(inputs: ImageInputs): void {
  for (const p of inputs.problems) if (p.kind === 'folder') process.stderr.write(`${p.path}: ${p.problem}\n`);
}
