/** spine-cli evaluate: a run's checkpoint on one of its splits; the paper's confusion matrix and metrics. */
import { join, resolve } from 'node:path';
import {
  applyRunCheckpoint,
  buildModel,
  readyDevice,
  evaluationLoader,
  loadRunSplit,
  readRunCheckpoint,
  readRunRecord,
  writeEvaluation,
} from '../run/run-dir.js';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { MAX_PIXELS_OPTION, maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_OK } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { Command } from './command.js';

const NAME = 'evaluate';

export const evaluateCommand: Command = {
  name: NAME,
  summary: "Evaluate a trained run's checkpoint on its test (or val/train) split: confusion matrix, accuracy, AUC.",
  usage: 'evaluate --run RUN [--split test|val|train] [--checkpoint best|last] [--json]',
  description: [
    "Rebuilds the run's network from its config.json, loads checkpoints/best (highest validation accuracy)",
    "or last, and runs it over the films of one split of the run's split.json. Prints the confusion matrix",
    "in the paper's layout (rows true F/M, columns predicted F/M), accuracy with a 95% bootstrap interval,",
    'sensitivity (male), specificity (female), balanced accuracy and ROC AUC; writes',
    'RUN/eval/<split>-<checkpoint>.json and its predictions CSV. --json prints the same report on stdout:',
    '{ accuracy, confusion: [[FF, FM], [MF, MM]], n, sensitivityMale, specificityMale, balancedAccuracy,',
    'rocAuc, accuracyCI95, threshold, split, checkpoint, run }.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote.', required: true },
    split: { type: 'string', value: 'NAME', description: 'test, val or train.', defaultText: 'test' },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Image loading threads (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    cache: {
      type: 'string',
      value: 'DIR',
      description: 'Cache of decoded, resized films.',
      defaultText: '.spine-cache beside RUN',
    },
    'max-pixels': MAX_PIXELS_OPTION,
    json: { type: 'boolean', description: 'Print the report as JSON on stdout.' },
  },
  examples: [
    'spine-cli evaluate --run runs/q1',
    'spine-cli evaluate --run runs/q1 --split val --checkpoint last --json',
  ],
  async run(values) {
    const run = resolve(values.run as string);
    const splitName = choiceFlag(NAME, 'split', (values.split as string | undefined) ?? 'test', [
      'test',
      'val',
      'train',
    ] as const);
    const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', [
      'best',
      'last',
    ] as const);
    const workers =
      values.workers === undefined ? undefined : integerFlag(NAME, 'workers', values.workers as string, 0, 64);
    const maxPixels = await maxPixelsFlag(NAME, values);
    const cacheDir = resolve((values.cache as string | undefined) ?? join(run, '..', '.spine-cache'));
    const record = await readRunRecord(run);
    const models = await import('@spine/models');
    const tensor = await import('@spine/tensor/node');
    const ckpt = await readRunCheckpoint(models, run, which);
    const split = await loadRunSplit(models, run, record.config);
    const records = split[splitName];
    if (records.length === 0)
      throw new CliError(`the ${splitName} split of ${run} is empty`, 'Choose another --split.');
    await readyDevice(tensor);
    const model = buildModel(models, tensor, record.config);
    const loader = evaluationLoader(models, records, record.config, workers, cacheDir, maxPixels);
    try {
      applyRunCheckpoint(models, run, ckpt, model);
      const bar = new Progress(loader.batchesPerEpoch, { unit: 'batches', label: `evaluate ${splitName}` });
      const ev = await models.evaluate(model, loader, {
        bootstrapSeed: record.config.seed,
        onBatch: (d) => bar.update(d),
      });
      bar.finish();
      const extra = { split: splitName, checkpoint: which, epoch: ckpt.meta.epoch, run };
      const files = await writeEvaluation(models, run, `${splitName}-${which}`, ev, extra);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ ...extra, ...ev.report }, null, 2)}\n`);
      } else {
        process.stdout.write(
          `${splitName} split of ${run} (${ev.report.n} films, ${which} checkpoint, epoch ${ckpt.meta.epoch}):\n${models.formatEvaluation(ev.report)}\n\nWrote ${files.json}\n`,
        );
      }
      return EXIT_OK;
    } finally {
      await loader.close();
      model.dispose();
      await tensor.releaseDevice();
    }
  },
};
