/** spine-cli roi index: PHOG descriptors of ROI-marked reference films, saved as an index file. */
import { resolve } from 'node:path';
import { buildIndexFromFolder, CropPool, writeIndex } from '@spine/cbir/node';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { EXIT_OK } from '../ui/errors.js';
import { Progress, formatDuration } from '../ui/progress.js';
import type { Values } from '../ui/args.js';
import { ROI, required } from './flags.js';

export async function runRoiIndex(values: Values, workers: number): Promise<number> {
  const db = resolve(required(values, 'db', 'index', 'the folder of reference films and rois.json'));
  const out = resolve(required(values, 'out', 'index', 'the index file to write'));
  const settings: Record<string, unknown> = {};
  const ww = values['working-width'] as string | undefined;
  if (ww !== undefined)
    settings.workingWidth = ww === 'native' ? null : integerFlag(ROI, 'working-width', ww, 16, 65535);
  if (values.bins !== undefined) settings.bins = integerFlag(ROI, 'bins', values.bins as string, 1, 255);
  if (values.angle !== undefined)
    settings.angle = Number(choiceFlag(ROI, 'angle', values.angle as string, ['180', '360']));
  if (values.levels !== undefined) settings.levels = integerFlag(ROI, 'levels', values.levels as string, 0, 6);

  const maxPixels = maxPixelsFlag(ROI, values);
  const pool = workers > 0 ? await CropPool.create(null, { maxPixels }, workers) : undefined;
  let progress: Progress | undefined;
  let index;
  try {
    index = await buildIndexFromFolder(db, {
      settings,
      maxPixels,
      ...(pool ? { pool } : {}),
      onProgress: (done, total) => {
        progress ??= new Progress(total, { unit: 'films', label: 'roi index' });
        progress.update(done);
      },
    });
  } finally {
    await pool?.close();
  }
  progress?.finish();
  await writeIndex(out, index);
  const s = index.settings;
  process.stdout.write(
    [
      `Wrote ${out}: ${index.references.length} reference films from ${db} in ${formatDuration(progress?.elapsedSeconds() ?? 0)}`,
      `PHOG: ${s.bins} bins over ${s.angle} degrees, ${s.levels} levels (${index.dimension} values), working width ${s.workingWidth ?? 'native'}`,
      `Next: spine-cli roi crop --index ${values.out as string} --data FILMS --out CROPS`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
