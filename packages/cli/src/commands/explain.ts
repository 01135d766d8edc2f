/** spine-cli explain: Grad-CAM overlays for films, and the mean map per sex over a run's test split. */
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CamAverager,
  camOverlay,
  classAverageOverlay,
  csvField,
  explainFiles,
  inputTransform,
  writeFileAtomic,
} from '@spine/models';
import { releaseDevice } from '@spine/tensor/node';
import { encodePng } from '@spine/imaging';
import { readImage } from '@spine/imaging/node';
import { applyRunCheckpoint, readRunCheckpoint } from '../run/checkpoint.js';
import { buildModel, loadRunSplit, readRunRecord, readyDevice } from '../run/run-dir.js';
import { collectImageFiles, displayPath } from '../predict/image-files.js';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { CommandContext, Values } from './command.js';

const NAME = 'explain';
const SEX = ['F', 'M'] as const;

export async function run(values: Values, context: CommandContext): Promise<number> {
  const runDir = resolve(values.run as string);
  const average = values.average === true;
  if (!average && context.positionals.length === 0)
    throw new UsageError('missing FILES_OR_DIRS... (or --average)', NAME);
  const out = resolve((values.out as string | undefined) ?? join(runDir, 'explain'));
  const classChoice = choiceFlag(NAME, 'class', (values.class as string | undefined) ?? 'predicted', [
    'predicted',
    'F',
    'M',
  ] as const);
  const maxSide = integerFlag(NAME, 'max-side', (values['max-side'] as string | undefined) ?? '768', 16, 8192);
  const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', [
    'best',
    'last',
  ] as const);
  const maxPixels = maxPixelsFlag(NAME, values);
  const record = await readRunRecord(runDir);
  const inputs =
    context.positionals.length > 0 ? await collectImageFiles(context.positionals) : { files: [], problems: [] };
  const files = inputs.files;
  const unlisted = inputs.problems.filter((p) => p.kind === 'file');
  if (context.positionals.length > 0 && files.length + unlisted.length === 0)
    throw new CliError(
      `no image files found in ${context.positionals.join(', ')}`,
      'Name image files, or folders that hold some.',
    );
  const split = average ? await loadRunSplit(runDir, record.config) : undefined;
  if (split && split.test.length === 0)
    throw new CliError(`the test split of ${runDir} is empty`, '--average needs test films.');
  const ckpt = await readRunCheckpoint(runDir, which);
  await readyDevice();
  const model = buildModel(record.config);
  const transform = inputTransform(record.config.model);
  let failures = 0;
  for (const p of inputs.problems.filter((q) => q.kind === 'folder')) process.stderr.write(`${p.path}: ${p.problem}\n`);
  try {
    applyRunCheckpoint(runDir, ckpt, model);
    model.eval();
    await fs.mkdir(out, { recursive: true });
    if (files.length + unlisted.length > 0) {
      const rows = ['file,predicted_sex,probability_male,explained_class,overlay,error'];
      for (const p of unlisted) {
        failures++;
        rows.push(`${csvField(displayPath(p.path))},,,,,${csvField(p.problem)}`);
        process.stderr.write(`${p.path}: ${p.problem}\n`);
      }
      const bar = new Progress(files.length, { unit: 'films', label: 'Grad-CAM' });
      let done = 0;
      const fixed = classChoice === 'predicted' ? undefined : SEX.indexOf(classChoice);
      for await (const r of explainFiles(
        model,
        files,
        transform,
        fixed === undefined ? { maxPixels } : { classFor: () => fixed, maxPixels },
      )) {
        const name = displayPath(r.file);
        if ('error' in r) {
          failures++;
          rows.push(`${csvField(name)},,,,,${csvField(r.error)}`);
          process.stderr.write(`${r.file}: ${r.error}\n`);
        } else {
          const overlayName = `${name
            .replace(/\.[A-Za-z0-9]+$/, '')
            .replace(/[\\/]+/g, '__')
            .replace(/^[._]+/, '')}-gradcam.png`;
          const film = await readImage(r.file, { grey: true, maxPixels });
          const overlay = camOverlay(film, r.map, r.height, r.width, transform, { maxSide });
          await writeFileAtomic(join(out, overlayName), encodePng(overlay));
          const pm = r.probabilities[1]!;
          rows.push(
            `${csvField(name)},${pm >= 0.5 ? 'M' : 'F'},${pm.toFixed(6)},${SEX[r.classIndex]},${csvField(overlayName)},`,
          );
        }
        bar.update(++done);
      }
      bar.finish();
      await writeFileAtomic(join(out, 'explain.csv'), rows.join('\n') + '\n');
    }
    if (split) {
      const averager = new CamAverager(transform.width, transform.height);
      const labels = new Map(split.test.map((r) => [r.path, r.label]));
      const bar = new Progress(split.test.length, { unit: 'films', label: 'Grad-CAM (test split)' });
      let done = 0;
      let layer = '';
      const paths = split.test.map((r) => r.path);
      for await (const r of explainFiles(model, paths, transform, {
        classFor: (_i, file) => labels.get(file)!,
        maxPixels,
      })) {
        bar.update(++done);
        if ('error' in r) {
          failures++;
          process.stderr.write(`${r.file}: ${r.error}\n`);
          continue;
        }
        layer = r.layer;
        averager.add(r.classIndex, r.map, r.height, r.width, r.grey, r.aspect);
      }
      bar.finish();
      const summary = [];
      for (const a of averager.averages()) {
        const sex = a.classIndex === 1 ? 'male' : 'female';
        await writeFileAtomic(
          join(out, `average-${sex}.png`),
          encodePng(classAverageOverlay(a, { maxSide: Math.min(maxSide, 512) })),
        );
        summary.push({ sex, films: a.films, picture: `average-${sex}.png` });
      }
      await writeFileAtomic(
        join(out, 'average.json'),
        JSON.stringify(
          { run: runDir, checkpoint: which, layer, split: 'test', explainedClass: 'true sex', classes: summary },
          null,
          2,
        ) + '\n',
      );
    }
  } finally {
    model.dispose();
    await releaseDevice();
  }
  process.stderr.write(`Wrote ${out}${failures ? ` (${failures} film(s) could not be read)` : ''}\n`);
  return failures > 0 && failures === files.length + unlisted.length + (split?.test.length ?? 0)
    ? EXIT_FAILURE
    : EXIT_OK;
}
