/** spine-cli synth: synthetic lateral films from @spine/test-data's phantom, with labels.csv and rois.json. */
import { resolve } from 'node:path';
import type { Region } from '@spine/test-data';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { EXIT_OK } from '../ui/errors.js';
import { Progress, formatDuration } from '../ui/progress.js';
import { formatTable } from '../ui/table.js';
import type { Command } from './command.js';

const NAME = 'synth';

export const synthCommand: Command = {
  name: NAME,
  summary: 'Render synthetic cervical or lumbar films with labels (labels.csv, rois.json).',
  usage: 'synth --region cervical|lumbar --count N --out DIR [--seed S] [--width W] [--start I]',
  description: [
    'Films come from a parametric phantom with a designed, measured sex signal (see @spine/test-data).',
    'Files are named <region>-<seed>-<index>.png and written atomically; the same flags give',
    'byte-identical files, so rerunning a command never changes an existing set. Native size is',
    '1462 px wide (cervical) or 2048 px (lumbar); --width renders smaller films directly.',
  ].join('\n'),
  options: {
    region: { type: 'string', value: 'cervical|lumbar', description: 'Which region to render.', required: true },
    count: { type: 'string', value: 'N', description: 'Number of films.', required: true },
    out: { type: 'string', value: 'DIR', description: 'Output folder (created if missing).', required: true },
    seed: { type: 'string', value: 'S', description: 'Seed of the subjects and the rendering.', defaultText: '0' },
    width: {
      type: 'string',
      value: 'W',
      description: 'Film width in pixels, 16 to 8192 (height keeps the aspect).',
      defaultText: 'native',
    },
    start: {
      type: 'string',
      value: 'I',
      description: 'Index of the first subject, to extend a set reproducibly.',
      defaultText: '0',
    },
  },
  examples: [
    'spine-cli synth --region cervical --count 800 --seed 1 --width 128 --out data/cervical',
    'spine-cli synth --region lumbar --count 10 --out /tmp/lumbar-full-size',
    'spine-cli synth --region cervical --count 200 --seed 1 --start 800 --width 128 --out data/cervical-more',
  ],
  async run(values) {
    const region = choiceFlag<Region>(NAME, 'region', values.region as string, ['cervical', 'lumbar']);
    const count = integerFlag(NAME, 'count', values.count as string, 1, 10_000_000);
    const seed = integerFlag(NAME, 'seed', (values.seed as string | undefined) ?? '0', 0, 0xffffffff);
    const width = values.width === undefined ? undefined : integerFlag(NAME, 'width', values.width as string, 16, 8192);
    const start = integerFlag(NAME, 'start', (values.start as string | undefined) ?? '0', 0, 0xffffffff);
    const outDir = resolve(values.out as string);

    // Loaded here, not at the top: --help and usage errors should not pay for the renderer.
    const { generateDataset } = await import('@spine/test-data');
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
  },
};
