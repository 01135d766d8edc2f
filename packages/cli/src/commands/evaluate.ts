/** spine-cli evaluate: a run's checkpoint on one of its splits; the paper's confusion matrix and metrics. */
import { join, resolve } from 'node:path';
import { evaluate, formatEvaluation } from '@spine/models';
import { releaseDevice } from '@spine/tensor/node';
import { applyRunCheckpoint, readRunCheckpoint } from '../run/checkpoint.js';
import {
  buildModel,
  evaluationLoader,
  loadRunSplit,
  readRunRecord,
  readyDevice,
  writeEvaluation,
} from '../run/run-dir.js';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_OK } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { Values } from './command.js';

const NAME = 'evaluate';

export async function run(values: Values): Promise<number> {
  const runDir = resolve(values.run as string);
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
  const maxPixels = maxPixelsFlag(NAME, values);
  const cacheDir = resolve((values.cache as string | undefined) ?? join(runDir, '..', '.spine-cache'));
  const record = await readRunRecord(runDir);
  const ckpt = await readRunCheckpoint(runDir, which);
  const split = await loadRunSplit(runDir, record.config);
  const records = split[splitName];
  if (records.length === 0)
    throw new CliError(`the ${splitName} split of ${runDir} is empty`, 'Choose another --split.');
  await readyDevice();
  const model = buildModel(record.config);
  const loader = evaluationLoader(records, record.config, workers, cacheDir, maxPixels);
  try {
    applyRunCheckpoint(runDir, ckpt, model);
    const bar = new Progress(loader.batchesPerEpoch, { unit: 'batches', label: `evaluate ${splitName}` });
    const ev = await evaluate(model, loader, {
      bootstrapSeed: record.config.seed,
      onBatch: (d) => bar.update(d),
    });
    bar.finish();
    const extra = { split: splitName, checkpoint: which, epoch: ckpt.meta.epoch, run: runDir };
    const files = await writeEvaluation(runDir, `${splitName}-${which}`, ev, extra);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...extra, ...ev.report }, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${splitName} split of ${runDir} (${ev.report.n} films, ${which} checkpoint, epoch ${ckpt.meta.epoch}):\n${formatEvaluation(ev.report)}\n\nWrote ${files.json}\n`,
      );
    }
    return EXIT_OK;
  } finally {
    await loader.close();
    model.dispose();
    await releaseDevice();
  }
}
