/** spine-cli synth: synthetic lateral films from @spine/test-data's phantom, with labels.csv and rois.json. */
import { resolve } from 'node:path';
import { generateDataset, type Region } from '@spine/test-data';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { EXIT_OK } from '../ui/errors.js';
import { Progress, formatDuration } from '../ui/progress.js';
import { formatTable } from '../ui/table.js';
import type { Values } from './command.js';

const NAME = 'synth';

export async function run(values: Values): Promise<number> {
  const region = choiceFlag<Region>(NAME, 'region', values.region as string, ['cervical', 'lumbar']);
  const count = integerFlag(NAME, 'count', values.count as string, 1, 10_000_000);
  const seed = integerFlag(NAME, 'seed', (values.seed as string | undefined) ?? '0', 0, 0xffffffff);
  const width = values.width === undefined ? undefined : integerFlag(NAME, 'width', values.width as string, 16, 8192);
  const start = integerFlag(NAME, 'start', (values.start as string | undefined) ?? '0', 0, 0xffffffff);
  const outDir = resolve(values.out as string);
  const progress = new Progress(count, { unit: 'films', label: `synth ${region}` });
  const rows = await generateDataset({
    region,
    count,
    seed,
    outDir,
    width,
    start,
    onProgress: (done) => progress.update(done),
  });
  progress.finish();

  const female = rows.filter((r) => r.sex === 'F').length;
  process.stdout.write(
    [
      `Wrote ${count} ${region} films (seed ${seed}, width ${width ?? 'native'}) to ${outDir} in ${formatDuration(progress.elapsedSeconds())}`,
      '',
      formatTable(
        ['sex', 'films'],
        [
          ['female', female],
          ['male', count - female],
          ['total', count],
        ],
        { ruleBefore: [2] },
      ),
      '',
      `Labels: ${resolve(outDir, 'labels.csv')} (file, sex, age, subject_id, region, ROI box)`,
      `Next:   spine-cli split --data ${values.out as string}`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
