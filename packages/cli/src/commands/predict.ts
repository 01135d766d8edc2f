/**
 * spine-cli predict: a trained run's predicted sex for image files and folders, as CSV; or, with
 * --input DIR --out FILE, for a whole archive, batched and resumable.
 */
import { PREDICTION_HEADER, formatPredictionRow, inputTransform, type Verdict } from '@spine/models/run';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { applyRunCheckpoint, buildModel, readRunCheckpoint, readRunRecord, readyDevice } from '../run/run-dir.js';
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
import { choiceFlag, integerFlag } from '../ui/args.js';
import { MAX_PIXELS_OPTION, maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { Command } from './command.js';
import { predictBatches } from './predict-batches.js';
import { runPredictMerge } from './predict-merge.js';

const NAME = 'predict';

export const predictCommand: Command = {
  name: NAME,
  summary:
    "Predict the sex for radiographs (files, folders, or a whole archive, resumable) with a trained run's network.",
  usage: [
    'predict --run RUN FILES_OR_DIRS... [--out FILE] | predict --run RUN --input DIR --out FILE [--shard K/N|auto]',
    '          [--only-missing] [--labels CSV] [--threshold P] [--uncertain-below P] [--batch-size N] [--workers N] [--checkpoint best|last]',
    '       predict merge SHARD.csv... --input DIR --out FILE [--only-missing] [--labels CSV]',
  ].join('\n'),
  positionals: 'FILES_OR_DIRS...',
  positionalsOptional: true,
  description: [
    'Folders are searched recursively for PNG, TIFF, JPEG and DICOM files (.png .tif .tiff .jpg .jpeg .dcm',
    ".dicom). Each film is preprocessed as in training (grey, resized to the run's input size). The CSV has",
    'the columns file, predicted_sex (F or M), probability_male, uncertain, recorded_sex, recorded_age, agrees',
    'and error: predicted_sex is M when probability_male >= --threshold; uncertain is "yes" when the probability',
    'of the predicted sex (the larger of P(male) and P(female)) is below --uncertain-below (default 0.6: the',
    'network gives neither sex 60%). A file that cannot be read is listed with the reason in the error column',
    '(and on stderr) and the batch goes on. The CSV is written atomically to --out, or printed on stdout without',
    '--out. Films are decoded and preprocessed on --workers threads while the network runs.',
    '',
    'Recorded sex: for a DICOM film, recorded_sex is its PatientSex (0010,0040) as M, F or O (lowercase taken as',
    'upper case; empty when absent, empty or any other value) and recorded_age its PatientAge (0010,1010) as',
    "written; with --labels CSV (train's labels CSV: file relative to --input DIR, or to the CSV's folder, and",
    'sex) recorded_sex comes from the CSV instead. agrees is yes/no where M or F is recorded and the film was',
    'predicted, else empty. The summary on stderr counts the films with M/F, O and no recorded sex (the ones to',
    'fill in; values that are not M, F or O are named), with the agreement rate and its 95% bootstrap CI.',
    '--only-missing predicts only the films with no recorded M or F and lists the others as skipped.',
    '',
    'Archives: --input DIR --out FILE predicts every image under DIR (file column relative to DIR) and appends',
    'each batch to FILE as it is done (one write + fsync per batch). Running the same command again skips',
    'every file FILE already lists, unreadable ones included (delete their rows to retry them), so an',
    'interrupted run continues where it stopped. Exit 0 when at least one film was predicted (or nothing was',
    'left to do), 1 when none could be.',
    '',
    'Many machines: --shard K/N predicts only the films whose path (relative to DIR) hashes to K of N, so N',
    'workers, each with its own --out, split DIR between them without talking; --shard auto reads K and N from a',
    'Slurm job array (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or a Kubernetes',
    'Indexed Job (JOB_COMPLETION_INDEX of SPINE_SHARD_COUNT, which the Job sets to its completions). predict merge',
    "checks that the shards' CSVs list every film of DIR exactly once (missing and duplicated films are listed,",
    'exit 1, nothing written) and writes one CSV, sorted by file, atomically. With --only-missing, films whose',
    'recorded sex is M or F may be absent.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote (required, except for merge).' },
    input: {
      type: 'string',
      value: 'DIR',
      description: 'An archive folder to predict (recursively), resumable; needs --out.',
    },
    out: { type: 'string', value: 'FILE', description: 'Where to write the CSV.', defaultText: 'stdout' },
    threshold: {
      type: 'string',
      value: 'P',
      description: 'P(male) at or above which a film is called M.',
      defaultText: '0.5',
    },
    'uncertain-below': {
      type: 'string',
      value: 'P',
      description: 'Mark a prediction uncertain when the probability of the predicted sex is below P.',
      defaultText: '0.6',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      description: 'Films per batch (and per CSV append with --input).',
      defaultText: '16',
    },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    shard: {
      type: 'string',
      value: 'K/N|auto',
      description: 'With --input: predict only shard K (0 to N-1) of N; auto: from Slurm or Kubernetes.',
    },
    'only-missing': {
      type: 'boolean',
      description: 'Predict only films with no recorded M or F sex (the others are listed as skipped).',
    },
    labels: {
      type: 'string',
      value: 'CSV',
      description: 'A labels CSV (file, sex) to compare with, instead of the DICOM PatientSex.',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Threads decoding films while the network runs (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    'max-pixels': MAX_PIXELS_OPTION,
  },
  examples: [
    'spine-cli predict --run runs/q1 films/ --out predictions.csv',
    'spine-cli predict --run runs/q1 film1.png film2.dcm',
    'spine-cli predict --run runs/q1 --input /archive/nhanes --out nhanes-predictions.csv',
    'spine-cli predict --run runs/q1 --input /archive --out shard-3.csv --shard 3/16 --only-missing',
    'spine-cli predict merge shard-*.csv --input /archive --out archive-predictions.csv',
  ],
  async run(values, context) {
    if (context.positionals[0] === 'merge') return runPredictMerge(values, context.positionals.slice(1));
    if (values.run === undefined) throw new UsageError('missing --run RUN (the run directory train wrote)', NAME);
    const run = resolve(values.run as string);
    const verdict: Verdict = {
      threshold: probabilityFlag('threshold', (values.threshold as string | undefined) ?? '0.5'),
      uncertainBelow: probabilityFlag('uncertain-below', (values['uncertain-below'] as string | undefined) ?? '0.6'),
    };
    const batchSize = integerFlag(NAME, 'batch-size', (values['batch-size'] as string | undefined) ?? '16', 1, 4096);
    const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', [
      'best',
      'last',
    ] as const);
    const maxPixels = await maxPixelsFlag(NAME, values);
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
    const record = await readRunRecord(run);
    const models = await import('@spine/models');

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
      done = await readArchiveCsv(models, out!);
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
            models,
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
        process.stderr.write(recordedSexSummary(models, { rows: [], malformed, skipped, source: sourceName }));
      return EXIT_OK;
    }

    const tensor = await import('@spine/tensor/node');
    const ckpt = await readRunCheckpoint(models, run, which);
    await readyDevice(tensor);
    const model = buildModel(models, tensor, record.config);
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
      applyRunCheckpoint(models, run, ckpt, model);
      model.eval();
      if (input !== undefined) await appendLines(out!, unlisted);
      else rows.push(...unlisted);
      await predictBatches(
        models,
        tensor,
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
      await tensor.releaseDevice();
    }
    const csv = input === undefined ? [PREDICTION_HEADER, ...rows].join('\n') + '\n' : undefined;
    if (csv !== undefined) {
      if (out !== undefined) await models.writeFileAtomic(out, csv);
      else process.stdout.write(csv);
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
      const all =
        csv !== undefined ? parsePredictionCsv(models, out ?? 'stdout', csv, '') : await readArchiveRows(models, out!);
      process.stderr.write(
        recordedSexSummary(models, { rows: all.map((r) => r.fields), malformed, skipped, source: sourceName }),
      );
    }
    return failures.length === total ? EXIT_FAILURE : EXIT_OK;
  },
};

function probabilityFlag(flag: string, text: string): number {
  const n = /^(0|1|0?\.\d+|1\.0*)$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a probability from 0 to 1, got '${text}'`, NAME);
  return n;
}

function fileProblems(inputs: ImageInputs): ImageInputs['problems'] {
  return inputs.problems.filter((p) => p.kind === 'file');
}

/** Folders a walk did not enter (a loop, no permission): a line each, as they hold no row. */
function reportFolders(inputs: ImageInputs): void {
  for (const p of inputs.problems) if (p.kind === 'folder') process.stderr.write(`${p.path}: ${p.problem}\n`);
}
