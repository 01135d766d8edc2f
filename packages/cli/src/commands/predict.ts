/**
 * spine-cli predict: a trained run's predicted sex for image files and folders, as CSV; or, with
 * --input DIR --out FILE, for a whole archive, batched and resumable.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { inputTransform } from '../run/config.js';
import { applyRunCheckpoint, buildModel, readRunCheckpoint, readRunRecord, readyDevice } from '../run/run-dir.js';
import { collectImageFiles, displayPath, IMAGE_EXTENSIONS, walkImages, type ImageInputs } from '../report/image-files.js';
import { appendLines, formatPredictionRow, readArchiveCsv, PREDICTION_HEADER, type PredictionRow, type Verdict } from '../report/prediction-csv.js';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { MAX_PIXELS_OPTION, maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { Command } from './command.js';

const NAME = 'predict';

export const predictCommand: Command = {
  name: NAME,
  summary: "Predict the sex for radiographs (files, folders, or a whole archive, resumable) with a trained run's network.",
  usage: 'predict --run RUN FILES_OR_DIRS... [--out FILE] | predict --run RUN --input DIR --out FILE  [--threshold P] [--uncertain-below P] [--batch-size N] [--checkpoint best|last]',
  positionals: 'FILES_OR_DIRS...',
  positionalsOptional: true,
  description: [
    'Folders are searched recursively for PNG, TIFF, JPEG and DICOM files (.png .tif .tiff .jpg .jpeg .dcm',
    '.dicom). Each film is preprocessed as in training (grey, resized to the run\'s input size). The CSV has',
    'the columns file, predicted_sex (F or M), probability_male, uncertain and error: predicted_sex is M when',
    'probability_male >= --threshold; uncertain is "yes" when the probability of the predicted sex (the larger',
    'of P(male) and P(female)) is below --uncertain-below (default 0.6: the network gives neither sex 60%).',
    'A file that cannot be read is listed with the reason in the error column (and on stderr) and the batch',
    'goes on. The CSV is written atomically to --out, or printed on stdout without --out.',
    '',
    'Archives: --input DIR --out FILE predicts every image under DIR (file column relative to DIR) and appends',
    'each batch to FILE as it is done (one write + fsync per batch). Running the same command again skips',
    'every file FILE already lists, unreadable ones included (delete their rows to retry them), so an',
    'interrupted run continues where it stopped. Exit 0 when at least one film was predicted (or nothing was',
    'left to do), 1 when none could be.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote.', required: true },
    input: { type: 'string', value: 'DIR', description: 'An archive folder to predict (recursively), resumable; needs --out.' },
    out: { type: 'string', value: 'FILE', description: 'Where to write the CSV.', defaultText: 'stdout' },
    threshold: { type: 'string', value: 'P', description: 'P(male) at or above which a film is called M.', defaultText: '0.5' },
    'uncertain-below': { type: 'string', value: 'P', description: 'Mark a prediction uncertain when the probability of the predicted sex is below P.', defaultText: '0.6' },
    'batch-size': { type: 'string', value: 'N', description: 'Films per batch (and per CSV append with --input).', defaultText: '16' },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    'max-pixels': MAX_PIXELS_OPTION,
  },
  examples: [
    'spine-cli predict --run runs/q1 films/ --out predictions.csv',
    'spine-cli predict --run runs/q1 film1.png film2.dcm',
    'spine-cli predict --run runs/q1 --input /archive/nhanes --out nhanes-predictions.csv',
  ],
  async run(values, context) {
    const run = resolve(values.run as string);
    const verdict: Verdict = {
      threshold: probabilityFlag('threshold', (values.threshold as string | undefined) ?? '0.5'),
      uncertainBelow: probabilityFlag('uncertain-below', (values['uncertain-below'] as string | undefined) ?? '0.6'),
    };
    const batchSize = integerFlag(NAME, 'batch-size', (values['batch-size'] as string | undefined) ?? '16', 1, 4096);
    const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', ['best', 'last'] as const);
    const maxPixels = await maxPixelsFlag(NAME, values);
    const input = values.input as string | undefined;
    if (input !== undefined && context.positionals.length > 0) throw new UsageError(`give either --input DIR or files and folders, not both (got '${context.positionals[0]}')`, NAME);
    if (input === undefined && context.positionals.length === 0) throw new UsageError('missing FILES_OR_DIRS... (or --input DIR)', NAME);
    if (input !== undefined && values.out === undefined) throw new UsageError('--input needs --out FILE (the CSV that a rerun continues)', NAME);
    const record = await readRunRecord(run);
    const models = await import('@spine/models');

    // What to predict, and how each file is named in the CSV.
    // Files the walk could not list (a broken link) get a row with the reason, like unreadable ones.
    let inputs: ImageInputs;
    let nameOf: (file: string) => string;
    let done = new Set<string>();
    const out = values.out === undefined ? undefined : resolve(values.out as string);
    if (out !== undefined && (await stat(out).catch(() => undefined))?.isDirectory()) throw new CliError(`--out ${out} is a folder`, 'Give the CSV file to write, e.g. --out predictions.csv.');
    if (input !== undefined) {
      const root = resolve(input);
      if (!(await stat(root).catch(() => undefined))?.isDirectory()) throw new CliError(`--input ${root} is not a folder`, 'Pass the folder that holds the archive.');
      nameOf = (file) => displayPath(file, root);
      done = await readArchiveCsv(models, out!);
      const all = await walkImages(root);
      reportFolders(all);
      if (all.files.length + fileProblems(all).length === 0) throw new CliError(`no image files under ${root}`, `The archive should hold ${[...IMAGE_EXTENSIONS].join(' ')} files.`);
      inputs = { files: all.files.filter((f) => !done.has(nameOf(f))), problems: fileProblems(all).filter((p) => !done.has(nameOf(p.path))) };
      const left = inputs.files.length + inputs.problems.length;
      if (done.size > 0) process.stderr.write(`${out} already lists ${done.size} file(s); ${left} left to predict\n`);
      if (left === 0) return EXIT_OK;
    } else {
      const all = await collectImageFiles(context.positionals);
      reportFolders(all);
      inputs = { files: all.files, problems: fileProblems(all) };
      nameOf = (file) => displayPath(file);
      if (inputs.files.length + inputs.problems.length === 0) throw new CliError(`no image files found in ${context.positionals.join(', ')}`, `Name image files, or folders holding ${[...IMAGE_EXTENSIONS].join(' ')} files.`);
    }
    const files = inputs.files;
    const total = files.length + inputs.problems.length;

    const tensor = await import('@spine/tensor/node');
    const ckpt = await readRunCheckpoint(models, run, which);
    await readyDevice(tensor);
    const model = buildModel(models, tensor, record.config);
    const transform = inputTransform(record.config);
    const plane = 3 * transform.width * transform.height;
    const rows: string[] = [];
    const failures: string[] = [];
    const unlisted = inputs.problems.map((p) => {
      failures.push(`${p.path}: ${p.problem}`);
      return formatPredictionRow({ file: nameOf(p.path), error: p.problem }, verdict);
    });
    const bar = new Progress(total, { unit: 'films' });
    try {
      applyRunCheckpoint(models, run, ckpt, model);
      model.eval();
      if (input !== undefined) await appendLines(out!, unlisted);
      else rows.push(...unlisted);
      for (let start = 0; start < files.length; start += batchSize) {
        const chunk = files.slice(start, start + batchSize);
        const inputs = new Float32Array(chunk.length * plane);
        const results: PredictionRow[] = [];
        const ok: number[] = [];
        for (let i = 0; i < chunk.length; i++) {
          results.push({ file: nameOf(chunk[i]!) });
          try {
            await models.loadNetworkInput(chunk[i]!, transform, { out: inputs, offset: ok.length * plane, maxPixels });
            ok.push(i);
          } catch (e) {
            // The reason alone: the CSV has the file in its own column, stderr puts it in front once.
            results[i]!.error = models.fileErrorReason(e);
            failures.push(`${chunk[i]}: ${results[i]!.error}`);
          }
        }
        if (ok.length > 0) {
          const x = tensor.tensor(inputs.subarray(0, ok.length * plane), [ok.length, 3, transform.height, transform.width]);
          const p = tensor.noGrad(() => tensor.scope(() => tensor.softmax(model.forward(x), 1)));
          x.dispose();
          const probs = await p.data();
          p.dispose();
          ok.forEach((i, k) => (results[i]!.probMale = probs[2 * k + 1]!));
        }
        const lines = results.map((r) => formatPredictionRow(r, verdict));
        if (input !== undefined) await appendLines(out!, lines);
        else rows.push(...lines);
        bar.update(unlisted.length + start + chunk.length);
      }
      bar.finish();
    } finally {
      model.dispose();
      await tensor.releaseDevice();
    }
    if (input === undefined) {
      const csv = [PREDICTION_HEADER, ...rows].join('\n') + '\n';
      if (out !== undefined) await models.writeFileAtomic(out, csv);
      else process.stdout.write(csv);
    }
    if (out !== undefined) process.stderr.write(`Wrote ${out}: ${total - failures.length} films predicted${failures.length ? `, ${failures.length} unreadable` : ''}\n`);
    if (failures.length > 0) process.stderr.write(`${failures.length} file(s) could not be read:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
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
