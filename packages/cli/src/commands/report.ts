/** spine-cli report: a run's self-contained HTML report with its figures as SVG and PNG. */
import { join, resolve } from 'node:path';
import { evaluate } from '@spine/models';
import { releaseDevice } from '@spine/tensor/node';
import { readTestEvaluation } from '../report/run-data.js';
import { writeReport } from '../report/write-report.js';
import { applyRunCheckpoint, tryReadRunCheckpoint } from '../run/checkpoint.js';
import {
  buildModel,
  evaluationLoader,
  loadRunSplit,
  readRunRecord,
  readyDevice,
  writeEvaluation,
} from '../run/run-dir.js';
import { integerFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import type { CommandContext, Values } from './command.js';

const NAME = 'report';

export async function run(values: Values, context: CommandContext): Promise<number> {
  if (context.positionals.length !== 1)
    throw new UsageError(`report takes one run directory, got ${context.positionals.length}`, NAME);
  const runDir = resolve(context.positionals[0]!);
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
  const maxPixels = maxPixelsFlag(NAME, values);
  const cacheDir = resolve((values.cache as string | undefined) ?? join(runDir, '..', '.spine-cache'));
  const record = await readRunRecord(runDir);
  const existing = await readTestEvaluation(runDir);
  // The checkpoint the test evaluation used, else best (highest validation accuracy), else last;
  // none is needed when the evaluation exists and no Grad-CAM pictures are wanted.
  const needsModel = !(gallery === 0 && existing !== null);
  let which: 'best' | 'last' = existing?.checkpoint ?? 'best';
  const advice =
    existing === null
      ? `Evaluate the run with its other checkpoint ('spine-cli evaluate --run ${runDir} --checkpoint last'; the report then uses it), or train the run again into a new --out.`
      : `'spine-cli report ${runDir} --gallery 0' writes the report from the test evaluation, without Grad-CAM pictures; or train the run again into a new --out.`;
  let ckpt = needsModel ? await tryReadRunCheckpoint(runDir, which, advice) : undefined;
  if (needsModel && !ckpt && existing === null)
    ckpt = await tryReadRunCheckpoint(runDir, (which = 'last'), 'Train the run again into a new --out.');
  if (!ckpt) {
    const result = await writeReport(runDir, { galleryCount: gallery, averageFilms });
    process.stderr.write(`Wrote ${result.html} (${result.files.length} files)\n`);
    return EXIT_OK;
  }
  await readyDevice();
  const model = buildModel(record.config);
  try {
    applyRunCheckpoint(runDir, ckpt, model);
    model.eval();
    if (existing === null) {
      const split = await loadRunSplit(runDir, record.config);
      if (split.test.length > 0) {
        const loader = evaluationLoader(split.test, record.config, workers, cacheDir, maxPixels);
        try {
          const ev = await evaluate(model, loader, { bootstrapSeed: record.config.seed });
          await writeEvaluation(runDir, `test-${which}`, ev, {
            split: 'test',
            checkpoint: which,
            epoch: ckpt.meta.epoch,
            run: runDir,
          });
        } finally {
          await loader.close();
        }
      }
    }
    let bar: Progress | undefined;
    const result = await writeReport(runDir, {
      ...(gallery > 0 ? { model } : {}),
      galleryCount: gallery,
      averageFilms,
      ...(maxPixels !== undefined ? { maxPixels } : {}),
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
    await releaseDevice();
  }
}
