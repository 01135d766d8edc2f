/** spine-cli report: a run's self-contained HTML report with its figures as SVG and PNG. */
import { join, resolve } from 'node:path';
import {
  applyRunCheckpoint,
  buildModel,
  evaluationLoader,
  loadRunSplit,
  readRunRecord,
  readyDevice,
  tryReadRunCheckpoint,
  writeEvaluation,
} from '../run/run-dir.js';
import { integerFlag } from '../ui/args.js';
import { EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { Command } from './command.js';

const NAME = 'report';

export const reportCommand: Command = {
  name: NAME,
  summary: "Write a run's report: RUN/report/report.html (self-contained) and every figure as SVG and PNG.",
  usage: 'report RUN [--gallery N] [--average-films N] [--workers N] [--cache DIR]',
  positionals: 'RUN',
  description: [
    "The page holds the configuration, the split table (films per sex per split, like the paper's Tables 1",
    "and 5), loss, accuracy and learning rate per epoch, the confusion matrix in the paper's layout, the ROC",
    'curve with its AUC, a calibration curve, and Grad-CAM pictures: the mean map per sex over the test set (at',
    'most --average-films per sex, evenly spaced, since Grad-CAM takes seconds per film on a CPU adapter) and',
    'a gallery of the most confident right and wrong test films. Charts are Vega-Lite rendered on Node; the',
    'page has no scripts and fetches nothing, so it opens offline. Each chart is also written as RUN/report/',
    '<name>.svg and .png, the Grad-CAM pictures as PNG. train writes this report at the end of every run.',
    'When the run has no test evaluation yet, its checkpoint (best, else last) is evaluated first.',
  ].join('\n'),
  options: {
    gallery: {
      type: 'string',
      value: 'N',
      description: 'Films in each gallery row (0: no Grad-CAM pictures).',
      defaultText: '6',
    },
    'average-films': {
      type: 'string',
      value: 'N',
      description: 'Test films per sex in the Grad-CAM averages, evenly spaced (0: all).',
      defaultText: '100',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Image loading threads for an evaluation (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    cache: {
      type: 'string',
      value: 'DIR',
      description: 'Cache of decoded, resized films.',
      defaultText: '.spine-cache beside RUN',
    },
  },
  examples: ['spine-cli report runs/q1', 'spine-cli report runs/q1 --gallery 0'],
  async run(values, context) {
    if (context.positionals.length !== 1)
      throw new UsageError(`report takes one run directory, got ${context.positionals.length}`, NAME);
    const run = resolve(context.positionals[0]!);
    const gallery = integerFlag(NAME, 'gallery', (values.gallery as string | undefined) ?? '6', 0, 100);
    const averageFilms = integerFlag(
      NAME,
      'average-films',
      (values['average-films'] as string | undefined) ?? '100',
      0,
      1_000_000,
    );
    const workers =
      values.workers === undefined ? undefined : integerFlag(NAME, 'workers', values.workers as string, 0, 64);
    const cacheDir = resolve((values.cache as string | undefined) ?? join(run, '..', '.spine-cache'));
    const record = await readRunRecord(run);
    const models = await import('@spine/models');
    const { readTestEvaluation } = await import('../report/run-data.js');
    const { writeReport } = await import('../report/write-report.js');
    const existing = await readTestEvaluation(models, run);
    // The checkpoint the test evaluation used, else best (highest validation accuracy), else last;
    // none is needed when the evaluation exists and no Grad-CAM pictures are wanted.
    const needsModel = !(gallery === 0 && existing !== null);
    let which: 'best' | 'last' = existing?.checkpoint ?? 'best';
    const advice =
      existing === null
        ? `Evaluate the run with its other checkpoint ('spine-cli evaluate --run ${run} --checkpoint last'; the report then uses it), or train the run again into a new --out.`
        : `'spine-cli report ${run} --gallery 0' writes the report from the test evaluation, without Grad-CAM pictures; or train the run again into a new --out.`;
    let ckpt = needsModel ? await tryReadRunCheckpoint(models, run, which, advice) : undefined;
    if (needsModel && !ckpt && existing === null)
      ckpt = await tryReadRunCheckpoint(models, run, (which = 'last'), 'Train the run again into a new --out.');
    if (!ckpt) {
      const result = await writeReport(models, run, { galleryCount: gallery, averageFilms });
      process.stderr.write(`Wrote ${result.html} (${result.files.length} files)\n`);
      return EXIT_OK;
    }
    const tensor = await import('@spine/tensor/node');
    await readyDevice(tensor);
    const model = buildModel(models, tensor, record.config);
    try {
      applyRunCheckpoint(models, run, ckpt, model);
      model.eval();
      if (existing === null) {
        const split = await loadRunSplit(models, run, record.config);
        if (split.test.length > 0) {
          const loader = evaluationLoader(models, split.test, record.config, workers, cacheDir);
          try {
            const ev = await models.evaluate(model, loader, { bootstrapSeed: record.config.seed });
            await writeEvaluation(models, run, `test-${which}`, ev, {
              split: 'test',
              checkpoint: which,
              epoch: ckpt.meta.epoch,
              run,
            });
          } finally {
            await loader.close();
          }
        }
      }
      let bar: Progress | undefined;
      const result = await writeReport(models, run, {
        ...(gallery > 0 ? { model } : {}),
        galleryCount: gallery,
        averageFilms,
        onProgress: (what, done, total) => {
          bar ??= new Progress(total, { unit: 'films', label: what });
          bar.update(done);
          if (done === total) bar.finish();
        },
      });
      process.stderr.write(`Wrote ${result.html} (${result.files.length} files)\n`);
      return EXIT_OK;
    } finally {
      model.dispose();
      await tensor.releaseDevice();
    }
  },
};
