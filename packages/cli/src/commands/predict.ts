/** spine-cli predict: a trained run's predicted sex for image files and folders, as CSV. */
import { promises as fs } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { inputTransform } from '../run/config.js';
import { csvField, buildModel, readRunRecord, readyDevice } from '../run/run-dir.js';
import { choiceFlag } from '../ui/args.js';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { Command } from './command.js';

const NAME = 'predict';
/** Looked for inside folders; a file named on the command line is tried whatever its name. */
const EXTENSIONS = new Set(['.png', '.tif', '.tiff', '.jpg', '.jpeg', '.dcm', '.dicom']);
const BATCH = 16;

export const predictCommand: Command = {
  name: NAME,
  summary: "Predict the sex for radiographs (files or folders, searched recursively) with a trained run's network.",
  usage: 'predict --run RUN FILES_OR_DIRS... [--out FILE] [--threshold P] [--uncertain-below P] [--checkpoint best|last]',
  positionals: 'FILES_OR_DIRS...',
  description: [
    'Folders are searched recursively for PNG, TIFF, JPEG and DICOM files (.png .tif .tiff .jpg .jpeg .dcm',
    '.dicom). Each film is preprocessed as in training (grey, resized to the run\'s input size). The CSV has',
    'the columns file, predicted_sex (F or M), probability_male, uncertain and error: predicted_sex is M when',
    'probability_male >= --threshold; uncertain is "yes" when the larger of P(male) and P(female) is below',
    '--uncertain-below (default 0.6, i.e. the network gives neither sex 60%). A file that cannot be read is',
    'listed with the reason in the error column (and on stderr) and the batch goes on. The CSV is written',
    'atomically to --out, or printed on stdout without --out. Exit 0 when at least one film was predicted,',
    '1 when none could be.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote.', required: true },
    out: { type: 'string', value: 'FILE', description: 'Where to write the CSV.', defaultText: 'stdout' },
    threshold: { type: 'string', value: 'P', description: 'P(male) at or above which a film is called M.', defaultText: '0.5' },
    'uncertain-below': { type: 'string', value: 'P', description: 'Mark a prediction uncertain when its larger class probability is below P.', defaultText: '0.6' },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
  },
  examples: ['spine-cli predict --run runs/q1 films/ --out predictions.csv', 'spine-cli predict --run runs/q1 film1.png film2.dcm'],
  async run(values, context) {
    const run = resolve(values.run as string);
    const threshold = probabilityFlag('threshold', (values.threshold as string | undefined) ?? '0.5');
    const uncertainBelow = probabilityFlag('uncertain-below', (values['uncertain-below'] as string | undefined) ?? '0.6');
    const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', ['best', 'last'] as const);
    const record = await readRunRecord(run);
    const files = await collectFiles(context.positionals);
    if (files.length === 0) throw new CliError(`no image files found in ${context.positionals.join(', ')}`, `Name image files, or folders holding ${[...EXTENSIONS].join(' ')} files.`);
    const models = await import('@spine/models');
    const tensor = await import('@spine/tensor/node');
    const ckpt = await models.readCheckpoint(run, which);
    if (!ckpt) throw new CliError(`${run} has no '${which}' checkpoint`, 'Train it first (spine-cli train --out RUN).');
    await readyDevice(tensor);
    const model = buildModel(models, tensor, record.config);
    models.applyCheckpointTensors(ckpt, model);
    model.eval();
    const size = record.config.model.inputSize;
    const transform = inputTransform(record.config);
    const plane = 3 * size * size;
    const rows: string[] = [];
    const failures: string[] = [];
    const bar = new Progress(files.length, { unit: 'films' });
    const base = process.cwd();
    try {
      for (let start = 0; start < files.length; start += BATCH) {
        const chunk = files.slice(start, start + BATCH);
        const inputs = new Float32Array(chunk.length * plane);
        const ok: number[] = [];
        const errors = new Map<number, string>();
        for (let i = 0; i < chunk.length; i++) {
          try {
            await models.loadNetworkInput(chunk[i]!, transform, { out: inputs, offset: ok.length * plane });
            ok.push(i);
          } catch (e) {
            errors.set(i, oneLine(e));
          }
        }
        let probs: ArrayLike<number> = [];
        if (ok.length > 0) {
          const x = tensor.tensor(inputs.subarray(0, ok.length * plane), [ok.length, 3, size, size]);
          const p = tensor.noGrad(() => tensor.scope(() => tensor.softmax(model.forward(x), 1)));
          x.dispose();
          probs = await p.data();
          p.dispose();
        }
        for (let i = 0; i < chunk.length; i++) {
          // Relative to the current folder when below it, else absolute.
          const rel = relative(base, chunk[i]!);
          const name = csvField(rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : chunk[i]!);
          const k = ok.indexOf(i);
          if (k < 0) {
            failures.push(`${chunk[i]}: ${errors.get(i)}`);
            rows.push(`${name},,,,${csvField(errors.get(i)!)}`);
            continue;
          }
          const pm = probs[2 * k + 1]!;
          rows.push(`${name},${pm >= threshold ? 'M' : 'F'},${pm.toFixed(6)},${Math.max(pm, 1 - pm) < uncertainBelow ? 'yes' : 'no'},`);
        }
        bar.update(start + chunk.length);
      }
      bar.finish();
    } finally {
      model.dispose();
      await tensor.releaseDevice();
    }
    const csv = ['file,predicted_sex,probability_male,uncertain,error', ...rows].join('\n') + '\n';
    if (values.out !== undefined) {
      const out = resolve(values.out as string);
      await models.writeFileAtomic(out, csv);
      process.stderr.write(`Wrote ${out}: ${files.length - failures.length} films predicted${failures.length ? `, ${failures.length} unreadable` : ''}\n`);
    } else {
      process.stdout.write(csv);
    }
    if (failures.length > 0) process.stderr.write(`${failures.length} file(s) could not be read:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    return failures.length === files.length ? EXIT_FAILURE : EXIT_OK;
  },
};

function probabilityFlag(flag: string, text: string): number {
  const n = /^(0|1|0?\.\d+|1\.0*)$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a probability from 0 to 1, got '${text}'`, NAME);
  return n;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Files named, and image files under folders named (recursively, sorted); a missing path is an error. */
async function collectFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st) throw new CliError(`${abs} does not exist`, 'Name image files or folders that exist.');
    if (st.isDirectory()) out.push(...(await walk(abs)));
    else out.push(abs);
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile() && EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(path);
  }
  return out;
}
